"""polytape's plugin system (pluggy): hook specs, loading, and the registries.

Write a plugin::

    from polytape.plugins import BackendInfo, hookimpl

    @hookimpl
    def polytape_register_backends(registry):
        registry.add(BackendInfo(name="mychip", factory=make_backend))

and publish it under the entry-point group ``polytape``, or call
:func:`register` at run time (notebooks, tests).
"""

from __future__ import annotations

from typing import Any

import pluggy

from .registry import BackendInfo, BackendRegistry, BackendStatus, CaseRegistry, OpRegistry

hookimpl = pluggy.HookimplMarker("polytape")

__all__ = [
    "hookimpl", "BackendInfo", "BackendStatus", "BackendRegistry", "OpRegistry",
    "CaseRegistry", "register", "unregister", "get_plugin_system",
]


def get_plugin_system() -> Any:
    """The process-wide :class:`~polytape.plugins.manager.PluginSystem` (loads plugins once)."""
    from .manager import get_plugin_system as _get

    return _get()


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object or module at run time and run its hooks now.

    Raises :class:`~polytape.PluginError` if a hook fails (nothing it added is kept).
    """
    return get_plugin_system().register(plugin, name)


def unregister(name: str) -> None:
    """Remove a run-time plugin and the backends it registered."""
    system = get_plugin_system()
    plugin = system.pm.get_plugin(name)
    if plugin is not None:
        system.pm.unregister(plugin)
    system.backends.remove_plugin(name)
