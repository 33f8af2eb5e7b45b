"""``tf.device`` and ``tf.config`` mapped to polytape's backends and devices.

TensorFlow names devices ``/CPU:0``, ``/GPU:1`` (or ``/job:.../device:GPU:1``); polytape's
backends name them ``cpu``, ``cuda:1``. ``tf.device`` switches the device of the current
backend for the block (:func:`polytape.use_backend`). TensorFlow places soft by default
(a GPU request without a GPU runs on the CPU), and so does this: a device the current
backend does not have leaves the backend's default in place, unless
``tf.config.set_soft_device_placement(False)`` was called, when it raises.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polytape as pt
from polytape.backend_selection import current_backend
from polytape.errors import InvalidArgumentError

__all__ = ["device", "PhysicalDevice", "LogicalDevice", "list_physical_devices",
           "list_logical_devices", "set_soft_device_placement", "get_soft_device_placement"]

_DEVICE = re.compile(r"(?:.*device:)?/?(?P<kind>cpu|gpu)(?::(?P<index>\d+))?$", re.IGNORECASE)
_soft = [True]


@dataclass(frozen=True)
class PhysicalDevice:
    """A device as ``tf.config.list_physical_devices`` describes it."""

    name: str
    device_type: str


@dataclass(frozen=True)
class LogicalDevice:
    """A device as ``tf.config.list_logical_devices`` describes it."""

    name: str
    device_type: str


def _polytape_device(name: str) -> str:
    m = _DEVICE.match(name.strip())
    if not m:
        raise InvalidArgumentError(f"tf.device: cannot parse device name {name!r} (use '/CPU:0' "
                                   "or '/GPU:0')")
    index = int(m.group("index") or 0)
    return "cpu" if m.group("kind").lower() == "cpu" else f"cuda:{index}"


def _backend_devices() -> list[str]:
    be = current_backend()
    devices = getattr(be, "devices", None)
    found = list(devices()) if callable(devices) else []
    return found or [be.default_device]


@contextlib.contextmanager
def device(device_name: str | None) -> Iterator[None]:
    """Within the block, new tensors go to ``device_name`` on the current backend."""
    if device_name is None or device_name == "":
        yield
        return
    wanted = _polytape_device(device_name)
    available = _backend_devices()
    if wanted not in available and not (wanted == "cpu" and any(d.startswith("cpu")
                                                                for d in available)):
        if not _soft[0]:
            raise InvalidArgumentError(
                f"tf.device: backend {current_backend().name!r} has no device {wanted!r} "
                f"(it has {available}) and soft device placement is off")
        yield
        return
    with pt.use_backend(current_backend().name, device=wanted):
        yield


def _devices(device_type: str | None) -> list[tuple[str, int]]:
    out = []
    for d in _backend_devices():
        kind = "GPU" if d.startswith("cuda") else "CPU"
        index = int(d.split(":")[1]) if ":" in d else 0
        if device_type is None or device_type.upper() == kind:
            out.append((kind, index))
    return out


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The current backend's devices, named as TensorFlow names them."""
    return [PhysicalDevice(f"/physical_device:{k}:{i}", k) for k, i in _devices(device_type)]


def list_logical_devices(device_type: str | None = None) -> list[LogicalDevice]:
    """The current backend's devices, as logical devices."""
    return [LogicalDevice(f"/device:{k}:{i}", k) for k, i in _devices(device_type)]


def set_soft_device_placement(enabled: bool) -> None:
    """Whether ``tf.device`` falls back to the default device when one is missing."""
    _soft[0] = bool(enabled)


def get_soft_device_placement() -> bool:
    """See :func:`set_soft_device_placement` (True by default, as in TensorFlow)."""
    return _soft[0]


def _accepted(*args: Any, **kwargs: Any) -> None:
    """Accepted and ignored: eager polytape has nothing to configure here."""
