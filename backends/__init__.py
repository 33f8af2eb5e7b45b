"""polytape's built-in backends (NumPy, CuPy, PyTorch) and the backend contract.

Every backend starts from one kernel table written against the Python Array API
standard, ``array_api/kernels.py`` (array-api-compat supplies the standard namespace
of NumPy, CuPy and torch); ``array_api/backend.py``'s :class:`ArrayAPIBackend` makes any
standard namespace a backend. Each built-in backend lives in its own folder with the
same file names: ``backend.py`` (the :class:`~polytape.backends.base.Backend` subclass:
arrays, dtypes, devices), ``kernels.py`` (what its library does differently from the
shared table) and ``plugin.py`` (the pluggy hook that registers it, exactly as a
third-party plugin would).
"""

from .base import Backend

__all__ = ["Backend"]
