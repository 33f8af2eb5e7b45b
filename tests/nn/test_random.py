"""pt.random: the same seed gives the same numbers on every backend (host draws)."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def test_seeded_draws_are_numpys_generator_on_every_backend(backend):
    # The documented contract: PCG64 draws in float64 on the host, then cast.
    ref = np.random.default_rng(5).standard_normal(12).reshape(4, 3)
    got = pt.random.normal((4, 3), mean=1.0, stddev=2.0, seed=5)
    assert got.backend == backend and got.dtype == pt.float32
    np.testing.assert_array_equal(got.numpy(), (ref * 2.0 + 1.0).astype(np.float32))
    u = pt.random.uniform((5,), minval=-1.0, maxval=3.0, dtype=pt.float64, seed=9)
    np.testing.assert_array_equal(u.numpy(), -1.0 + 4.0 * np.random.default_rng(9).random(5))


def test_same_seed_same_numbers_across_backends():
    names = [s.name for s in pt.list_backends() if s.available]
    draws = [pt.random.normal((3, 3), seed=11, backend=n).numpy() for n in names]
    for d in draws[1:]:
        np.testing.assert_array_equal(d, draws[0])


def test_set_seed_restarts_the_global_sequence(backend):
    pt.random.set_seed(3)
    a = [pt.random.normal((4,)).numpy(), pt.random.uniform((2,)).numpy()]
    pt.random.set_seed(3)
    b = [pt.random.normal((4,)).numpy(), pt.random.uniform((2,)).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert pt.random.get_seed() == 3
    assert not np.array_equal(a[0], pt.random.normal((4,)).numpy())  # the sequence moves on
    pt.random.set_seed(4)
    assert not np.array_equal(a[0], pt.random.normal((4,)).numpy())
    pt.random.set_seed(None)
    assert pt.random.get_seed() is None


def test_distributions_have_the_right_shape_and_moments(backend):
    n = 20000
    x = pt.random.normal((n,), mean=3.0, stddev=0.5, seed=1).numpy().astype(np.float64)
    assert abs(x.mean() - 3.0) < 5 * 0.5 / np.sqrt(n)
    assert x.std() == pytest.approx(0.5, rel=0.03)
    t = pt.random.truncated_normal((n,), stddev=2.0, seed=2).numpy()
    assert np.abs(t).max() <= 4.0 and np.abs(t).max() > 3.9
    u = pt.random.uniform((n,), 2.0, 5.0, seed=3).numpy()
    assert u.min() >= 2.0 and u.max() < 5.0 and u.mean() == pytest.approx(3.5, abs=0.05)
    k = pt.random.uniform((n,), 0, 4, dtype=pt.int32, seed=4)
    assert k.dtype == pt.int32 and set(np.unique(k.numpy())) == {0, 1, 2, 3}
    s = pt.random.shuffle(pt.constant(np.arange(10)), seed=0).numpy()
    assert sorted(s.tolist()) == list(range(10)) and s.tolist() != list(range(10))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="maxval"):
        pt.random.uniform((2,), dtype=pt.int32)
    with pytest.raises(pt.DTypeError):
        pt.random.normal((2,), dtype=pt.int32)
    with pytest.raises(pt.ShapeError):
        pt.random.normal((2, -1))
    with pytest.raises(ValueError, match="seed"):
        pt.random.normal((2,), seed=-1)
    with pytest.raises(ValueError, match="seed"):
        pt.random.set_seed(1.5)
