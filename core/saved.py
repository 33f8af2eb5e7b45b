"""What a tape keeps of one recorded op: only the values its VJP rules read.

A record is ``(op, inputs, arrays, key, attrs, ans, out)``:

* ``inputs`` -- the op's inputs as the tape knows them: tensors whose values some rule
  reads, a :class:`Released` stand-in for each tensor whose values no rule reads (variables
  stay themselves: the user holds them anyway), and :data:`NUMBER` for a Python number
  operand (its 0-d array is in ``arrays``); every entry has a ``_key``;
* ``arrays`` -- the arrays the kernel saw, with the same stand-ins where nothing reads them;
* ``key`` -- the output's identity (``Tensor._key``), never the output itself;
* ``ans`` -- the output's array when some rule reads it, else ``None``;
* ``out`` -- the output tensor itself, kept only while a ``ForwardAccumulator`` records
  (forward-over-backward finds tangents by the very tensors the forward pass made).

Which values a rule reads is read off the rule's own code (:func:`polytape.optable.rule_reads`),
so a declaration cannot drift from its rule. ``y = sin(x) * 1.01`` keeps ``x`` (sin's rule
reads it) and nothing of ``sin(x)`` but its shape: the product's rule for its tensor input
reads only the number.
"""

from __future__ import annotations

from typing import Any

from .tensor import Variable

__all__ = ["Released", "release", "RELEASE_MIN_BYTES", "NUMBER"]


class Released:
    """A tensor the tape no longer holds: its identity, backend, shape and native dtype.

    It stands in both for the tensor (``_key``, ``_backend``, ``_data``) and for its array
    (``shape``, ``ndim``, ``size``, ``dtype``), the only things a rule that does not read the
    values may ask of it.
    """

    __slots__ = ("_key", "_backend", "shape", "dtype")

    def __init__(self, key: int, backend: Any, array: Any) -> None:
        self._key = key
        self._backend = backend
        self.shape = array.shape
        self.dtype = array.dtype

    @property
    def _data(self) -> Released:
        return self

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"<released tensor {self._key}: shape {tuple(self.shape)}, {self.dtype}>"


# Values smaller than this are kept even when no rule reads them: a stand-in would cost more
# time than the few bytes it frees.
RELEASE_MIN_BYTES = 4096


class _Number:
    """A record's entry for an operand that is not a tensor (``x * 1.01``): it never has a
    gradient; the number itself, as the kernel saw it, is in the record's arrays."""

    __slots__ = ()
    _key = 0

    def __repr__(self) -> str:
        return "NUMBER"


NUMBER = _Number()


def release(inputs: tuple, arrays: tuple, dropped: tuple[int, ...]) -> tuple[tuple, tuple]:
    """``inputs`` and ``arrays`` with a :class:`Released` stand-in for each input in
    ``dropped`` (those whose values no rule reads) that is worth releasing.

    Variables stay in ``inputs`` (their users hold them anyway); their arrays are released.
    """
    released = None
    for j in dropped:
        x = inputs[j]
        data = getattr(x, "_data", None)
        if data is None or getattr(data, "nbytes", RELEASE_MIN_BYTES) < RELEASE_MIN_BYTES:
            continue
        if released is None:
            released = list(inputs), list(arrays)
        stand_in = Released(x._key, x._backend, data)
        if type(x) is not Variable:
            released[0][j] = stand_in
        released[1][j] = stand_in
    if released is None:
        return inputs, arrays
    return tuple(released[0]), tuple(released[1])
