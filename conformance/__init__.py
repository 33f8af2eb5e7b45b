"""polytape's conformance suite: a pytest plugin that certifies backends and devices.

Run it with ``polytape conformance`` (see :mod:`polytape.conformance.cli`) or
``pytest --pyargs polytape.conformance --polytape-backend NAME``. Third-party
plugins add cases with :class:`ConformanceCase` through the
``polytape_conformance_cases`` hook, and compare with :func:`assert_close` so
the certificate reports the error each case measured.
"""

from polytape.conformance.cases import ConformanceCase
from polytape.conformance.checks import assert_close, assert_dtype
from polytape.conformance.suite import SUITE_VERSION
from polytape.conformance.tolerances import set_tolerance, tolerance

__all__ = ["ConformanceCase", "assert_close", "assert_dtype", "SUITE_VERSION", "set_tolerance",
           "tolerance"]
