"""polytape's public ops (Array API names): ``pt.exp``, ``pt.sum``, ``pt.matmul``, ...

The functions live in one module per topic -- :mod:`polytape.elementwise`,
:mod:`polytape.reductions`, :mod:`polytape.linalg`, :mod:`polytape.shapes` (shapes and
indexing) and :mod:`polytape.creation` -- and this module gathers them. It is also the
namespace the derivative rules of :mod:`polytape.derivatives` compute with when an outer
tape records a backward pass (``ns.sum``, ``ns.getitem``...), so every name a rule uses
exists here, with ``apply_op`` for calling an op with kernel-style arguments. Importing
it puts the Python operators (``x + y``, ``x[i]``...) on :class:`~polytape.Tensor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import (
    bitwise,
    derivatives,  # noqa: F401  (fills the op table)
    elementwise,
    linalg,
    manipulation,
    reductions,
    searching,
    sets,
    shapes,
)
from .arguments import normalize_axis  # noqa: F401  (re-exported, as before the split)
from .bitwise import (  # noqa: F401  (re-exported)
    bitwise_and,
    bitwise_invert,
    bitwise_left_shift,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
)
from .creation import (
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    full_like,
    linspace,
    ones_like,
    to_backend,
    zeros_like,
)
from .dispatch import operands, run
from .elementwise import (  # noqa: F401  (re-exported)
    abs,
    acos,
    acosh,
    add,
    arccos,
    arcsin,
    arctan,
    arctan2,
    asin,
    asinh,
    astype,
    atan,
    atan2,
    atanh,
    cast,
    ceil,
    clip,
    conj,
    copysign,
    cos,
    cosh,
    divide,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floor_divide,
    greater,
    greater_equal,
    hypot,
    identity,
    imag,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    multiply,
    negative,
    nextafter,
    not_equal,
    positive,
    pow,
    power,
    real,
    reciprocal,
    relu,
    relu_backward,
    remainder,
    round,
    sigmoid,
    sign,
    signbit,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tan,
    tanh,
    trunc,
    where,
)
from .errors import InvalidArgumentError, ShapeAttributeError
from .linalg import (  # noqa: F401  (re-exported)
    einsum,
    matmul,
    norm,
    tensordot,
)
from .manipulation import (  # noqa: F401  (re-exported)
    all,
    any,
    broadcast_arrays,
    broadcast_shapes,
    count_nonzero,
    cumulative_prod,
    cumulative_sum,
    diff,
    meshgrid,
    moveaxis,
    repeat,
    roll,
    take_along_axis,
    tril,
    triu,
    unstack,
    vecdot,
)
from .optable import OPS
from .reductions import (  # noqa: F401  (re-exported)
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)
from .searching import argsort, nonzero, searchsorted, sort  # noqa: F401  (re-exported)
from .sets import (  # noqa: F401  (re-exported)
    isin,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
)
from .shapes import (  # noqa: F401  (re-exported)
    broadcast_to,
    concat,
    expand_dims,
    flip,
    gather,
    getitem,
    index_add,
    matrix_transpose,
    normalize_index,
    pad,
    permute_dims,
    reshape,
    split,
    squeeze,
    stack,
    take,
    tile,
    transpose,
)
from .tensor import Tensor

__all__ = [*elementwise.__all__, *bitwise.__all__, *manipulation.__all__, *searching.__all__,
           *sets.__all__, *reductions.__all__, *linalg.__all__,
           *(n for n in shapes.__all__ if n != "normalize_index"),
           "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye",
           "asarray", "empty", "empty_like", "from_dlpack"]


def apply_op(name: str, *inputs: Any, **attrs: Any) -> Tensor:
    """Run op ``name`` on tensors with its kernel's arguments (arrays first, then attributes),
    recorded like any op: what a derivative rule calls where the public function's arguments
    differ from the kernel's (the other namespace, a backend's kernels, has the same method)."""
    be, tensors, arrays = operands(name, inputs)
    return run(OPS[name], be, tensors, arrays, attrs or None)


# -- operators on Tensor ---------------------------------------------------------------------
def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    def r(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)
    r.__name__ = f"r{fn.__name__}"
    return r


def _install_operators() -> None:
    T = Tensor
    T.__add__, T.__radd__ = add, _reflected(add)
    T.__sub__, T.__rsub__ = subtract, _reflected(subtract)
    T.__mul__, T.__rmul__ = multiply, _reflected(multiply)
    T.__truediv__, T.__rtruediv__ = divide, _reflected(divide)
    T.__floordiv__, T.__rfloordiv__ = floor_divide, _reflected(floor_divide)
    T.__mod__, T.__rmod__ = remainder, _reflected(remainder)
    T.__pow__, T.__rpow__ = power, _reflected(power)
    T.__matmul__, T.__rmatmul__ = matmul, _reflected(matmul)
    T.__neg__ = negative
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__eq__, T.__ne__ = equal, not_equal
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = less, less_equal, greater, greater_equal
    # Bitwise on integer tensors, logical on bool (and float) ones: core/bitwise.py.
    T.__and__, T.__rand__ = bitwise.and_, _reflected(bitwise.and_)
    T.__or__, T.__ror__ = bitwise.or_, _reflected(bitwise.or_)
    T.__xor__, T.__rxor__ = bitwise.xor, _reflected(bitwise.xor)
    T.__invert__ = bitwise.invert
    T.__lshift__, T.__rlshift__ = bitwise_left_shift, _reflected(bitwise_left_shift)
    T.__rshift__, T.__rrshift__ = bitwise_right_shift, _reflected(bitwise_right_shift)
    T.__getitem__ = getitem
    # NumPy-style methods, so `x.sum()` and `x.reshape(...)` read as they do on arrays.
    T.sum, T.mean, T.max, T.min = sum, mean, max, min
    T.reshape = lambda self, *shape: reshape(self, shape[0] if len(shape) == 1 else shape)
    T.transpose = transpose
    T.T = property(lambda self: transpose(self))
    T.astype = cast
    T.prod, T.var, T.std, T.argmax, T.argmin = prod, var, std, argmax, argmin
    T.cumsum, T.clip = cumsum, clip
    # The Array API's array attributes (``xp = x.__array_namespace__()`` and the rest).
    T.__array_namespace__ = _array_namespace
    T.to_device = _to_device
    T.mT = property(_mT)
    T.__complex__ = _complex


def _array_namespace(self: Tensor, /, *, api_version: str | None = None) -> Any:
    import polytape  # a cycle: the package imports this module

    if api_version not in (None, "2021.12", "2022.12", "2023.12", "2024.12"):
        raise InvalidArgumentError(f"polytape implements the Array API 2024.12 (and the earlier "
                                   f"versions), not {api_version!r}")
    return polytape


def _mT(self: Tensor) -> Tensor:
    """The matrix transpose (the standard's ``x.mT``); tensors of fewer than 2 dimensions
    have no such attribute."""
    if self.ndim < 2:
        raise ShapeAttributeError(f"mT: needs a tensor of at least 2 dimensions, got shape {self.shape}; "
                                  "use x.T to reverse the axes of any tensor")
    return matrix_transpose(self)


def _to_device(self: Tensor, device: str, /, *, stream: Any = None) -> Tensor:
    """The tensor on ``device`` of its own backend (the standard's ``to_device``)."""
    return to_backend(self, self._backend, self._backend.normalize_device(device))


def _complex(self: Tensor) -> complex:
    # Real tensors convert as Python's complex(float) does; there are no complex dtypes yet.
    return complex(self._scalar("complex"))


_install_operators()
