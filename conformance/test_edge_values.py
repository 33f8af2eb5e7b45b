"""Group "edge values": special inputs of every elementwise op, reduction and softmax."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("edge_values")
def test_edge_values(polytape_case, polytape_backend, polytape_dtype, request):
    """One op at NaN, infinities, signed zeros, subnormals and extremes, in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
