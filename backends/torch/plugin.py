"""Registers the PyTorch bridge through polytape's pluggy hook, like any third-party plugin.

This module must not import torch: the factory does, the first time the
``torch`` backend is used.
"""

from polytape.errors import BackendUnavailableError
from polytape.plugins import BackendInfo, hookimpl


def _make():
    try:
        import torch  # noqa: F401  (the first use of the backend pays for this import)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"torch is not installed (pip install polytape[torch]): {exc}") from None
    from .backend import TorchBackend

    return TorchBackend()


@hookimpl
def polytape_register_backends(registry):
    """Add the ``torch`` backend (priority 50: below NumPy, above CuPy)."""
    registry.add(BackendInfo(name="torch", factory=_make, priority=50,
                             description="PyTorch tensors on any device torch has "
                                         "(torch autograd off; polytape's tape differentiates)"))


@hookimpl
def polytape_compile_plan(backend, plan):
    """The torch backend's plans as TorchScript graphs (``.plan``); None for other backends
    and for plans it cannot take (the plain replay runs those)."""
    if backend.name != "torch":
        return None
    from .plan import compile_plan

    return compile_plan(plan)
