"""How close is close enough: per-dtype tolerance tables, overridable per op and per backend.

A result ``a`` matches the reference ``e`` when ``|a - e| <= atol + rtol * |e|``
elementwise (the rule of ``torch.testing.assert_close`` and ``numpy.isclose``).

* ``value`` -- an op's output against the NumPy float64 reference computed on the
  same (dtype-rounded) inputs. Below float64 the numbers are ``torch.testing``'s
  defaults. In float64 no tolerance may let a float32-accurate kernel pass: an op with
  a ULP bound (:data:`polytape.conformance.ulp.ULP_BOUNDS`, the elementwise functions)
  gets that bound plus 2 ULPs for the NumPy reference's own rounding, as a relative
  tolerance (:func:`float64_value`); every other op (reductions, products, softmax, shape
  ops, linear algebra) gets ``rtol`` 1e-12 against ``max(|expected|, magnitude)``, the
  size of the terms it summed -- thousands of ULPs of headroom for summation order, and
  five orders of magnitude below float32's 1.2e-7.
* ``gradient`` -- first- and second-order gradients and forward-mode JVPs against the
  reference backend's float64 ones. A backward pass chains several rounded ops, so the
  table is looser, in the spirit of JAX's ``default_gradient_tolerance``; and since
  a gradient sums cotangents, its ``atol`` is scaled by the largest reference
  gradient (an error relative to the gradient's size, not to each element's). In
  float64 it is 1e-12: a chain of a dozen ops of a few ULPs each, with room for the
  different summation orders of two backends, and far below float32 accuracy.
* ``finite_difference`` -- float64 gradients against central finite differences
  (truncation and cancellation error of the difference quotient, not rounding).

Integers and bools are exact. Overrides, most specific first: a backend's own
``conformance_tolerances`` mapping (keys ``"kind/dtype/op"`` or ``"kind/dtype"``,
values ``(rtol, atol)``), then :func:`set_tolerance` entries, then
:data:`OP_OVERRIDES`, then the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .ulp import ULP_BOUNDS, ulp_bound

__all__ = ["Tolerance", "VALUE", "GRADIENT", "FINITE_DIFFERENCE", "OP_OVERRIDES",
           "tolerance", "set_tolerance", "float64_value", "KINDS", "FLOAT64_EPS"]

FLOAT64_EPS = 2.0 ** -52


@dataclass(frozen=True)
class Tolerance:
    """``rtol`` and ``atol`` of one comparison, and where they came from."""

    rtol: float
    atol: float
    source: str = "table"

    def allowed(self, expected: Any) -> Any:
        """The largest error allowed at each element of ``expected``."""
        return self.atol + self.rtol * np.abs(expected)


EXACT = Tolerance(0.0, 0.0)

# torch.testing.assert_close's defaults (float16, bfloat16, float32); float64 at float64
# precision (ops with a ULP bound: float64_value).
VALUE: dict[str, Tolerance] = {
    "float16": Tolerance(1e-3, 1e-5),
    "bfloat16": Tolerance(1.6e-2, 1e-5),
    "float32": Tolerance(1.3e-6, 1e-5),
    "float64": Tolerance(1e-12, 1e-12),
}

# Gradients run a chain of rounded ops (forward and backward), so allow a few
# more roundings than one op's value; second-order checks use the same table.
GRADIENT: dict[str, Tolerance] = {
    "float16": Tolerance(1e-2, 1e-3),
    "bfloat16": Tolerance(8e-2, 1e-2),
    "float32": Tolerance(2e-5, 2e-5),
    "float64": Tolerance(1e-12, 1e-12),
}

# Central differences in float64 with a relative step of 1e-5: truncation error
# ~1e-10 and cancellation error ~1e-11 relative to the function's scale.
FINITE_DIFFERENCE: dict[str, Tolerance] = {
    "float64": Tolerance(1e-6, 1e-7),
}

KINDS = {"value": VALUE, "gradient": GRADIENT, "finite_difference": FINITE_DIFFERENCE}

# Per-op exceptions, keyed (kind, dtype, op). Reductions and products sum many
# rounded terms, so their error grows with the number of terms.
OP_OVERRIDES: dict[tuple[str, str, str], Tolerance] = {}
for _op in ("sum", "mean", "matmul", "var", "std", "logsumexp", "cumsum", "prod", "norm", "index_add",
            "tensordot", "einsum", "softmax", "log_softmax"):
    OP_OVERRIDES["value", "float16", _op] = Tolerance(4e-3, 1e-3, f"op {_op}")
    OP_OVERRIDES["value", "bfloat16", _op] = Tolerance(3e-2, 1e-2, f"op {_op}")
    OP_OVERRIDES["value", "float32", _op] = Tolerance(1e-5, 1e-5, f"op {_op}")
# The Hessian of std and norm carries 1/std**3 (1/norm**3): the rounding of a half-precision
# forward pass is amplified about three times more than in a first derivative.
for _op in ("std", "norm"):
    OP_OVERRIDES["gradient", "float16", _op] = Tolerance(3e-2, 3e-3, f"op {_op}")
    OP_OVERRIDES["gradient", "bfloat16", _op] = Tolerance(0.25, 3e-2, f"op {_op}")
# The linalg extension computes half-precision inputs in float32 (no library factorises float16),
# but its samples are built from half-precision inputs (X X^T + nI, shifts): the error of a
# matrix function scales with the size of the whole result, not of each element.
for _op in ("inv", "det", "slogdet", "solve", "cholesky", "eigh", "qr", "svd", "pinv",
            "linalg.matrix_power"):
    OP_OVERRIDES["value", "float16", _op] = Tolerance(4e-3, 5e-3, f"op {_op}")
    OP_OVERRIDES["value", "bfloat16", _op] = Tolerance(3e-2, 5e-2, f"op {_op}")
    OP_OVERRIDES["gradient", "float16", _op] = Tolerance(3e-2, 3e-3, f"op {_op}")
    OP_OVERRIDES["gradient", "bfloat16", _op] = Tolerance(0.25, 3e-2, f"op {_op}")
del _op

_runtime: dict[tuple[str, str, str, str], Tolerance] = {}


def float64_value(op: str | None) -> Tolerance | None:
    """The float64 value tolerance of an op with a ULP bound: its bound plus 2 ULPs (the
    reference's own rounding), relative to the result (``k`` ULPs of ``e`` are at most
    ``k * 2**-52 * |e|``); ``atol`` 4 ULPs of 1.0 for results that cancel to near zero.
    ``None`` for ops without a ULP bound (the table's ``rtol`` 1e-12 applies)."""
    if op is None or op not in ULP_BOUNDS["float64"]:
        return None
    ulps = ulp_bound(op, "float64") + 2.0
    return Tolerance(ulps * FLOAT64_EPS, 4 * FLOAT64_EPS, f"{ulps:g} ULP")


def set_tolerance(kind: str, dtype: str, rtol: float, atol: float, op: str = "*",
                  backend: str = "*") -> None:
    """Override the tolerance of ``kind`` comparisons in ``dtype`` (for one ``op`` and/or
    ``backend``; ``"*"`` means all).

    >>> set_tolerance("value", "float16", 2e-3, 1e-4, op="tan", backend="mychip")
    """
    if kind not in KINDS:
        raise ValueError(f"tolerance kind must be one of {sorted(KINDS)}, got {kind!r}")
    _runtime[kind, str(dtype), op, backend] = Tolerance(float(rtol), float(atol),
                                                        f"set_tolerance({backend}, {op})")


def tolerance(kind: str, dtype: Any, op: str | None = None, backend: Any = None) -> Tolerance:
    """The tolerance for a ``kind`` comparison of ``op``'s result in ``dtype`` on ``backend``.

    ``backend`` is a backend object (its ``conformance_tolerances`` are consulted)
    or a name. Integers and bools are compared exactly.
    """
    name = str(dtype) if dtype is not None else "float64"
    if name not in VALUE:
        return EXACT
    be_name = getattr(backend, "name", backend) or "*"
    own = getattr(backend, "conformance_tolerances", None) or {}
    for key in ((f"{kind}/{name}/{op}",) if op else ()) + (f"{kind}/{name}",):
        if key in own:
            rtol, atol = own[key]
            return Tolerance(float(rtol), float(atol), f"backend {be_name} ({key})")
    for o in ((op, "*") if op else ("*",)):
        for b in (be_name, "*"):
            hit = _runtime.get((kind, name, o, b))
            if hit is not None:
                return hit
    if op and (kind, name, op) in OP_OVERRIDES:
        return OP_OVERRIDES[kind, name, op]
    if kind == "value" and name == "float64":
        by_ulps = float64_value(op)
        if by_ulps is not None:
            return by_ulps
    table = KINDS[kind]
    return table.get(name) or GRADIENT.get(name) or VALUE[name]
