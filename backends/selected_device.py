"""Which device a backend's creation kernels should use right now.

Creation kernels (``zeros(shape, dtype)``, ``full``, ``arange``, ...) take no
device argument, so a multi-device backend (PyTorch, CuPy) asks here: the device
chosen with ``pt.set_backend(name, device=...)`` / ``pt.use_backend`` /
``POLYTAPE_BACKEND=name:device`` when that choice is this backend, else ``None``
(the backend's own default).
"""

from __future__ import annotations

from typing import Any

from polytape import backend_selection
from polytape.errors import PolytapeError

__all__ = ["selected_device"]


def selected_device(backend: Any) -> str | None:
    """The device the current backend selection names for ``backend``, or ``None``."""
    try:
        chosen, device = backend_selection._current()
    except PolytapeError:  # no usable default (e.g. a bad POLYTAPE_BACKEND): use the backend's own
        return None
    return device if chosen is backend else None
