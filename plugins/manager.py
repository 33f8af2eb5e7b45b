"""Loading plugins: entry points in group ``polytape``, each in isolation.

For every entry point, in turn: skip it if blocked; import it; check its hook
names; register it with pluggy; run its hooks. A failure at any step undoes what
that plugin added and gives one warning naming the plugin and the reason; every
other plugin and backend keeps working. Environment variables:

* ``POLYTAPE_DISABLE_PLUGINS=a,b`` -- do not load the plugins (entry-point names) ``a`` and ``b``:
  they are blocked with pluggy's ``PluginManager.set_blocked``, so ``pm.is_blocked("a")`` is
  true, their entry points are never imported and registering them at run time fails;
* ``POLYTAPE_STRICT_PLUGINS=1`` -- a plugin that fails raises :class:`~polytape.PluginError`
  instead of warning (CI for a plugin should set it);
* ``POLYTAPE_TRACE_PLUGINS=1`` -- write each loading step and every hook call with its
  arguments and result to stderr (pluggy's tracer).
"""

from __future__ import annotations

import difflib
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

__all__ = ["PluginSystem", "get_plugin_system", "reset_plugin_system", "GROUP"]

GROUP = "polytape"
_HOOKS = ("polytape_register_backends", "polytape_register_ops", "polytape_conformance_cases",
          "polytape_compile_plan")


def strict_mode() -> bool:
    """True when ``POLYTAPE_STRICT_PLUGINS`` is set to anything but ``""`` or ``"0"``."""
    return os.environ.get("POLYTAPE_STRICT_PLUGINS", "") not in ("", "0")


def disabled_plugins() -> set[str]:
    """The plugin names listed in ``POLYTAPE_DISABLE_PLUGINS`` (comma-separated)."""
    raw = os.environ.get("POLYTAPE_DISABLE_PLUGINS", "")
    return {n.strip() for n in raw.split(",") if n.strip()}


class PluginSystem:
    """The pluggy manager and the registries it fills.

    ``failures`` maps each plugin that was skipped to the reason; ``disabled``
    lists the installed entry points that were not loaded because
    ``POLYTAPE_DISABLE_PLUGINS`` blocked their names (``pm.is_blocked(name)``).
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        for name in disabled_plugins():
            self.pm.set_blocked(name)
        self.backends = BackendRegistry()
        self.ops = OpRegistry()
        self.cases = CaseRegistry()
        self.failures: dict[str, str] = {}
        self.disabled: set[str] = set()
        self.backends.kernel_overrides = self.ops.kernels  # one list, shared
        self.backends.report = self._fail
        self._tracing = os.environ.get("POLYTAPE_TRACE_PLUGINS", "") not in ("", "0")
        if self._tracing:
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()

    def _trace(self, message: str) -> None:
        if self._tracing:
            sys.stderr.write(f"polytape plugins: {message}\n")

    # -- loading ------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Import, check, register and run every entry point of group ``polytape`` not blocked."""
        seen: dict[str, str] = {}
        for ep in _in_load_order(importlib.metadata.entry_points(group=GROUP)):
            source = _source(ep)
            if ep.name in seen:
                self._fail(ep.name, f"is provided twice, by {seen[ep.name]} and by {source}; "
                                    f"only the first is loaded")
                continue
            seen[ep.name] = source
            if self.pm.is_blocked(ep.name):
                self.disabled.add(ep.name)
                self._trace(f"{ep.name} ({source}) is disabled by POLYTAPE_DISABLE_PLUGINS")
                continue
            if self.pm.has_plugin(ep.name):
                continue
            self._trace(f"loading {ep.name} = {ep.value} ({source})")
            try:
                plugin = ep.load()
            except (Exception, SystemExit) as exc:
                self._fail(ep.name, f"could not be imported ({ep.value}): "
                                    f"{type(exc).__name__}: {exc}", source)
                continue
            problems = hook_problems(plugin)
            if problems:
                self._fail(ep.name, "; ".join(problems), source)
                continue
            try:
                self.pm.register(plugin, name=ep.name)
            except Exception as exc:
                self._fail(ep.name, f"could not be registered: {type(exc).__name__}: {exc}", source)
                continue
            self.backends.sources[ep.name] = source
            self.run_hooks(ep.name)
        # Every plugin with an unknown hook was skipped above, so this only guards the invariant.
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or "?"
            self._fail(name, str(exc))
            self.unregister(name)

    def register(self, plugin: Any, name: str | None = None) -> str:
        """Register ``plugin`` now and run its hooks; returns the name it got.

        Unlike entry points, a plugin registered this way fails loudly:
        :class:`PluginError`, with nothing it added kept.
        """
        name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
        if self.pm.is_blocked(name):
            raise PluginError(f"plugin {name!r} is disabled by POLYTAPE_DISABLE_PLUGINS")
        problems = hook_problems(plugin)
        if problems:
            raise PluginError(f"plugin {name!r}: {'; '.join(problems)}")
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} could not be registered: {exc}") from None
        self.backends.sources[name] = "<runtime>"
        self.run_hooks(name, strict=True)
        return name

    def unregister(self, name: str) -> None:
        """Remove a plugin and everything it added (backends, ops, kernels, cases)."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.backends.remove_plugin(name)
        self.backends.sources.pop(name, None)
        self.ops.remove_plugin(name)
        self.cases.remove_plugin(name)
        self.backends.refresh_kernels()

    def run_hooks(self, name: str, strict: bool = False) -> None:
        """Call one plugin's hooks; on failure undo what it added and warn (or raise)."""
        plugin = self.pm.get_plugin(name)
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        for hook, registry in (("polytape_register_backends", self.backends),
                               ("polytape_register_ops", self.ops),
                               ("polytape_conformance_cases", self.cases)):
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            registry.current_plugin = name
            try:
                caller(registry=registry)
            except Exception as exc:
                source = self.backends.sources.get(name, "")
                self.unregister(name)
                # A PluginError from a registry already names the plugin and the mistake.
                msg = str(exc) if isinstance(exc, PluginError) else \
                    f"{hook} failed: {type(exc).__name__}: {exc}"
                if strict:
                    raise PluginError(msg if isinstance(exc, PluginError)
                                      else f"plugin {name!r}: {msg}") from exc
                self._fail(name, msg, source)
                return
            finally:
                registry.current_plugin = "<runtime>"
            if hook == "polytape_register_ops":
                self.backends.refresh_kernels()

    def _fail(self, name: str, reason: str, source: str = "") -> None:
        """One warning (or, in strict mode, a :class:`PluginError`) naming the plugin and why."""
        self.failures[name] = reason
        source = source or self.backends.sources.get(name, "")
        where = f" ({source})" if source and not source.startswith("<") else ""
        message = f"polytape plugin {name!r}{where} {reason}" if reason.startswith(("could", "is ")) \
            else f"polytape plugin {name!r}{where}: {reason}"
        self._trace(message)
        if strict_mode():
            raise PluginError(message)
        warnings.warn(message + " (it is skipped; set POLYTAPE_STRICT_PLUGINS=1 to fail instead)",
                      RuntimeWarning, stacklevel=3)


def hook_problems(plugin: Any) -> list[str]:
    """Mistakes in a plugin's hook functions, found before any of them runs.

    * a ``@hookimpl`` whose name is not a polytape hook (a typo: it would never be called);
    * a function named like a hook but not decorated with ``@hookimpl`` (pluggy ignores it);
    * no hook at all.

    >>> hook_problems(object())
    ['implements no polytape hook (expected one of polytape_register_backends, ...)']
    """
    problems = []
    found = False
    for attr in dir(plugin):
        if not attr.startswith("polytape_"):
            continue
        try:
            value = getattr(plugin, attr)
        except Exception:
            continue
        if not callable(value):
            continue
        marked = hasattr(value, "polytape_impl")
        if attr in _HOOKS:
            if marked:
                found = True
            else:
                problems.append(f"{attr} is not decorated with @polytape.plugins.hookimpl, so "
                                "pluggy would never call it")
        elif marked:
            close = difflib.get_close_matches(attr, _HOOKS, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; hooks are {', '.join(_HOOKS)}"
            problems.append(f"has a @hookimpl {attr!r} that is not a polytape hook{hint}")
    if not found and not problems:
        problems.append("implements no polytape hook (expected one of "
                        "polytape_register_backends, ...)")
    return problems


def _in_load_order(eps: Any) -> list[importlib.metadata.EntryPoint]:
    """polytape's own plugins first (a third party cannot take a built-in name), then by name.

    A fixed order makes "first come, first served" for duplicate names reproducible.
    """
    def key(ep: importlib.metadata.EntryPoint) -> tuple[bool, str]:
        dist = getattr(ep, "dist", None)
        own = dist is not None and (dist.metadata["Name"] or "").lower() == "polytape"
        return (not own, ep.name)
    return sorted(eps, key=key)


def _source(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "an unknown distribution"
    try:
        return f"{dist.metadata['Name']} {dist.version}"
    except Exception:
        return "an unknown distribution"


_system: PluginSystem | None = None
_loading: PluginSystem | None = None
_lock = threading.RLock()


def get_plugin_system() -> PluginSystem:
    """The process-wide plugin system, loading entry points on the first call.

    Other threads wait until loading has finished; a plugin that (oddly) asks for
    the plugin system while it is being imported gets the half-loaded one.
    """
    global _system, _loading
    system = _system
    if system is not None:
        return system
    with _lock:
        if _system is not None:
            return _system
        if _loading is not None:  # re-entered from a plugin import on this thread
            return _loading
        _loading = PluginSystem()
        try:
            _loading.load_entry_points()
            _system = _loading
        finally:
            _loading = None
    return _system


def reset_plugin_system() -> None:
    """Forget loaded plugins, the ops they added and built backends (tests reload with new settings)."""
    global _system
    with _lock:
        if _system is not None:
            for plugin in set(_system.ops.added_ops.values()):
                _system.ops.remove_plugin(plugin)
        _system = None
