"""``TensorShape``: what ``Tensor.shape`` returns, a tuple with TensorFlow's shape methods.

It subclasses ``tuple`` so that everything written for polytape's tuple shapes (indexing,
unpacking, ``+``, NumPy and torch calls) keeps working, and adds what TensorFlow code
uses: ``as_list()``, ``rank``/``ndims``, ``num_elements()``, equality with lists. Eager
shapes are always fully defined, so there are no unknown dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["TensorShape"]


class TensorShape(tuple):
    """The shape of a tensor: a tuple of ints that also compares equal to lists.

    >>> import polytape as pt
    >>> s = pt.zeros((2, 3)).shape
    >>> s == [2, 3], s == (2, 3), s.as_list(), s.rank, s.num_elements()
    (True, True, [2, 3], 2, 6)
    """

    __slots__ = ()

    def __new__(cls, dims: Iterable[Any] = ()) -> TensorShape:
        if isinstance(dims, TensorShape):
            return dims
        if dims is None:
            raise ValueError("polytape does not provide shapes of unknown rank (eager shapes "
                             "are always known)")
        if isinstance(dims, int):
            dims = (dims,)
        return tuple.__new__(cls, (int(d) for d in dims))

    @property
    def rank(self) -> int:
        """The number of dimensions."""
        return len(self)

    ndims = rank

    @property
    def dims(self) -> list[int]:
        """The dimensions as a list of ints."""
        return list(self)

    def as_list(self) -> list[int]:
        """The dimensions as a list of ints."""
        return list(self)

    def num_elements(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def is_fully_defined(self) -> bool:
        """Always True: eager shapes have no unknown dimensions."""
        return True

    def concatenate(self, other: Iterable[Any]) -> TensorShape:
        """This shape followed by ``other``."""
        return TensorShape(tuple(self) + tuple(TensorShape(other)))

    def is_compatible_with(self, other: Iterable[Any]) -> bool:
        """Equal rank and equal dimensions (``None`` in ``other`` matches anything)."""
        other = list(other)
        return len(other) == len(self) and all(o is None or int(o) == s
                                               for s, o in zip(self, other))

    def assert_is_compatible_with(self, other: Iterable[Any]) -> None:
        """Raise ``ValueError`` (TensorFlow's wording) unless compatible with ``other``."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {tuple(other)} are incompatible")

    def __getitem__(self, key: Any) -> Any:
        item = tuple.__getitem__(self, key)
        return TensorShape(item) if isinstance(key, slice) else item

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            other = tuple(other)
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __add__(self, other: Any) -> Any:
        return tuple(self) + tuple(other)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return TensorShape, (tuple(self),)

    # The repr stays a tuple's, as polytape's shapes always printed (TensorFlow prints
    # `TensorShape([2, 3])`; its str is `(2, 3)`, which is ours too).
    def __repr__(self) -> str:
        return tuple.__repr__(self)
