"""Group "tape": the GradientTape rules of docs/architecture.md ("The tape"), one case each."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("tape")
def test_tape(polytape_case, polytape_backend, polytape_dtype, request):
    """One tape rule on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
