"""Group "jacobian": tape.jacobian, batch_jacobian and forward mode (ForwardAccumulator)."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("jacobian")
def test_jacobian(polytape_case, polytape_backend, polytape_dtype, request):
    """One Jacobian or JVP case on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
