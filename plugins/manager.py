"""Loading plugins: entry points in group ``polytape``, each in isolation.

Environment variables:

* ``POLYTAPE_DISABLE_PLUGINS=a,b`` -- do not load the plugins (entry-point names) ``a`` and ``b``;
* ``POLYTAPE_STRICT_PLUGINS=1`` -- a plugin that fails raises :class:`PluginError`
  instead of a warning;
* ``POLYTAPE_TRACE_PLUGINS=1`` -- print every hook call and its result (debugging).
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import threading
import warnings
from typing import Any

import pluggy

from polytape.errors import PluginError

from . import hookspecs
from .registry import BackendRegistry, CaseRegistry, OpRegistry

__all__ = ["PluginSystem", "get_plugin_system"]

GROUP = "polytape"


class PluginSystem:
    """The pluggy manager and the registries it fills."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.backends = BackendRegistry()
        self.ops = OpRegistry()
        self.cases = CaseRegistry()
        self.failures: dict[str, str] = {}
        self.backends.kernel_overrides = self.ops.kernels
        if os.environ.get("POLYTAPE_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()

    def load_entry_points(self) -> None:
        """Import and register every entry point of group ``polytape`` not disabled."""
        disabled = _disabled()
        for ep in importlib.metadata.entry_points(group=GROUP):
            if ep.name in disabled or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                self.pm.register(plugin, name=ep.name)
            except Exception as exc:
                self._fail(ep.name, f"could not be loaded: {type(exc).__name__}: {exc}")
                continue
            self.run_hooks(ep.name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self._fail(str(getattr(exc, "plugin", "?")), str(exc))

    def register(self, plugin: Any, name: str | None = None) -> str:
        """Register ``plugin`` now and run its hooks; returns the name it got."""
        name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
        if name in _disabled():
            raise PluginError(f"plugin {name!r} is disabled by POLYTAPE_DISABLE_PLUGINS")
        try:
            self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"plugin {name!r} could not be registered: {exc}") from None
        self.run_hooks(name, strict=True)
        return name

    def run_hooks(self, name: str, strict: bool = False) -> None:
        """Call one plugin's hooks; on failure undo what it added and warn (or raise)."""
        plugin = self.pm.get_plugin(name)
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        for hook, registry in (("polytape_register_backends", self.backends),
                               ("polytape_register_ops", self.ops),
                               ("polytape_conformance_cases", self.cases)):
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            registry.current_plugin = name
            n_kernels, n_cases = len(self.ops.kernels), len(self.cases.cases)
            try:
                caller(registry=registry)
            except Exception as exc:
                self.backends.remove_plugin(name)
                del self.ops.kernels[n_kernels:]
                del self.cases.cases[n_cases:]
                self.pm.unregister(plugin)
                msg = f"{hook} failed: {type(exc).__name__}: {exc}"
                if strict:
                    raise PluginError(f"plugin {name!r}: {msg}") from exc
                self._fail(name, msg)
                return
            finally:
                registry.current_plugin = "<runtime>"

    def _fail(self, name: str, reason: str) -> None:
        self.failures[name] = reason
        message = f"polytape plugin {name!r} {reason}" if reason.startswith("could") else \
            f"polytape plugin {name!r}: {reason}"
        if os.environ.get("POLYTAPE_STRICT_PLUGINS", "") not in ("", "0"):
            raise PluginError(message)
        warnings.warn(message + " (it is skipped; set POLYTAPE_STRICT_PLUGINS=1 to fail instead)",
                      RuntimeWarning, stacklevel=3)


def _disabled() -> set[str]:
    raw = os.environ.get("POLYTAPE_DISABLE_PLUGINS", "")
    return {n.strip() for n in raw.split(",") if n.strip()}


_system: PluginSystem | None = None
_lock = threading.RLock()


def get_plugin_system() -> PluginSystem:
    """The process-wide plugin system, loading entry points on first call."""
    global _system
    if _system is None:
        with _lock:
            if _system is None:
                system = PluginSystem()
                _system = system
                try:
                    system.load_entry_points()
                except BaseException:
                    _system = None
                    raise
    return _system


def reset_plugin_system() -> None:
    """Forget loaded plugins and built backends (tests use this to reload with new settings)."""
    global _system
    with _lock:
        _system = None
