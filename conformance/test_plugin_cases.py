"""Cases third-party plugins add through the ``polytape_conformance_cases`` hook."""

import pytest

from polytape.conformance.runner import run_case


@pytest.mark.polytape_cases("plugins")
def test_plugin_case(polytape_case, polytape_backend, polytape_dtype, request):
    """One plugin case on one backend in one dtype."""
    run_case(polytape_case, polytape_backend, polytape_dtype, request.node)
