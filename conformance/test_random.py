"""Group "random": extra random draws per op (``--samples N --seed S``; none by default)."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("random")
def test_random(polytape_case, polytape_backend, polytape_dtype, request):
    """One op's values on N random draws per sample, in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
