"""Groups "layouts", "hygiene" and "integer semantics": the kernel contract beyond values."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("layouts")
def test_layout(polytape_case, polytape_backend, polytape_dtype, request):
    """One op on non-contiguous, 0-d and 0-size inputs, all permutations, batched shapes."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)


@pytest.mark.polytape_cases("hygiene")
def test_hygiene(polytape_case, polytape_backend, polytape_dtype, request):
    """One kernel leaves its inputs alone; reads before variable updates keep their value."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)


@pytest.mark.polytape_cases("integer_semantics")
def test_integer_semantics(polytape_case, polytape_backend, polytape_dtype, request):
    """Exact integer and bool results: division signs, casts, rounding, overflow."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
