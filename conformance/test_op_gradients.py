"""Group "gradients": every differentiable op's first- and second-order gradients."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("gradients")
def test_gradient(polytape_case, polytape_backend, polytape_dtype, request):
    """One op's VJP on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)


@pytest.mark.polytape_cases("second_order")
def test_second_order(polytape_case, polytape_backend, polytape_dtype, request):
    """One op's second derivatives (nested tapes) on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
