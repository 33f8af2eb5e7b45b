"""Registries the plugin hooks fill: backends, extra ops and kernels, conformance cases."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from polytape.errors import (
    BackendNotFoundError,
    BackendUnavailableError,
    PluginError,
)

__all__ = ["BackendInfo", "BackendRegistry", "BackendStatus", "OpRegistry", "CaseRegistry"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class BackendInfo:
    """How to build one backend: a lowercase ``name``, a zero-argument ``factory``
    returning a :class:`~polytape.backends.Backend`, and a ``priority`` (the
    highest-priority available backend is the default when none is chosen).
    """

    name: str
    factory: Callable[[], Any]
    priority: int = 0
    description: str = ""
    plugin: str = field(default="", compare=False)


@dataclass(frozen=True)
class BackendStatus:
    """One row of :func:`polytape.list_backends`."""

    name: str
    available: bool
    reason: str
    version: str
    devices: tuple[str, ...]
    plugin: str
    priority: int


class BackendRegistry:
    """Backends by name; each is built on first use and then cached."""

    def __init__(self) -> None:
        self._infos: dict[str, BackendInfo] = {}
        self._built: dict[str, Any] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()
        self.current_plugin = "<runtime>"
        # (backend, op, kernel, plugin) from polytape_register_ops, applied when a backend is built
        self.kernel_overrides: list[tuple[str, str, Callable[..., Any], str]] = []

    def add(self, info: BackendInfo) -> None:
        """Register a backend; :class:`PluginError` for a bad name or a duplicate."""
        if not isinstance(info, BackendInfo):
            raise PluginError(
                f"plugin {self.current_plugin!r} passed {type(info).__name__} to registry.add; "
                "expected polytape.plugins.BackendInfo"
            )
        if not isinstance(info.name, str) or not _NAME.match(info.name):
            raise PluginError(
                f"plugin {self.current_plugin!r} registered backend name {info.name!r}: "
                "names must be lowercase identifiers like 'numpy' or 'my_chip'"
            )
        if not callable(info.factory):
            raise PluginError(f"backend {info.name!r} from plugin {self.current_plugin!r} "
                              "has a factory that is not callable")
        other = self._infos.get(info.name)
        if other is not None:
            raise PluginError(
                f"backend {info.name!r} is registered twice: by plugin {other.plugin!r} and by "
                f"plugin {self.current_plugin!r}; disable one with POLYTAPE_DISABLE_PLUGINS"
            )
        self._infos[info.name] = BackendInfo(info.name, info.factory, info.priority,
                                             info.description, self.current_plugin)

    def remove_plugin(self, plugin: str) -> None:
        """Forget every backend a plugin added (used when the plugin fails half-way)."""
        for name in [n for n, i in self._infos.items() if i.plugin == plugin]:
            del self._infos[name]
            self._built.pop(name, None)
            self._failed.pop(name, None)

    def names(self) -> list[str]:
        """Registered names, highest priority first."""
        return sorted(self._infos, key=lambda n: (-self._infos[n].priority, n))

    def info(self, name: str) -> BackendInfo:
        """The :class:`BackendInfo` for ``name`` or :class:`BackendNotFoundError`."""
        try:
            return self._infos[name]
        except KeyError:
            raise BackendNotFoundError(
                f"no backend named {name!r}; registered backends: {', '.join(self.names()) or 'none'}. "
                "Built-in extras install with `pip install polytape[torch]` or "
                "`pip install polytape[cupy]`; third-party backends are pip-installable plugins."
            ) from None

    def get(self, name: str) -> Any:
        """The backend object, built on first use; :class:`BackendUnavailableError` with the reason."""
        be = self._built.get(name)
        if be is not None:
            return be
        ok, reason, be = self._build(name)
        if not ok:
            raise BackendUnavailableError(f"backend {name!r} is unavailable: {reason}")
        return be

    def status(self, name: str) -> BackendStatus:
        """Availability, reason, version and devices of one backend (builds it if needed)."""
        info = self.info(name)
        ok, reason, be = self._build(name)
        version = getattr(be, "version", "") if be is not None else ""
        devices = tuple(be.devices()) if ok else ()
        return BackendStatus(name, ok, reason, version, devices, info.plugin, info.priority)

    def _build(self, name: str) -> tuple[bool, str, Any]:
        info = self.info(name)
        with self._lock:
            if name in self._built:
                return True, "", self._built[name]
            if name in self._failed:
                return False, self._failed[name], None
            try:
                be = info.factory()
            except ImportError as exc:
                reason = f"{exc} (pip install the library it needs)"
                self._failed[name] = reason
                return False, reason, None
            except BackendUnavailableError as exc:
                self._failed[name] = str(exc)
                return False, str(exc), None
            except Exception as exc:  # a broken factory must not break other backends
                reason = f"factory from plugin {info.plugin!r} raised {type(exc).__name__}: {exc}"
                self._failed[name] = reason
                return False, reason, None
            ok, reason = be.is_available()
            if not ok:
                self._failed[name] = reason
                return False, reason, be
            be.kernels = _complete_kernels(
                be.kernels, {op: fn for b, op, fn, _ in self.kernel_overrides if b == name})
            problem = _contract_problem(be)
            if problem:
                reason = f"rejected: {problem} (plugin {info.plugin!r})"
                self._failed[name] = reason
                return False, reason, None
            self._built[name] = be
            return True, "", be


def _complete_kernels(kernels: Any, overrides: dict[str, Callable[..., Any]]) -> dict:
    """The backend's kernels, plus plugin overrides, plus default kernels for ops it lacks."""
    from polytape.optable import OPS

    out = {**kernels, **overrides}
    for name, op in OPS.items():
        if name not in out and op.default_kernel is not None:
            out[name] = _bind_default(op.default_kernel, out)
    return out


def _bind_default(default: Callable[..., Any], kernels: dict) -> Callable[..., Any]:
    def kernel(*args: Any, **kwargs: Any) -> Any:
        return default(kernels, *args, **kwargs)
    return kernel


def _contract_problem(be: Any) -> str:
    """Why ``be`` breaks the backend contract, or ``""``."""
    from polytape.optable import required_kernels

    kernels = getattr(be, "kernels", None)
    if kernels is None:
        return "the backend has no kernels mapping"
    missing = sorted(required_kernels() - set(kernels))
    if missing:
        return f"missing kernels for required ops: {', '.join(missing)}"
    if not getattr(be, "native_dtypes", None):
        return "the backend maps no dtypes (native_dtypes is empty)"
    return ""


class OpRegistry:
    """What ``polytape_register_ops`` receives: declare ops and per-backend kernels."""

    def __init__(self) -> None:
        self.kernels: list[tuple[str, str, Callable[..., Any], str]] = []
        self.current_plugin = "<runtime>"

    def add_op(self, name: str, vjp: Any = None, jvp: Any = None,
               default_kernel: Callable[..., Any] | None = None) -> Any:
        """Declare a new op in polytape's op table (see :func:`polytape.optable.defop`)."""
        from polytape.optable import defop

        return defop(name, vjp=vjp, jvp=jvp, default_kernel=default_kernel)

    def add_kernel(self, backend: str, op: str, fn: Callable[..., Any]) -> None:
        """Use ``fn`` as the kernel of ``op`` on ``backend`` (applied when the backend is built)."""
        if not callable(fn):
            raise PluginError(f"kernel for {op!r} on {backend!r} from plugin "
                              f"{self.current_plugin!r} is not callable")
        self.kernels.append((backend, op, fn, self.current_plugin))


class CaseRegistry:
    """What ``polytape_conformance_cases`` receives: a list of extra cases."""

    def __init__(self) -> None:
        self.cases: list[Any] = []
        self.current_plugin = "<runtime>"

    def add(self, case: Any) -> None:
        """Add one conformance case."""
        self.cases.append(case)
