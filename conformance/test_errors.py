"""Group "errors": bad input gives the documented error type, and nothing else breaks."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("errors")
def test_error(polytape_case, polytape_backend, polytape_dtype, request):
    """One kind of bad input on one backend."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
