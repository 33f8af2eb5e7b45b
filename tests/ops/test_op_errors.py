"""Bad input to an op raises the documented error, naming the op, and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

import polytape as pt

X = np.arange(6.0).reshape(2, 3)


def _other(x: pt.Tensor) -> str:
    """A backend other than ``x``'s (NumPy is always there; torch is installed for the tests)."""
    return "torch" if x.backend == "numpy" else "numpy"

# (op named in the message, error type, call on x = a (2, 3) float tensor)
BAD: list[tuple[str, type, Callable]] = [
    # shapes that do not fit
    ("add", pt.ShapeError, lambda x: x + pt.ones((4,))),
    ("matmul", pt.ShapeError, lambda x: pt.matmul(x, x)),
    ("matmul", pt.ShapeError, lambda x: pt.matmul(x, pt.constant(1.0))),
    ("concat", pt.ShapeError, lambda x: pt.concat([x, pt.ones((2, 2))], axis=0)),
    ("stack", pt.ShapeError, lambda x: pt.stack([x, pt.ones((3, 2))])),
    ("einsum", pt.ShapeError, lambda x: pt.einsum("ij,ij->i", x, pt.ones((2, 4)))),
    ("einsum", pt.ShapeError, lambda x: pt.einsum("ijk->i", x)),
    ("tensordot", pt.ShapeError, lambda x: pt.tensordot(x, x, axes=1)),
    ("reshape", pt.ShapeError, lambda x: pt.reshape(x, (4, 2))),
    ("broadcast_to", pt.ShapeError, lambda x: pt.broadcast_to(x, (3, 3))),
    ("where", pt.ShapeError, lambda x: pt.where(pt.constant([True, False]), x, x)),
    ("index_add", pt.ShapeError, lambda x: pt.index_add(x, 0, pt.ones((4,)))),
    ("split", pt.ShapeError, lambda x: pt.split(x, 2, axis=1)),
    ("split", pt.ShapeError, lambda x: pt.split(x, [1, 1], axis=1)),
    ("tile", pt.ShapeError, lambda x: pt.tile(x, (-1, 2))),
    ("pad", pt.ShapeError, lambda x: pt.pad(x, ((1, 1), (1, 1), (1, 1)))),
    ("pad", pt.ShapeError, lambda x: pt.pad(x, -1)),
    ("softmax", pt.ShapeError, lambda x: pt.softmax(pt.constant(1.0))),
    # axes out of range or repeated
    ("sum", pt.ShapeError, lambda x: pt.sum(x, axis=2)),
    ("mean", pt.ShapeError, lambda x: pt.mean(x, axis=(0, -2))),
    ("prod", pt.ShapeError, lambda x: pt.prod(x, axis=-3)),
    ("logsumexp", pt.ShapeError, lambda x: pt.logsumexp(x, axis=5)),
    ("var", pt.ShapeError, lambda x: pt.var(x, axis=2)),
    ("std", pt.ShapeError, lambda x: pt.std(x, axis=(1, 1))),
    ("argmax", pt.ShapeError, lambda x: pt.argmax(x, axis=3)),
    ("argmin", pt.ShapeError, lambda x: pt.argmin(x, axis=-3)),
    ("cumsum", pt.ShapeError, lambda x: pt.cumsum(x, axis=2)),
    ("cumsum", pt.ShapeError, lambda x: pt.cumsum(pt.constant(1.0), axis=0)),
    ("softmax", pt.ShapeError, lambda x: pt.softmax(x, axis=2)),
    ("log_softmax", pt.ShapeError, lambda x: pt.log_softmax(x, axis=-3)),
    ("flip", pt.ShapeError, lambda x: pt.flip(x, axis=2)),
    ("squeeze", pt.ShapeError, lambda x: pt.squeeze(x, 0)),
    ("expand_dims", pt.IndexShapeError, lambda x: pt.expand_dims(x, 4)),  # also an IndexError
    ("expand_dims", IndexError, lambda x: pt.expand_dims(x, -4)),  # the standard's error type
    ("transpose", pt.ShapeError, lambda x: pt.transpose(x, (0, 0))),
    ("concat", pt.ShapeError, lambda x: pt.concat([x, x], axis=2)),
    ("take", pt.ShapeError, lambda x: pt.take(x, [0], axis=2)),
    ("norm", pt.ShapeError, lambda x: pt.norm(pt.ones((2, 2, 2)), axis=(0, 1, 2))),
    ("tensordot", pt.ShapeError, lambda x: pt.tensordot(x, x, axes=3)),
    # indices that are not integers, or out of range
    ("getitem", pt.DTypeError, lambda x: x[1.5]),
    ("getitem", pt.DTypeError, lambda x: x[[0.5, 1.0]]),
    ("getitem", pt.DTypeError, lambda x: x[pt.constant([0.0])]),
    ("getitem", pt.ShapeError, lambda x: x[5]),
    ("take", pt.DTypeError, lambda x: pt.take(x, [0.5])),
    ("take", pt.DTypeError, lambda x: pt.take(x, "0")),
    ("take", pt.ShapeError, lambda x: pt.take(x, [7])),
    ("gather", pt.DTypeError, lambda x: pt.gather(x, pt.constant([0.0]))),
    ("gather", pt.ShapeError, lambda x: pt.gather(x, [2])),
    # arguments of the wrong Python type (not about dtypes): ArgumentTypeError, a TypeError
    ("sum", pt.ArgumentTypeError, lambda x: pt.sum(x, axis=1.5)),
    ("sum", pt.ArgumentTypeError, lambda x: pt.sum(x, axis=(1.0,))),
    ("argmax", pt.ArgumentTypeError, lambda x: pt.argmax(x, axis="0")),
    ("cumsum", pt.ArgumentTypeError, lambda x: pt.cumsum(x, axis=0.0)),
    ("expand_dims", pt.ArgumentTypeError, lambda x: pt.expand_dims(x, 0.5)),
    ("concat", pt.ArgumentTypeError, lambda x: pt.concat([x, x], axis="0")),
    ("softmax", pt.ArgumentTypeError, lambda x: pt.softmax(x, axis=[0.0])),
    ("tensordot", pt.ArgumentTypeError, lambda x: pt.tensordot(x, x, axes="ij")),
    ("tile", pt.ArgumentTypeError, lambda x: pt.tile(x, 1.5)),
    ("pad", pt.ArgumentTypeError, lambda x: pt.pad(x, 1.5)),
    ("split", pt.ArgumentTypeError, lambda x: pt.split(x, [1.5, 1.5], axis=1)),
    ("linspace", pt.ArgumentTypeError, lambda x: pt.linspace(0, 1, 2.5)),
    ("eye", pt.ArgumentTypeError, lambda x: pt.eye("3")),
    ("clip", pt.ArgumentTypeError, lambda x: pt.clip(x, "0", 1)),
    ("einsum", pt.ArgumentTypeError, lambda x: pt.einsum(3, x)),
    ("pad", pt.ArgumentTypeError, lambda x: pt.pad(x, 1, constant_values="a")),
    # an index tensor on another backend
    ("getitem", pt.BackendMismatchError, lambda x: x[pt.constant([0], backend=_other(x))]),
    # unsupported dtypes and values
    ("cast", pt.DTypeError, lambda x: pt.cast(x, "complex32")),
    ("maximum", pt.DTypeError, lambda x: pt.maximum(x, 1j)),
    ("less", pt.DTypeError, lambda x: x < pt.constant(1j)),
    ("floor", pt.DTypeError, lambda x: pt.floor(pt.constant([1j]))),
    ("max", pt.DTypeError, lambda x: pt.max(pt.constant([1j]))),
    ("cast", pt.DTypeError, lambda x: pt.cast(x, "string")),
    ("arange", pt.DTypeError, lambda x: pt.arange(3, dtype="complex128")),
    ("eye", pt.DTypeError, lambda x: pt.eye(2, dtype="float128")),
    ("clip", pt.DTypeError, lambda x: pt.clip(x > 1, 0, 1)),
    ("linspace", pt.DTypeError, lambda x: pt.linspace(0, 1, 3, dtype="complex32")),
    ("take", pt.ShapeError, lambda x: pt.take(x, pt.constant([-7]))),
    # other invalid arguments
    ("einsum", pt.InvalidArgumentError, lambda x: pt.einsum("ij,jk->ik", x)),
    ("einsum", pt.InvalidArgumentError, lambda x: pt.einsum("ij->k", x)),
    ("einsum", pt.InvalidArgumentError, lambda x: pt.einsum("i$", x)),
    ("pad", pt.InvalidArgumentError, lambda x: pt.pad(x, 1, mode="reflect")),
    ("norm", pt.InvalidArgumentError, lambda x: pt.norm(x, ord="nuc", axis=(0, 1))),
    ("norm", pt.InvalidArgumentError, lambda x: pt.norm(x, ord=-1)),
    ("arange", pt.InvalidArgumentError, lambda x: pt.arange(0, 3, 0)),
    ("gather", pt.InvalidArgumentError, lambda x: pt.gather(x, [0], batch_dims=1)),
    ("linspace", pt.ShapeError, lambda x: pt.linspace(0, 1, -1)),
]


@pytest.mark.parametrize(("op", "error", "call"), BAD,
                         ids=[f"{op}-{i}" for i, (op, _, _) in enumerate(BAD)])
def test_bad_input_raises_the_documented_error(backend: str, op: str, error: type,
                                               call: Callable) -> None:
    x = pt.Variable(X)
    with pt.GradientTape() as tape:
        y = x * 2.0
        n_records = len(tape._records)
        with pytest.raises(error, match=re.escape(op)) as info:
            call(x)
        assert isinstance(info.value, pt.PolytapeError)
        assert len(tape._records) == n_records  # the failing op recorded nothing
    np.testing.assert_array_equal(x.numpy(), X)  # and changed nothing
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.full((2, 3), 2.0))


def test_error_types_are_the_builtins_users_catch() -> None:
    with pytest.raises(ValueError):
        pt.sum(pt.ones((2,)), axis=3)
    with pytest.raises(TypeError):
        pt.cast(pt.ones((2,)), "complex32")
    with pytest.raises(ValueError):
        pt.pad(pt.ones((2,)), 1, mode="edge")
