"""polytape: TensorFlow's GradientTape on any array backend.

>>> import polytape as pt
>>> x = pt.Variable(3.0)
>>> with pt.GradientTape() as tape:
...     y = x * x
>>> float(tape.gradient(y, x))
6.0
"""

from __future__ import annotations

from . import dtypes
from .backend_selection import (
    current_backend,
    get_backend,
    list_backends,
    set_backend,
    use_backend,
)
from .control_flow import cond, foldl, foldr, map_fn, scan, vectorized_map, while_loop
from .creation import (
    constant,
    convert_to_tensor,
    full,
    full_like,
    ones,
    ones_like,
    to_backend,
    zeros,
    zeros_like,
)
from .custom_gradient import custom_gradient
from .dtypes import (
    DType,
    as_dtype,
    bfloat16,
    bool_,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    result_type,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .errors import (
    ArgumentTypeError,
    BackendMismatchError,
    BackendNotFoundError,
    BackendUnavailableError,
    DTypeError,
    IndexShapeError,
    InvalidArgumentError,
    NotProvidedError,
    PluginError,
    PolytapeError,
    ShapeAttributeError,
    ShapeError,
    TapeError,
    TracingError,
)
from .forward import ForwardAccumulator
from .function import Function, TensorSpec, function
from .functional import hessian, hessian_vector_product
from .info import (
    __array_api_version__,
    __array_namespace_info__,
    can_cast,
    e,
    finfo,
    iinfo,
    inf,
    isdtype,
    nan,
    newaxis,
    pi,
)
from .module import Module
from .ops import *  # noqa: F401,F403  (the op functions are the public API)
from .ops import __all__ as _ops_all
from .recompute import recompute_grad
from .tape import GradientTape, UnconnectedGradients
from .tensor import Tensor, Variable
from .tensor_shape import TensorShape

__version__ = "0.1.0"

# Sub-packages built on everything above: pt.nn, pt.optimizers, pt.random.
from . import fft, nn, optimizers, random  # noqa: E402,F401

bool = bool_  # noqa: A001  (pt.bool, as in the Array API)

__all__ = [
    "__version__", "dtypes", "DType", "as_dtype", "result_type", "bool", "bool_", "int8",
    "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "bfloat16",
    "float32", "float64", "complex64", "complex128",
    "Tensor", "TensorShape", "Variable", "GradientTape", "UnconnectedGradients", "custom_gradient",
    "constant", "convert_to_tensor", "zeros", "ones", "full", "zeros_like", "ones_like",
    "full_like", "to_backend", "set_backend", "use_backend", "get_backend", "current_backend",
    "list_backends", "PolytapeError", "InvalidArgumentError", "ShapeError", "ShapeAttributeError",
    "IndexShapeError", "DTypeError",
    "ArgumentTypeError",
    "BackendNotFoundError", "BackendUnavailableError", "BackendMismatchError", "TapeError",
    "PluginError", *_ops_all,
    "ForwardAccumulator", "function", "Function", "TensorSpec", "TracingError", "hessian",
    "hessian_vector_product",
    "cond", "while_loop", "map_fn", "foldl", "foldr", "scan", "vectorized_map",
    "Module", "recompute_grad", "NotProvidedError",
    "__array_api_version__", "__array_namespace_info__", "e", "pi", "inf", "nan", "newaxis",
    "finfo", "iinfo", "isdtype", "can_cast", "fft",
]
