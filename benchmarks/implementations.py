"""The implementations a workload can run on, and whether each is importable here.

Names are the columns of the results table: ``polytape-<backend>`` for each
available polytape backend, then the peers ``torch`` (PyTorch autograd),
``autograd`` (HIPS autograd), ``tensorflow`` (eager) and ``numpy`` (a
hand-written forward+backward: the floor for any NumPy tape).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["Implementation", "discover", "FLOOR", "TORCH", "AUTOGRAD", "TENSORFLOW"]

TORCH = "torch"
AUTOGRAD = "autograd"
TENSORFLOW = "tensorflow"
FLOOR = "numpy"
POLYTAPE_BACKENDS = ("numpy", "torch")


@dataclass(frozen=True)
class Implementation:
    """One column: ``kind`` picks the workload's builder, ``backend`` polytape's backend."""

    name: str
    kind: str              # "polytape", "torch", "autograd", "tensorflow" or "numpy"
    available: bool
    version: str = ""
    reason: str = ""       # why it is unavailable
    backend: str = ""      # polytape's backend name, for kind "polytape"

    @property
    def is_polytape(self) -> bool:
        return self.kind == "polytape"


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
    return out
