"""Pickling tensors, variables, models and optimizers: each comes back on the backend and
device it left, with its values and dtype, so ``multiprocessing`` and checkpoints work."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import polytape as pt


def _round_trip(obj):
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int32", "int64",
                                   "uint8", "bool"])
def test_a_tensor_comes_back_with_its_values_dtype_backend_and_device(backend, dtype):
    t = pt.constant(np.array([[0.0, 1.5], [-2.25, 3.0]]) if dtype != "bool" else [[True, False]],
                    dtype=dtype)
    u = _round_trip(t)
    assert type(u) is pt.Tensor
    assert u.dtype is t.dtype and u.shape == t.shape
    assert u.backend == backend and u.device == t.device
    np.testing.assert_array_equal(np.asarray(u.numpy(), dtype=np.float64),
                                  np.asarray(t.numpy(), dtype=np.float64))


def test_a_scalar_tensor_stays_a_scalar(backend):
    u = _round_trip(pt.constant(2.5, dtype=pt.float64))
    assert u.shape == () and u.dtype is pt.float64 and float(u) == 2.5


def test_the_pickled_values_are_a_copy(backend):
    v = pt.Variable([1.0, 2.0])
    data = pickle.dumps(v)
    v.assign_add([10.0, 10.0])
    assert pickle.loads(data).numpy().tolist() == [1.0, 2.0]


def test_a_variable_stays_a_differentiable_variable(backend):
    v = pt.Variable([0.5, 2.0], trainable=False, name="weights")
    u = _round_trip(v)
    assert type(u) is pt.Variable
    assert (u.name, u.trainable, u.backend, u.dtype) == ("weights", False, backend, pt.float32)
    w = _round_trip(pt.Variable([0.5, 2.0], name="w"))
    assert w.trainable is True
    with pt.GradientTape() as tape:
        y = pt.sum(pt.sin(w) * w)
    x = np.array([0.5, 2.0])
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), np.sin(x) + x * np.cos(x), rtol=1e-6)


def test_shared_variables_stay_shared(backend):
    v = pt.Variable(1.0)
    a, b = _round_trip([v, v])
    assert a is b


def _model() -> pt.nn.Sequential:
    return pt.nn.Sequential([pt.nn.Input((3,)), pt.nn.Dense(4, activation="relu"),
                             pt.nn.Dropout(0.25), pt.nn.Dense(2, activation="softmax")])


def test_a_model_predicts_the_same_after_a_round_trip(backend):
    pt.random.set_seed(0)
    model = _model()
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    copy = _round_trip(model)
    assert [w.backend for w in copy.weights] == [backend] * 4
    assert [w.name for w in copy.weights] == [w.name for w in model.weights]
    np.testing.assert_array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_compiled_model_resumes_training_with_its_optimizer_state(backend):
    pt.random.set_seed(0)
    model = _model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, size=16)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    copy = _round_trip(model)
    assert int(copy.optimizer.iterations) == 4
    assert len(copy.optimizer.variables) == len(model.optimizer.variables) == 8
    assert copy.optimizer.get_slot(copy.trainable_variables[0], "momentum").backend == backend
    pt.random.set_seed(5)
    expected = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    pt.random.set_seed(5)
    got = copy.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-6), key


class Scaled(pt.nn.Layer):
    """A layer with a weight created non-trainable (pickle finds the class by its module name)."""

    def build(self, input_shape):
        self.scale = self.add_weight((), "ones", trainable=False, name="scale")

    def call(self, inputs):
        return inputs * self.scale


def test_frozen_weights_stay_frozen(backend):
    layer = Scaled()
    layer(pt.ones((2,)))
    copy = _round_trip(layer)
    copy.trainable = False
    copy.trainable = True
    assert copy.non_trainable_weights[0].name == layer.non_trainable_weights[0].name
    assert copy.trainable_weights == []


CHILD = '''
import json
import multiprocessing
import sys

import polytape as pt


def gradient(x):
    with pt.GradientTape() as tape:
        y = pt.sum(pt.sin(x) * x)
    return tape.gradient(y, x)


if __name__ == "__main__":
    with pt.use_backend(sys.argv[1]):
        x = pt.Variable([0.5, 2.0], dtype=pt.float64, name="x")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        g = pool.apply(gradient, (x,))
    print(json.dumps([g.backend, g.dtype.name, g.numpy().tolist()]))
'''


@pytest.mark.slow
def test_a_spawned_child_differentiates_a_pickled_variable(backend, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYTAPE_")}
    r = subprocess.run([sys.executable, str(script), backend], capture_output=True, text=True,
                       timeout=300, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    name, dtype, values = json.loads(r.stdout.splitlines()[-1])
    assert (name, dtype) == (backend, "float64")
    x = np.array([0.5, 2.0])
    np.testing.assert_allclose(values, np.sin(x) + x * np.cos(x), rtol=1e-12)
