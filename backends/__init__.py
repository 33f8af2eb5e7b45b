"""polytape's built-in backends (NumPy, CuPy, PyTorch) and the backend contract.

Each backend lives in its own folder with the same file names: ``backend.py``
(the :class:`~polytape.backends.base.Backend` subclass) and ``plugin.py`` (the
pluggy hook that registers it, exactly as a third-party plugin would).
"""

from .base import Backend

__all__ = ["Backend"]
