"""The conformance case format, shared by the built-in groups and third-party plugins.

A case is one check that runs on every backend being certified, once per dtype
it lists. Plugins add their own through the ``polytape_conformance_cases`` hook::

    import numpy as np
    import polytape as pt
    from polytape.conformance import ConformanceCase, assert_close
    from polytape.plugins import hookimpl

    def sigmoid_on_chip(backend, dtype):
        x = pt.constant([0.5, -1.0], dtype=dtype)
        assert_close(pt.sigmoid(x), 1 / (1 + np.exp(-np.array([0.5, -1.0]))), dtype)

    @hookimpl
    def polytape_conformance_cases(registry):
        registry.add(ConformanceCase("sigmoid_on_chip", "vendor", sigmoid_on_chip,
                                     dtypes=("float32", "float16")))

The function receives the backend spec being certified (``"numpy"``,
``"torch:cuda"``; that backend is also the current one while it runs) and the
:class:`~polytape.DType` (``None`` for a case declared ``dtypes=None``). It
passes by returning, fails by raising (``AssertionError`` or anything else),
and may call ``pytest.skip(reason)``. Comparisons made with
:func:`polytape.conformance.assert_close` are reported in the certificate
(max error and the tolerance it met); a case may instead return its measured
error as a float, which is then checked against ``tolerance``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polytape.plugins import get_plugin_system

__all__ = ["ConformanceCase", "FLOAT_DTYPES", "COMPLEX_DTYPES", "ALL_DTYPES", "plugin_cases"]

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
ALL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
              "uint64") + FLOAT_DTYPES + COMPLEX_DTYPES


@dataclass(frozen=True)
class ConformanceCase:
    """One conformance check: ``fn(backend, dtype)`` run once per backend and dtype.

    ``dtypes`` names the dtypes the case runs in (the run keeps those selected
    with ``--dtype`` that the backend supports); ``None`` makes the case
    dtype-independent (it runs once per backend, ``dtype`` is ``None``).
    ``tolerance`` is the largest error a case that *returns* an error may report.
    ``op`` names the op a case checks (per-op tolerance overrides use it).
    """

    name: str
    group: str
    fn: Callable[[str, Any], Any]
    dtypes: tuple[str, ...] | None = FLOAT_DTYPES
    doc: str = ""
    tolerance: float | None = None
    op: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"ConformanceCase.name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.group, str) or not self.group:
            raise TypeError(f"ConformanceCase {self.name!r}: group must be a non-empty string")
        if not callable(self.fn):
            raise TypeError(f"ConformanceCase {self.name!r}: fn must be callable")
        if self.dtypes is not None:
            object.__setattr__(self, "dtypes", tuple(str(d) for d in self.dtypes))


def plugin_cases() -> list[Any]:
    """Everything plugins added through ``polytape_conformance_cases`` (not validated here)."""
    return list(get_plugin_system().cases.cases)
