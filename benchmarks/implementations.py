"""The implementations a workload can run on, and whether each is importable here.

Names are the columns of the results table: ``polytape-<backend>`` for each
available polytape backend, then the peers ``torch`` (PyTorch autograd),
``autograd`` (HIPS autograd), ``tensorflow`` (eager) and ``numpy`` (a
hand-written forward+backward: the floor for any NumPy tape). The traced columns
follow: ``polytape-<backend>-fn`` (the workload under ``pt.function``), ``tf.function``
and ``jax.jit``; a workload without such a builder leaves that column empty.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["Implementation", "discover", "FLOOR", "TORCH", "AUTOGRAD", "TENSORFLOW",
           "PT_FUNCTION", "TF_FUNCTION", "JAX_JIT"]

TORCH = "torch"
AUTOGRAD = "autograd"
TENSORFLOW = "tensorflow"
FLOOR = "numpy"
PT_FUNCTION = "polytape_function"   # kinds of the traced columns (their builders' names)
TF_FUNCTION = "tf_function"
JAX_JIT = "jax_jit"
POLYTAPE_BACKENDS = ("numpy", "torch")


@dataclass(frozen=True)
class Implementation:
    """One column: ``kind`` picks the workload's builder, ``backend`` polytape's backend."""

    name: str
    kind: str              # "polytape", "torch", "autograd", "tensorflow", "numpy", or a traced
                           # kind: "polytape_function", "tf_function", "jax_jit"
    available: bool
    version: str = ""
    reason: str = ""       # why it is unavailable
    backend: str = ""      # polytape's backend name, for kind "polytape"

    @property
    def is_polytape(self) -> bool:
        return self.kind in ("polytape", PT_FUNCTION)


def _module_version(name: str) -> tuple[bool, str, str]:
    try:
        mod = importlib.import_module(name)
    except Exception as exc:  # an optional peer may be absent or broken: say why, go on
        return False, "", f"{name} is not importable here ({type(exc).__name__}: {exc})"
    return True, str(getattr(mod, "__version__", "")), ""


def discover() -> list[Implementation]:
    """Every implementation, available or not, in the table's column order."""
    import polytape as pt

    status = {s.name: s for s in pt.list_backends()}
    out = []
    for be in POLYTAPE_BACKENDS:
        s = status.get(be)
        if s is None:
            out.append(Implementation(f"polytape-{be}", "polytape", False, backend=be,
                                      reason=f"polytape has no {be!r} backend registered"))
        else:
            out.append(Implementation(f"polytape-{be}", "polytape", bool(s.available),
                                      version=pt.__version__, reason=s.reason, backend=be))
    for name in (TORCH, AUTOGRAD, TENSORFLOW, FLOOR):
        ok, version, reason = _module_version(name)
        out.append(Implementation(name, name, ok, version, reason))
    for impl in out[:len(POLYTAPE_BACKENDS)]:
        out.append(Implementation(f"{impl.name}-fn", PT_FUNCTION, impl.available, impl.version,
                                  impl.reason, impl.backend))
    for name, kind, module in (("tf.function", TF_FUNCTION, TENSORFLOW), ("jax.jit", JAX_JIT, "jax")):
        ok, version, reason = _module_version(module)
        out.append(Implementation(name, kind, ok, version, reason))
    return out
