"""polytape's plugin system (pluggy): hook specs, loading, and the registries.

Write a plugin::

    from polytape.plugins import BackendInfo, hookimpl

    @hookimpl
    def polytape_register_backends(registry):
        registry.add(BackendInfo(name="mychip", factory=make_backend))

and publish it under the entry-point group ``polytape``, or call
:func:`register` at run time (notebooks, tests). Each entry point loads in
isolation: a broken plugin costs one warning naming it and the reason, and the
rest keeps working. ``POLYTAPE_STRICT_PLUGINS=1`` turns those warnings into
:class:`~polytape.PluginError`, ``POLYTAPE_DISABLE_PLUGINS=a,b`` skips plugins and
``POLYTAPE_TRACE_PLUGINS=1`` traces every hook call. ``docs/writing-a-backend.md``
walks through writing and certifying a backend plugin.
"""

from __future__ import annotations

from typing import Any

import pluggy

from polytape.dispatch import operands, run
from polytape.errors import InvalidArgumentError
from polytape.optable import OPS

from . import manager
from .registry import BackendInfo, BackendRegistry, BackendStatus, CaseRegistry, OpRegistry

hookimpl = pluggy.HookimplMarker("polytape")

__all__ = [
    "hookimpl", "BackendInfo", "BackendStatus", "BackendRegistry", "OpRegistry",
    "CaseRegistry", "register", "unregister", "get_plugin_system", "apply_op",
]


def get_plugin_system() -> Any:
    """The process-wide :class:`~polytape.plugins.manager.PluginSystem` (loads plugins once)."""
    return manager.get_plugin_system()


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object or module at run time and run its hooks now.

    Raises :class:`~polytape.PluginError` if a hook fails (nothing it added is kept).
    """
    return get_plugin_system().register(plugin, name)


def unregister(name: str) -> None:
    """Remove a plugin and everything it added: backends, ops, kernels, conformance cases."""
    get_plugin_system().unregister(name)


def apply_op(name: str, *inputs: Any, **attrs: Any) -> Any:
    """Run op ``name`` (e.g. one a plugin declared with ``registry.add_op``) on ``inputs``.

    Inputs become tensors on one backend with one promoted dtype, as for any
    polytape op; ``attrs`` go to the kernel and the derivative rules as keywords.
    The call is recorded on watching tapes, so it differentiates like a built-in op::

        def swish(x):
            return apply_op("swish", x)
    """
    get_plugin_system()  # plugin ops exist once plugins are loaded
    op = OPS.get(name)
    if op is None:
        raise InvalidArgumentError(f"no op named {name!r}; is the plugin that adds it installed?")
    be, tensors, arrays = operands(name, inputs)
    return run(op, be, tensors, arrays, attrs or None)
