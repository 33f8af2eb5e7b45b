"""The Array API's manipulation, scan, searching and set functions added for issue #15:
values against ``array_api_strict`` (the behavioural reference), gradients against finite
differences, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def _strict():
    return pytest.importorskip("array_api_strict")


def _same(got, want) -> None:
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype.name == str(want.dtype), (got.dtype, want.dtype)
    np.testing.assert_array_equal(got.numpy(), want)


RNG = np.random.default_rng(7)
M = RNG.integers(-3, 4, (3, 4)).astype(np.int32)
F = RNG.uniform(-2, 2, (3, 4))

# (name, polytape call, array_api_strict call, input)
CASES = [
    ("moveaxis", lambda xp, x: xp.moveaxis(x, 0, -1), np.zeros((2, 3, 4), np.int32)),
    ("moveaxis2", lambda xp, x: xp.moveaxis(x, (0, 1), (2, 0)), np.arange(24).reshape(2, 3, 4)),
    ("roll", lambda xp, x: xp.roll(x, 2), M),
    ("roll_axes", lambda xp, x: xp.roll(x, (1, -1), axis=(0, 1)), M),
    ("repeat", lambda xp, x: xp.repeat(x, 2, axis=1), M),
    ("repeat_flat", lambda xp, x: xp.repeat(x, 3), M),
    ("tril", lambda xp, x: xp.tril(x), M),
    ("triu", lambda xp, x: xp.triu(x, k=1), M),
    ("diff", lambda xp, x: xp.diff(x, axis=0), M),
    ("diff2", lambda xp, x: xp.diff(x, n=2), M),
    ("cumulative_sum", lambda xp, x: xp.cumulative_sum(x, axis=1), M),
    ("cumulative_sum_init", lambda xp, x: xp.cumulative_sum(x, axis=0, include_initial=True), M),
    ("cumulative_sum_int8", lambda xp, x: xp.cumulative_sum(xp.astype(x, xp.int8), axis=1), M),
    ("cumulative_prod", lambda xp, x: xp.cumulative_prod(x, axis=1), M),
    ("cumulative_prod_init", lambda xp, x: xp.cumulative_prod(x, axis=0, include_initial=True), M),
    ("all", lambda xp, x: xp.all(x, axis=1), M),
    ("any", lambda xp, x: xp.any(x), M),
    ("any_keepdims", lambda xp, x: xp.any(x, axis=0, keepdims=True), M),
    ("count_nonzero", lambda xp, x: xp.count_nonzero(x, axis=1), M),
    ("argsort", lambda xp, x: xp.argsort(x, axis=1), M),
    ("argsort_desc", lambda xp, x: xp.argsort(x, axis=0, descending=True), M),
    ("sort", lambda xp, x: xp.sort(x, axis=1), M),
    ("sort_desc", lambda xp, x: xp.sort(x, axis=1, descending=True), F),
    ("vecdot", lambda xp, x: xp.vecdot(x, x), F),
    ("unique_values", lambda xp, x: xp.unique_values(x), M),
    ("take_along_axis", lambda xp, x: xp.take_along_axis(x, xp.argsort(x, axis=1), axis=1), M),
    # Found by the official suite (docs/array-api.md): dtypes kept, one repeat count
    # broadcast, 0-d inputs and empty axes.
    ("vecdot_uint8", lambda xp, x: xp.vecdot(xp.astype(x, xp.uint8), xp.astype(x, xp.uint8)),
     np.abs(M)),
    ("cumulative_prod_dtype", lambda xp, x: xp.cumulative_prod(
        xp.astype(x, xp.uint8), axis=1, dtype=xp.uint8, include_initial=True), np.abs(M)),
    ("cumulative_prod_empty", lambda xp, x: xp.cumulative_prod(
        x, axis=1, dtype=xp.int8, include_initial=True), np.zeros((0, 1), np.int8)),
    ("repeat_one_count", lambda xp, x: xp.repeat(x, xp.asarray([3]), axis=1), M),
    ("repeat_empty", lambda xp, x: xp.repeat(x, xp.asarray([1], dtype=xp.int8)), np.zeros(0, bool)),
    ("unique_inverse_0d", lambda xp, x: xp.unique_inverse(x).inverse_indices, np.array(False)),
    ("unique_all_0d", lambda xp, x: xp.unique_all(x).inverse_indices, np.array(3, np.int32)),
    ("mask_0d_true", lambda xp, x: x[xp.asarray(True)], np.array(2.5)),
    ("mask_0d_false", lambda xp, x: x[xp.asarray(False)], M),
    ("eye_far_diagonal", lambda xp, x: xp.eye(3, 2, k=2**61, dtype=xp.int32), M),
    ("eye_far_below", lambda xp, x: xp.eye(2, 4, k=-9, dtype=xp.int32), M),
]


@pytest.mark.parametrize("name,call,value", CASES, ids=[c[0] for c in CASES])
def test_matches_array_api_strict(backend: str, name, call, value) -> None:
    xp = _strict()
    got = call(pt, pt.constant(value))
    want = call(xp, xp.asarray(value))
    if name in ("cumulative_sum", "cumulative_sum_init", "cumulative_sum_int8", "cumulative_prod",
                "cumulative_prod_init"):
        # array_api_strict's default integer is int64, polytape's int32 (what each reports in
        # default_dtypes()["integral"]): int8 and int32 running sums/products are int32 here.
        assert pt.__array_namespace_info__().default_dtypes()["integral"] is pt.int32
        want = np.asarray(want).astype(np.int32)
    if got.dtype.is_floating:
        np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-12)
    else:
        _same(got, want)


def test_multi_output_functions(backend: str) -> None:
    xp = _strict()
    x = np.array([[3, 1, 3], [0, 1, 0]], np.int32)
    got, want = pt.unique_all(pt.constant(x)), xp.unique_all(xp.asarray(x))
    for g, w in zip(got, want):
        _same(g, w)
    _same(pt.unique_counts(pt.constant(x)).counts, xp.unique_counts(xp.asarray(x)).counts)
    _same(pt.unique_inverse(pt.constant(x)).inverse_indices,
          xp.unique_inverse(xp.asarray(x)).inverse_indices)
    for g, w in zip(pt.nonzero(pt.constant(x)), xp.nonzero(xp.asarray(x))):
        _same(g, w)
    for g, w in zip(pt.unstack(pt.constant(x), axis=1), xp.unstack(xp.asarray(x), axis=1)):
        _same(g, w)
    a2, a3 = pt.arange(2, dtype=pt.int64), pt.arange(3, dtype=pt.int64)  # literals are int32 here
    for g, w in zip(pt.meshgrid(a2, a3), xp.meshgrid(xp.arange(2), xp.arange(3))):
        _same(g, w)
    for g, w in zip(pt.meshgrid(a2, a3, indexing="ij"),
                    xp.meshgrid(xp.arange(2), xp.arange(3), indexing="ij")):
        _same(g, w)
    a, b = pt.broadcast_arrays(pt.zeros((2, 1)), pt.zeros((3,)))
    assert a.shape == b.shape == (2, 3) == pt.broadcast_shapes((2, 1), (3,))
    s = np.array([1, 3, 5, 7], np.int32)
    v = np.array([0, 3, 6, 9], np.int32)
    for side in ("left", "right"):
        _same(pt.searchsorted(pt.constant(s), pt.constant(v), side=side),
              xp.searchsorted(xp.asarray(s), xp.asarray(v), side=side))
    _same(pt.isin(pt.constant(x), pt.constant([1, 3])), np.isin(x, [1, 3]))
    nan = pt.unique_values(pt.constant([np.nan, 1.0, np.nan]))
    assert nan.shape == (3,)  # NaNs are distinct, as the standard says


def _fd_check(fn, value: np.ndarray, eps: float = 1e-6) -> None:
    x = pt.Variable(value)
    w = np.random.default_rng(11).uniform(0.5, 1.5, np.shape(fn(pt.constant(value))))
    with pt.GradientTape() as tape:
        y = pt.sum(fn(x) * w)
    got = tape.gradient(y, x).numpy()
    num = np.zeros_like(value)
    for j in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[j] += eps
        down[j] -= eps
        num[j] = (float(pt.sum(fn(pt.constant(up)) * w))
                  - float(pt.sum(fn(pt.constant(down)) * w))) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-7)


GRAD = {
    "sort": lambda x: pt.sort(x, axis=1),
    "sort_desc": lambda x: pt.sort(x, axis=0, descending=True),
    "cumulative_prod": lambda x: pt.cumulative_prod(x, axis=1),
    "cumulative_prod_init": lambda x: pt.cumulative_prod(x, axis=0, include_initial=True),
    "cumulative_sum": lambda x: pt.cumulative_sum(x, axis=1, include_initial=True),
    "tril": lambda x: pt.tril(x, k=-1),
    "triu": lambda x: pt.triu(x),
    "roll": lambda x: pt.roll(x, 1, axis=1),
    "repeat": lambda x: pt.repeat(x, [1, 0, 2], axis=0),
    "take_along_axis": lambda x: pt.take_along_axis(x, pt.constant([[0, 0, 3]] * 3), axis=1),
    "vecdot": lambda x: pt.vecdot(x, x * 2.0),
    "diff": lambda x: pt.diff(x, axis=1, n=2),
    "moveaxis": lambda x: pt.moveaxis(x, 0, 1),
    "unique_values": lambda x: pt.unique_values(x),
}


@pytest.mark.parametrize("name", sorted(GRAD))
def test_gradients_match_finite_differences(backend: str, name: str) -> None:
    _fd_check(GRAD[name], np.random.default_rng(5).uniform(-2, 2, (3, 4)))


def test_cumulative_prod_gradient_with_zeros(backend: str) -> None:
    v = np.array([[2.0, 0.0, 3.0, 0.0], [1.5, -1.0, 0.0, 2.0], [0.5, 0.7, 1.1, 0.9]])
    _fd_check(lambda x: pt.cumulative_prod(x, axis=1), v)


def test_bad_inputs(backend: str) -> None:
    x = pt.constant([[1.0, 2.0]])
    with pytest.raises(pt.ShapeError):
        pt.tril(pt.constant([1.0]))
    with pytest.raises(pt.ShapeError):
        pt.broadcast_shapes((2,), (3,))
    with pytest.raises(pt.ShapeError):
        pt.cumulative_sum(x)  # 2-d needs an axis
    with pytest.raises(pt.ShapeError):
        pt.nonzero(pt.constant(1.0))
    with pytest.raises(pt.ShapeError):
        pt.take_along_axis(x, pt.constant([[5]]), axis=1)
    with pytest.raises(pt.InvalidArgumentError):
        pt.searchsorted(pt.constant([1.0]), x, side="middle")
    with pytest.raises(pt.DTypeError):
        pt.repeat(x, 1.5)
    with pytest.raises(ValueError):
        pt.meshgrid(pt.arange(2), indexing="yx")


def test_nondifferentiable_results_are_unconnected(backend: str) -> None:
    x = pt.Variable([3.0, 1.0, 2.0])
    with pt.GradientTape() as tape:
        idx = pt.argsort(x)
    assert idx.dtype is pt.int64 and tape.gradient(idx, x) is None
