"""Every tolerance that differs from the suite's per-dtype tables, with the value it replaces.

A certificate that hides a loosened tolerance says more than the run behind it (a
backend could grant its own ``tan`` a 50% tolerance and still be certified), so
the certificate lists each override with its source:

* ``backend`` -- the backend's own ``conformance_tolerances`` (self-granted);
* ``runtime`` -- :func:`~polytape.conformance.set_tolerance` calls made before or
  during the run (a conftest, a plugin);
* ``suite`` -- the suite's published per-op table
  (:data:`~polytape.conformance.tolerances.OP_OVERRIDES`), the same for every backend.

Only the first two count as the backend's overrides in a verdict's headline.
"""

from __future__ import annotations

from typing import Any

from . import tolerances as tol

__all__ = ["backend_overrides", "suite_overrides", "replaced"]


def _pair(t: tol.Tolerance) -> dict[str, float]:
    return {"rtol": t.rtol, "atol": t.atol}


def replaced(kind: str, dtype: str, op: str | None) -> tol.Tolerance:
    """The tolerance ``kind/dtype/op`` would have without backend or runtime overrides."""
    if dtype not in tol.VALUE:
        return tol.EXACT
    if op and (kind, dtype, op) in tol.OP_OVERRIDES:
        return tol.OP_OVERRIDES[kind, dtype, op]
    table = tol.KINDS.get(kind, tol.VALUE)
    return table.get(dtype) or tol.GRADIENT.get(dtype) or tol.VALUE[dtype]


def backend_overrides(backend: Any, name: str, dtypes: list[str] | None = None) -> list[dict[str, Any]]:
    """The backend-supplied and runtime overrides that apply to ``backend`` (named ``name``).

    Each is ``{"key", "source", "rtol", "atol", "replaces": {"rtol", "atol"}, "looser"}``;
    ``dtypes`` (when given) keeps those for dtypes the run covered.
    """
    out: list[dict[str, Any]] = []
    own = getattr(backend, "conformance_tolerances", None) or {}
    for key, value in dict(own).items():
        kind, _, rest = str(key).partition("/")
        dtype, _, op = rest.partition("/")
        try:
            rtol, atol = (float(v) for v in value)
        except (TypeError, ValueError):
            out.append({"key": str(key), "source": "backend", "error": f"not (rtol, atol): {value!r}"})
            continue
        out.append(_entry(str(key), "backend", kind, dtype, op or None, rtol, atol, f"({key})"))
    for (kind, dtype, op, be), t in sorted(tol._runtime.items()):
        if be not in ("*", name):
            continue
        key = f"{kind}/{dtype}" + ("" if op == "*" else f"/{op}")
        source = "runtime" + ("" if be == "*" else f" ({be})")
        out.append(_entry(key, source, kind, dtype, None if op == "*" else op, t.rtol, t.atol,
                          t.source))
    if dtypes is not None:
        out = [o for o in out if o.get("dtype") is None or o["dtype"] in dtypes]
    return out


def _entry(key: str, source: str, kind: str, dtype: str, op: str | None, rtol: float,
           atol: float, tag: str) -> dict[str, Any]:
    # ``tag`` is how a comparison's tolerance source names this override (see checks.Measurement).
    base = replaced(kind, dtype, op)
    return {"key": key, "source": source, "tag": tag, "kind": kind, "dtype": dtype, "op": op,
            "rtol": rtol, "atol": atol, "replaces": _pair(base),
            "looser": rtol > base.rtol or atol > base.atol}


def suite_overrides() -> list[dict[str, Any]]:
    """The suite's per-op table, each entry with the per-dtype table value it replaces."""
    out = []
    for (kind, dtype, op), t in tol.OP_OVERRIDES.items():
        base = tol.KINDS[kind].get(dtype) or tol.VALUE[dtype]
        out.append({"key": f"{kind}/{dtype}/{op}", "source": "suite", "kind": kind, "dtype": dtype,
                    "op": op, "rtol": t.rtol, "atol": t.atol, "replaces": _pair(base),
                    "looser": True})
    return out
