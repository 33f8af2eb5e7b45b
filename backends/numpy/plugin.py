"""Registers the NumPy backend through polytape's pluggy hook, like any third-party plugin."""

from polytape.plugins import BackendInfo, hookimpl


def _make():
    from .backend import NumpyBackend

    return NumpyBackend()


@hookimpl
def polytape_register_backends(registry):
    """Add the NumPy backend (highest built-in priority: it is the default)."""
    registry.add(BackendInfo(name="numpy", factory=_make, priority=100,
                             description="NumPy on the host CPU (reference backend)"))


@hookimpl
def polytape_compile_plan(backend, plan):
    """Compile ``pt.function`` plans of the NumPy backend (in-place ufuncs on dead temporaries)."""
    if backend.name != "numpy":
        return None
    from .plan import compile_plan

    return compile_plan(plan)
