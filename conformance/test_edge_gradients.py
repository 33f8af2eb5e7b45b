"""Group "edge gradients": derivatives (VJP and JVP) at signed zeros, subnormals, extremes."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("edge_gradients")
def test_edge_gradients(polytape_case, polytape_backend, polytape_dtype, request):
    """One op's derivative at edge inputs, in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
