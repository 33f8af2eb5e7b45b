"""Group "values": every op of the op table against NumPy, plus dtypes and creation."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("values")
def test_value(polytape_case, polytape_backend, polytape_dtype, request):
    """One op's values (all its samples) on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
