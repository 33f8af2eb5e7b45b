"""Running one case on one backend in one dtype, and recording what it measured."""

from __future__ import annotations

import math
from typing import Any

import polytape as pt

from .cases import ConformanceCase
from .checks import Measurement, measuring
from .tolerances import Tolerance

__all__ = ["run_case"]


def run_case(case: ConformanceCase, backend: str, dtype: str | None, node: Any = None) -> None:
    """Run ``case`` with ``backend`` current; its measurement goes to ``node.user_properties``.

    Raises whatever the case raises. A case that returns a number has measured an
    error: it is recorded, and checked against ``case.tolerance`` when one is set.
    """
    dt = pt.as_dtype(dtype) if dtype is not None else None
    measurement = Measurement(backend=pt.get_backend(backend), op=case.op)
    try:
        with measuring(measurement), pt.use_backend(backend):
            result = case.fn(backend, dt)
        if isinstance(result, (int, float)) and not isinstance(result, bool):
            err = float(result)
            if case.tolerance is not None:
                ratio = err / case.tolerance if case.tolerance > 0 else (0.0 if err == 0 else math.inf)
                measurement.add(err, ratio, Tolerance(0.0, case.tolerance, "case tolerance"))
                if not err <= case.tolerance:
                    raise AssertionError(f"{case.name}: measured error {err:.3g} exceeds the "
                                         f"case's tolerance {case.tolerance:g}")
            elif measurement.max_error is None:
                measurement.max_error = err
    finally:
        if node is not None:
            props = measurement.properties()
            if not props and measurement.max_error is not None:
                props = [("polytape_max_error", measurement.max_error)]
            node.user_properties.extend(props)
