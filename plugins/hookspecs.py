"""The hooks a polytape plugin can implement.

A plugin is a module or object with functions decorated by
``polytape.plugins.hookimpl``, published under the entry-point group
``polytape`` (or registered at run time with :func:`polytape.plugins.register`).
Hooks run once, when polytape first needs its registries, never per op.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("polytape")


@hookspec
def polytape_register_backends(registry):
    """Add backends to ``registry`` with ``registry.add(BackendInfo(...))``.

    ``BackendInfo.factory`` is called lazily, the first time the backend is used,
    so import heavy libraries inside it, not at module level::

        @hookimpl
        def polytape_register_backends(registry):
            registry.add(BackendInfo(name="mychip", factory=make_mychip_backend))

    Names are lowercase identifiers and unique across plugins.
    """


@hookspec
def polytape_register_ops(registry):
    """Add ops, or kernels for existing ops on a given backend.

    ``registry.add_op(name, vjp=..., jvp=..., default_kernel=...)`` declares a new
    differentiable op; ``registry.add_kernel(backend_name, op_name, fn)``
    overrides one backend's kernel (a fused or faster implementation).
    """


@hookspec
def polytape_conformance_cases(registry):
    """Add cases to the conformance suite with ``registry.add(case)``.

    Each case runs on every backend being certified; see
    :mod:`polytape.conformance` for the case format.
    """
