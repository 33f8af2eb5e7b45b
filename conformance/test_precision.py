"""Group "precision": long sums and dot products against math.fsum."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("precision")
def test_precision(polytape_case, polytape_backend, polytape_dtype, request):
    """One long reduction on one backend in one dtype, within the n-term summation bound."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
