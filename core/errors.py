"""polytape's exceptions.

Every error polytape raises derives from :class:`PolytapeError` *and* from the
builtin exception a Python user would already catch, so ``except ValueError``
keeps working for shape problems and ``except LookupError`` for unknown names.
"""

from __future__ import annotations

__all__ = [
    "PolytapeError",
    "InvalidArgumentError",
    "ShapeError",
    "ShapeAttributeError",
    "IndexShapeError",
    "DTypeError",
    "ArgumentTypeError",
    "BackendNotFoundError",
    "BackendUnavailableError",
    "BackendMismatchError",
    "TapeError",
    "PluginError",
    "NotProvidedError",
    "TracingError",
    "unsupported",
]


class PolytapeError(Exception):
    """Root of every exception polytape raises."""


class InvalidArgumentError(PolytapeError, ValueError):
    """An argument has the right type but a value polytape cannot accept."""


class ShapeError(PolytapeError, ValueError):
    """Shapes that do not fit the op; the message names the op and the shapes."""


class ShapeAttributeError(ShapeError, AttributeError):
    """A tensor attribute the tensor's shape does not have (``x.mT`` of a 1-D tensor): a
    :class:`ShapeError` that is also an ``AttributeError``, so ``hasattr`` answers False."""


class IndexShapeError(ShapeError, IndexError):
    """An index that does not fit the tensor (out of range, too many indices, a mask of the
    wrong shape): a :class:`ShapeError` that is also the ``IndexError`` NumPy and the Array
    API standard raise there."""


class DTypeError(PolytapeError, TypeError):
    """An unknown dtype, or a value whose type cannot become a tensor."""


class ArgumentTypeError(PolytapeError, TypeError):
    """An argument of the wrong Python type that is not about dtypes: an axis that is not an
    int, a size given as a float or a string (NumPy and TensorFlow raise ``TypeError`` there)."""


class BackendNotFoundError(PolytapeError, LookupError):
    """No backend of that name is registered; the message lists those that are."""


class BackendUnavailableError(PolytapeError, RuntimeError):
    """The backend is registered but cannot run here; the message says why."""


class BackendMismatchError(PolytapeError, ValueError):
    """One op was given tensors that live on two different backends."""


class TapeError(PolytapeError, RuntimeError):
    """A GradientTape was used in a way its life cycle does not allow."""


class PluginError(PolytapeError, RuntimeError):
    """A plugin is malformed, clashes with another, or failed to load."""


class NotProvidedError(PolytapeError, AttributeError, TypeError):
    """A TensorFlow/Keras name, attribute or argument polytape does not provide.

    It is an ``AttributeError`` (so ``hasattr`` answers False for missing names) and a
    ``TypeError`` (what Python raises for an unexpected argument), and its message always
    starts with "polytape does not provide".
    """


class TracingError(PolytapeError, TypeError):
    """A ``pt.function`` cannot trace what its Python function does: branching on a traced
    tensor's value (``if x > 0:``), reading it as a Python number, or calling with inputs
    its ``input_signature`` does not accept. A ``TypeError``, as TensorFlow's
    ``OperatorNotAllowedInGraphError`` is."""


def unsupported(kwargs: dict, where: str) -> None:
    """Raise :class:`NotProvidedError` naming the arguments in ``kwargs`` (if any) that
    ``where`` does not accept."""
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise NotProvidedError(f"polytape does not provide {where}({names}=...): "
                               "polytape.compat.tensorflow covers the eager subset listed in "
                               "docs/tensorflow-compat.md")
