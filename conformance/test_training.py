"""Group "training": optimisation problems converge to their known optimum."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("training")
def test_training(polytape_case, polytape_backend, polytape_dtype, request):
    """One training problem on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
