"""Registries the plugin hooks fill: backends, extra ops and kernels, conformance cases.

Every registry records which plugin added what (``current_plugin`` is set by
the plugin manager while a plugin's hook runs), so a plugin that fails
half-way can be undone and every error message can name the plugin.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from polytape.backends import Backend
from polytape.dtypes import bool_, float32
from polytape.errors import (
    BackendNotFoundError,
    BackendUnavailableError,
    PluginError,
)
from polytape.optable import CREATION_KERNELS, OPS, defop, required_kernels

__all__ = ["BackendInfo", "BackendRegistry", "BackendStatus", "OpRegistry", "CaseRegistry",
           "contract_problem", "missing_kernels"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_OP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# (backend, op, kernel, plugin): a kernel a plugin supplies for one op on one backend.
KernelOverride = tuple[str, str, Callable[..., Any], str]


@dataclass(frozen=True)
class BackendInfo:
    """How to build one backend.

    * ``name`` -- lowercase identifier (``"numpy"``, ``"my_chip"``), unique across plugins;
    * ``factory`` -- zero-argument callable returning a :class:`~polytape.backends.Backend`;
      it runs the first time the backend is used, so heavy imports belong inside it;
    * ``priority`` -- the highest-priority available backend is the default when none is chosen;
    * ``description`` -- one line for ``polytape backends``;
    * ``kernels`` -- optional: the op names the factory's backend will have kernels for.
      When given, a backend missing a required kernel is rejected right at registration
      (with the missing names) instead of when it is first built.

    >>> BackendInfo(name="mychip", factory=lambda: None).priority
    0
    """

    name: str
    factory: Callable[[], Any]
    priority: int = 0
    description: str = ""
    kernels: Collection[str] | None = None
    plugin: str = field(default="", compare=False)


@dataclass(frozen=True)
class BackendStatus:
    """One row of :func:`polytape.list_backends`.

    ``reason`` says why an unavailable backend cannot run; ``plugin`` names the
    plugin that registered it and ``source`` the distribution it came from
    (``"polytape 0.1.0"``, ``"<runtime>"`` for :func:`polytape.plugins.register`).
    """

    name: str
    available: bool
    reason: str
    version: str
    devices: tuple[str, ...]
    plugin: str
    priority: int
    description: str = ""
    source: str = ""


def missing_kernels(names: Collection[str]) -> list[str]:
    """The required op names (sorted) that ``names`` lacks; see :func:`polytape.optable.required_kernels`."""
    return sorted(required_kernels() - set(names))


def contract_problem(be: Any) -> str:
    """Why the built object ``be`` breaks the backend contract, or ``""`` when it keeps it."""
    if not isinstance(be, Backend):
        return (f"the factory returned {type(be).__name__}, not a subclass of "
                "polytape.backends.Backend")
    for method in ("asarray", "to_numpy"):
        if getattr(type(be), method) is getattr(Backend, method):
            return f"{type(be).__name__} does not implement {method}()"
    kernels = getattr(be, "kernels", None)
    if not hasattr(kernels, "keys"):
        return "the backend has no kernels mapping"
    missing = missing_kernels(kernels.keys())
    if missing:
        return f"missing kernels for required ops: {', '.join(missing)}"
    not_callable = sorted(n for n, fn in kernels.items() if not callable(fn))
    if not_callable:
        return f"kernels that are not callable: {', '.join(not_callable)}"
    natives = getattr(be, "native_dtypes", None)
    if not natives:
        return "the backend maps no dtypes (native_dtypes is empty)"
    needed = [d.name for d in (bool_, float32) if d not in natives]
    if needed:
        return f"native_dtypes lacks {', '.join(needed)} (comparisons and the default float need them)"
    if dict(getattr(be, "canonical", {})) != {v: k for k, v in natives.items()}:
        return ("native_dtypes and canonical disagree: set native_dtypes before calling "
                "Backend.__init__ (or as a class attribute)")
    return ""


class BackendRegistry:
    """Backends by name; each is built on first use and then cached."""

    def __init__(self) -> None:
        self._infos: dict[str, BackendInfo] = {}
        self._built: dict[str, Any] = {}
        self._own_kernels: dict[str, dict[str, Callable[..., Any]]] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.RLock()
        self.current_plugin = "<runtime>"
        # Filled by polytape_register_ops; applied when a backend is built (and refreshed after).
        self.kernel_overrides: list[KernelOverride] = []
        # Called as report(plugin, message) when a backend breaks the contract (the manager
        # warns, or raises in strict mode); None: just record the reason.
        self.report: Callable[[str, str], None] | None = None
        # plugin name -> "distribution version", for `polytape backends`.
        self.sources: dict[str, str] = {}

    # -- registration ---------------------------------------------------------------
    def add(self, info: BackendInfo) -> None:
        """Register a backend; :class:`PluginError` for a malformed info, a bad name or a duplicate."""
        plugin = self.current_plugin
        if not isinstance(info, BackendInfo):
            raise PluginError(
                f"plugin {plugin!r} passed {type(info).__name__} to registry.add; "
                "expected polytape.plugins.BackendInfo(name=..., factory=...)")
        if not isinstance(info.name, str) or not _NAME.match(info.name):
            raise PluginError(
                f"plugin {plugin!r} registered backend name {info.name!r}: names must be "
                "lowercase identifiers like 'numpy' or 'my_chip'")
        if not callable(info.factory):
            raise PluginError(f"backend {info.name!r} from plugin {plugin!r} has a factory that "
                              f"is not callable ({type(info.factory).__name__})")
        if not isinstance(info.priority, int) or isinstance(info.priority, bool):
            raise PluginError(f"backend {info.name!r} from plugin {plugin!r}: priority must be "
                              f"an int, got {info.priority!r}")
        if info.kernels is not None:
            if isinstance(info.kernels, str) or not all(isinstance(k, str) for k in info.kernels):
                raise PluginError(f"backend {info.name!r} from plugin {plugin!r}: kernels must be "
                                  "a collection of op names")
            missing = missing_kernels(set(info.kernels) | self._override_names(info.name))
            if missing:
                raise PluginError(
                    f"backend {info.name!r} from plugin {plugin!r} is rejected: missing kernels "
                    f"for required ops: {', '.join(missing)}")
        with self._lock:
            other = self._infos.get(info.name)
            if other is not None:
                raise PluginError(
                    f"backend {info.name!r} is registered twice: by plugin {other.plugin!r} and "
                    f"by plugin {plugin!r}; block one with POLYTAPE_DISABLE_PLUGINS="
                    f"{plugin if other.plugin.startswith('<') else other.plugin}")
            self._infos[info.name] = BackendInfo(info.name, info.factory, info.priority,
                                                 info.description, info.kernels, plugin)

    def _override_names(self, backend: str) -> set[str]:
        return {op for b, op, _, _ in self.kernel_overrides if b == backend}

    def remove_plugin(self, plugin: str) -> None:
        """Forget every backend a plugin added (used when the plugin fails or is unregistered)."""
        with self._lock:
            for name in [n for n, i in self._infos.items() if i.plugin == plugin]:
                del self._infos[name]
                self._built.pop(name, None)
                self._own_kernels.pop(name, None)
                self._failed.pop(name, None)

    # -- lookup -----------------------------------------------------------------------
    def names(self) -> list[str]:
        """Registered names, highest priority first."""
        return sorted(self._infos, key=lambda n: (-self._infos[n].priority, n))

    def info(self, name: str) -> BackendInfo:
        """The :class:`BackendInfo` for ``name`` or :class:`BackendNotFoundError`."""
        try:
            return self._infos[name]
        except KeyError:
            raise BackendNotFoundError(
                f"no backend named {name!r}; registered backends: "
                f"{', '.join(self.names()) or 'none'}. Built-in extras install with "
                "`pip install polytape[torch]` or `pip install polytape[cupy]`; third-party "
                "backends are pip-installable plugins (see `polytape backends`)."
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
        version = str(getattr(be, "version", "") or "") if be is not None else ""
        devices: tuple[str, ...] = ()
        if ok:
            try:
                devices = tuple(be.devices())
            except Exception as exc:  # a backend's bug must not break the listing
                devices = (f"<devices() raised {type(exc).__name__}: {exc}>",)
        return BackendStatus(name, ok, reason, version, devices, info.plugin, info.priority,
                             info.description, self.sources.get(info.plugin, ""))

    # -- building ---------------------------------------------------------------------
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
                return self._unavailable(name, f"{exc} (pip install the library it needs)")
            except BackendUnavailableError as exc:
                return self._unavailable(name, str(exc))
            except Exception as exc:  # a broken factory must not break other backends
                return self._reject(info, f"its factory raised {type(exc).__name__}: {exc}")
            if not isinstance(be, Backend):
                return self._reject(info, contract_problem(be))
            try:
                ok, reason = be.is_available()
            except Exception as exc:
                return self._reject(info, f"is_available() raised {type(exc).__name__}: {exc}")
            if not ok:
                self._failed[name] = reason
                return False, reason, be
            problem = contract_problem(be)
            if not problem and be.name != name:
                problem = f"the factory built a backend named {be.name!r}"
            if problem:
                return self._reject(info, problem)
            self._own_kernels[name] = dict(be.kernels)
            be.kernels = self._completed(name)
            self._built[name] = be
            return True, "", be

    def _unavailable(self, name: str, reason: str) -> tuple[bool, str, None]:
        self._failed[name] = reason
        return False, reason, None

    def _reject(self, info: BackendInfo, problem: str) -> tuple[bool, str, None]:
        reason = f"rejected: {problem} (plugin {info.plugin!r})"
        self._failed[info.name] = reason
        if self.report is not None:
            self.report(info.plugin, f"backend {info.name!r} is rejected: {problem}")
        return False, reason, None

    def _completed(self, name: str) -> dict[str, Callable[..., Any]]:
        """A built backend's own kernels, plus plugin overrides, plus default kernels."""
        out = dict(self._own_kernels[name])
        for backend, op, fn, _ in self.kernel_overrides:
            if backend == name:
                out[op] = fn
        for op_name, op in OPS.items():
            if op_name not in out and op.default_kernel is not None:
                out[op_name] = _bind_default(op.default_kernel, out)
        return out

    def refresh_kernels(self) -> None:
        """Recompute the kernels of every built backend (after ops or overrides changed).

        Each backend gets a new dict, so caches keyed on the kernels object notice.
        """
        with self._lock:
            for name, be in self._built.items():
                be.kernels = self._completed(name)


def _bind_default(default: Callable[..., Any], kernels: dict) -> Callable[..., Any]:
    def kernel(*args: Any, **kwargs: Any) -> Any:
        return default(kernels, *args, **kwargs)
    kernel.__name__ = getattr(default, "__name__", "default_kernel")
    return kernel


class OpRegistry:
    """What ``polytape_register_ops`` receives: declare new ops, or kernels for one backend.

    >>> import polytape.plugins as pp
    >>> pp.OpRegistry().kernels
    []
    """

    def __init__(self) -> None:
        self.kernels: list[KernelOverride] = []
        self.added_ops: dict[str, str] = {}  # op name -> plugin that declared it
        self.current_plugin = "<runtime>"

    def add_op(self, name: str, vjp: Any = None, jvp: Any = None,
               default_kernel: Callable[..., Any] | None = None, *,
               differentiable: bool = True, variadic: bool = False, doc: str = "") -> Any:
        """Declare a new op in polytape's op table and return it (a :class:`polytape.optable.Op`).

        ``vjp``/``jvp`` are rules as in :mod:`polytape.derivatives` (``rule(ns, g, ans,
        *inputs, **attrs)``); ``default_kernel(kernels, *arrays, **attrs)`` computes the op
        from other kernels, so every backend -- built-in or third-party, present or future --
        can run it. It is required: a plugin op must never make other backends incomplete.
        Faster kernels for particular backends go through :meth:`add_kernel`. Call the op
        with :func:`polytape.plugins.apply_op`.
        """
        plugin = self.current_plugin
        if not isinstance(name, str) or not _OP_NAME.match(name):
            raise PluginError(f"plugin {plugin!r}: op name {name!r} is not an identifier")
        if name in OPS or name in CREATION_KERNELS:
            raise PluginError(
                f"plugin {plugin!r}: op {name!r} already exists; ops cannot be redefined by "
                f"plugins (to give one backend a faster kernel use registry.add_kernel)")
        if not callable(default_kernel):
            raise PluginError(
                f"plugin {plugin!r}: op {name!r} needs a default_kernel(kernels, *arrays, **attrs) "
                "built from existing kernels, so that every backend can run it")
        try:
            op = defop(name, vjp=vjp, jvp=jvp, default_kernel=default_kernel,
                       differentiable=differentiable, variadic=variadic, doc=doc)
        except (TypeError, ValueError) as exc:
            raise PluginError(f"plugin {plugin!r}: op {name!r} is malformed: {exc}") from None
        self.added_ops[name] = plugin
        return op

    def add_kernel(self, backend: str, op: str, fn: Callable[..., Any]) -> None:
        """Use ``fn`` as the kernel of ``op`` on ``backend`` only (e.g. a fused implementation).

        ``fn`` takes the same native arrays and attributes as the kernel it replaces. It is
        applied when the backend is built (immediately if it already is).
        """
        plugin = self.current_plugin
        if not isinstance(backend, str) or not _NAME.match(backend):
            raise PluginError(f"plugin {plugin!r}: add_kernel backend must be a backend name, "
                              f"got {backend!r}")
        known = set(OPS) | set(CREATION_KERNELS)
        if not isinstance(op, str) or op not in known:
            close = difflib.get_close_matches(str(op), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PluginError(f"plugin {plugin!r}: add_kernel for op {op!r} on {backend!r}: "
                              f"polytape has no op of that name{hint}")
        if not callable(fn):
            raise PluginError(f"kernel for {op!r} on {backend!r} from plugin {plugin!r} "
                              "is not callable")
        self.kernels.append((backend, op, fn, plugin))

    def remove_plugin(self, plugin: str) -> None:
        """Forget the ops and kernels a plugin added."""
        self.kernels[:] = [k for k in self.kernels if k[3] != plugin]
        for name in [n for n, p in self.added_ops.items() if p == plugin]:
            del self.added_ops[name]
            OPS.pop(name, None)


class CaseRegistry:
    """What ``polytape_conformance_cases`` receives: extra conformance cases.

    ``cases`` is the list the conformance suite reads; ``owners`` maps each
    case's ``id`` to the plugin that added it.
    """

    def __init__(self) -> None:
        self.cases: list[Any] = []
        self.owners: dict[int, str] = {}
        self.current_plugin = "<runtime>"

    def add(self, case: Any) -> None:
        """Add one conformance case (see :class:`polytape.conformance.ConformanceCase`)."""
        self.cases.append(case)
        self.owners[id(case)] = self.current_plugin

    def remove_plugin(self, plugin: str) -> None:
        """Forget the cases a plugin added."""
        kept = [c for c in self.cases if self.owners.get(id(c)) != plugin]
        for c in self.cases:
            if self.owners.get(id(c)) == plugin:
                del self.owners[id(c)]
        self.cases[:] = kept
