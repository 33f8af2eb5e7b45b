"""Registers the CuPy backend through polytape's pluggy hook, like any third-party plugin.

Nothing here imports cupy: the factory does, on first use. Without cupy, or
without a CUDA device, the backend is listed as unavailable with the reason.
"""

from polytape.plugins import BackendInfo, hookimpl


def _make():
    from .backend import CupyBackend

    return CupyBackend()  # BackendUnavailableError("cupy is not installed ...") without cupy


@hookimpl
def polytape_register_backends(registry):
    """Add the ``cupy`` backend (priority 40)."""
    registry.add(BackendInfo(name="cupy", factory=_make, priority=40,
                             description="CuPy arrays on CUDA GPUs (the NumPy kernels, on cupy)"))
