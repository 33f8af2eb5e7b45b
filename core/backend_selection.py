"""Choosing the backend new arrays are made on: per process, per context, or per array.

Order of precedence for where a new tensor goes:

1. the backend of the tensors an op is given (an op never moves data itself);
2. ``with pt.use_backend(name, device):`` (context-local, via :mod:`contextvars`);
3. ``pt.set_backend(name, device)`` (process default);
4. the ``POLYTAPE_BACKEND`` environment variable, e.g. ``torch:cuda``;
5. the available backend with the highest priority (NumPy among the built-ins).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Any

from .errors import BackendNotFoundError

__all__ = ["set_backend", "use_backend", "get_backend", "current_backend", "current_device",
           "list_backends", "resolve"]

_context: contextvars.ContextVar[tuple[Any, str | None] | None] = contextvars.ContextVar(
    "polytape_backend", default=None)
_process_default: list[tuple[Any, str | None]] = []


def _split(spec: str) -> tuple[str, str | None]:
    if not isinstance(spec, str):
        raise BackendNotFoundError(f"a backend is named by a string like 'numpy' or "
                                   f"'torch:cuda', got {type(spec).__name__} {spec!r}")
    name, _, device = spec.partition(":")
    return name.strip().lower(), (device.strip() or None)


def get_backend(name: str | Any) -> Any:
    """The backend object for ``name`` (``"torch"``; a ``:device`` suffix is ignored here).

    Raises :class:`~polytape.BackendNotFoundError` (unknown name, listing the known
    ones) or :class:`~polytape.BackendUnavailableError` (known, cannot run here).
    """
    if not isinstance(name, str):
        return name
    # Imported on first use, here and below: `import polytape` stays free of pluggy and the
    # plugin machinery until a backend is needed.
    from polytape.plugins import get_plugin_system

    return get_plugin_system().backends.get(_split(name)[0])


def resolve(spec: str | Any, device: str | None = None) -> tuple[Any, str | None]:
    """``(backend, device)`` for ``"name"``, ``"name:device"`` or a backend object."""
    if not isinstance(spec, str):
        return spec, device
    name, dev = _split(spec)
    be = get_backend(name)
    dev = device if device is not None else dev
    return be, (be.normalize_device(dev) if dev is not None else None)


def _initial_default() -> tuple[Any, str | None]:
    spec = os.environ.get("POLYTAPE_BACKEND")
    if spec:
        return resolve(spec)
    from polytape.plugins import get_plugin_system

    registry = get_plugin_system().backends
    reasons = []
    for name in registry.names():
        status = registry.status(name)
        if status.available:
            return registry.get(name), None
        reasons.append(f"{name}: {status.reason}")
    raise BackendNotFoundError("no backend is available: " + ("; ".join(reasons) or
                               "no backend plugin is installed (is polytape installed?)"))


def _current() -> tuple[Any, str | None]:
    cur = _context.get()
    if cur is not None:
        return cur
    if not _process_default:
        _process_default.append(_initial_default())
    return _process_default[0]


def current_backend() -> Any:
    """The backend new tensors are created on in this context."""
    return _current()[0]


def current_device() -> str | None:
    """The device new tensors are created on (``None``: the backend's default)."""
    return _current()[1]


def set_backend(name: str, device: str | None = None) -> None:
    """Make ``name`` (optionally ``"name:device"``) the process-wide default backend.

    >>> import polytape as pt
    >>> pt.set_backend("numpy")
    """
    choice = resolve(name, device)
    _process_default[:] = [choice]


@contextlib.contextmanager
def use_backend(name: str, device: str | None = None) -> Iterator[Any]:
    """Within the block, new tensors go to backend ``name`` (context-local, thread-safe).

    >>> import polytape as pt
    >>> with pt.use_backend("numpy"):
    ...     pt.constant(1.0).backend
    'numpy'
    """
    token = _context.set(resolve(name, device))
    try:
        yield _context.get()[0]
    finally:
        _context.reset(token)


def list_backends() -> list[Any]:
    """Every registered backend with availability, the reason if unavailable, version, devices.

    >>> import polytape as pt
    >>> [b.name for b in pt.list_backends()][:1]
    ['numpy']
    """
    from polytape.plugins import get_plugin_system

    registry = get_plugin_system().backends
    return [registry.status(name) for name in registry.names()]
