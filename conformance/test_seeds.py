"""Group "seeds": every example of the seed documents, with TensorFlow's real outputs."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("seeds")
def test_seed(polytape_case, polytape_backend, polytape_dtype, request):
    """One seed example on one backend."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
