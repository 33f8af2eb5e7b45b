"""The seed documents' examples (``examples/seeds/*.py``) run on every backend and print
what real TensorFlow prints (recorded below; a few values the documents print are wrong).

The scripts run in a subprocess per backend (``POLYTAPE_BACKEND``), all five in one
process so that torch is imported once; the backends' processes run in parallel.
The scripts are stochastic as written (``np.random.randn``, ``random.random()``,
``tf.random.normal`` without seeds), so the runner seeds Python's, NumPy's and
polytape's generators with ``SEED`` before each script -- the scripts themselves
are unchanged. Expected values are computed here from the closed forms.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import polytape as pt

SEEDS_DIR = Path(__file__).resolve().parents[1] / "examples" / "seeds"
SCRIPTS = sorted(p.name for p in SEEDS_DIR.glob("seed*.py"))
BACKENDS = [s.name for s in pt.list_backends() if s.available]
SEED = 1
BEGIN, END = "@@@ BEGIN ", "@@@ END "

RUNNER = f"""
import random, runpy, sys, traceback
import numpy as np
import polytape as pt
seed = int(sys.argv[1])
for path in sys.argv[2:]:
    random.seed(seed); np.random.seed(seed); pt.random.set_seed(seed)
    print({BEGIN!r} + path, flush=True)
    try:
        runpy.run_path(path, run_name="__main__")
    except BaseException:
        traceback.print_exc(file=sys.stdout)
    print({END!r} + path, flush=True)
"""


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict[str, str]]:
    """backend -> script name -> what the script printed."""
    procs = {}
    for be in BACKENDS:
        env = {**os.environ, "POLYTAPE_BACKEND": be}
        procs[be] = subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(SEED), *(str(SEEDS_DIR / s) for s in SCRIPTS)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = {}
    for be, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{be}: runner failed\n{err}"
        sections = {}
        for name in SCRIPTS:
            path = str(SEEDS_DIR / name)
            start = out.index(BEGIN + path) + len(BEGIN + path) + 1
            sections[name] = out[start:out.index(END + path)]
        result[be] = sections
    return result


def _printed(outputs, backend: str, prefix: str) -> str:
    name = next(s for s in SCRIPTS if s.startswith(prefix))
    text = outputs[backend][name]
    assert "Traceback" not in text, f"{name} failed on {backend}:\n{text}"
    return text


def _after(label: str, lines: list[str]) -> list[str]:
    return [line[len(label):].strip() for line in lines if line.startswith(label)]


def _numbers(text: str) -> np.ndarray:
    return np.array(re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", text), dtype=np.float64)


def _tensors(text: str) -> list[tuple[np.ndarray, tuple[int, ...], str]]:
    """Every ``polytape.Tensor(values, shape=..., dtype=...)`` printed, in order."""
    found = []
    for m in re.finditer(r"polytape\.Tensor\((.*?), shape=\((.*?)\), dtype=(\w+)\)", text, re.S):
        values = np.array(ast.literal_eval(m.group(1).replace("\n", " ")), dtype=np.float64)
        shape = tuple(int(s) for s in m.group(2).split(",") if s.strip())
        found.append((values, shape, m.group(3)))
    return found


def test_every_seed_document_has_a_script():
    assert [s[:7] for s in SCRIPTS] == ["seed000", "seed001", "seed002", "seed003", "seed004"]
    for name in SCRIPTS:
        source = (SEEDS_DIR / name).read_text()
        assert not re.search(r"^\s*import tensorflow", source, re.M)
        assert re.search(r"^import polytape\.compat\.tensorflow as tf$", source, re.M)


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed000(outputs, backend):
    lines = _printed(outputs, backend, "seed000").splitlines()
    f = lambda x: x ** 2 + 5 * x + 3  # noqa: E731  (the seed's function)
    x = 2.0
    values = [float(v) for v in _after("Function value:", lines)]
    grads = [float(v) for v in _after("Gradient:", lines)]
    assert values == [f(x), 3.0 ** 2]                  # 17.0 (the seed's "15.0" is wrong), 9.0
    assert grads == [2 * x + 5, 2 * 3.0, 2 * 3.0]      # 9.0, then 6.0 twice
    assert [float(v) for v in _after("Manual Gradient:", lines)] == [2 * x + 5]
    assert [float(v) for v in _after("Automatic Gradient:", lines)] == [2 * x + 5]
    assert [float(v) for v in _after("Function output:", lines)] == [3.0 ** 2]
    # The Dense model: a 1x1 kernel that moved from its start towards 3; the loss fell.
    start = _numbers(_after("Initial weights:", lines)[0])
    trained = _numbers(_after("Trained weights:", lines)[0])
    assert start.shape == trained.shape == (1,)       # the printed [[k]]: one weight
    assert abs(trained[0] - 3.0) < abs(start[0] - 3.0) - 0.3
    losses = ast.literal_eval(_after("Loss per epoch:", lines)[0])
    assert len(losses) == 10 and losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed001(outputs, backend):
    lines = _printed(outputs, backend, "seed001").splitlines()
    assert len(lines) == 6
    for i in (0, 2):   # the examples without `with`: polytape's clear error
        assert lines[i].startswith("TapeError: ") and "with pt.GradientTape() as tape:" in lines[i]
    x, y, w = 3.0, 2.0, 5.0
    assert float(lines[1]) == y            # d(x*y)/dx
    assert float(lines[3]) == 2 * w        # d(w*w)/dw
    assert float(lines[4]) == 3 * x ** 2   # d(x^3)/dx = 27
    assert float(lines[5]) == 6 * x        # d2(x^3)/dx2 = 18


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed002(outputs, backend):
    lines = _printed(outputs, backend, "seed002").splitlines()
    assert lines[0] == ("RuntimeError: tf.gradients is not supported when eager execution is "
                        "enabled. Use tf.GradientTape instead.")
    a, b = 3.0, 2.0
    grads = [float(v) for v in re.findall(r"numpy=([-\d.e]+)>", lines[1])]
    assert grads == [b, a, 1.0]            # d(a*b + c)/d(a, b, c)
    assert lines[1].count(f"backend={backend}") == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed003(outputs, backend):
    text = _printed(outputs, backend, "seed003")
    blocks = text.split("The gradient ")[1:]
    assert blocks[0].split("\n")[1].strip() == "None"       # an unwatched constant
    tensors = _tensors(text)
    x = 2.0
    expected = [2 * x, 2 * x, 2 * x, 3 * x ** 2, 2 * x]     # f'=4 (x3), h'=12, then f' again
    assert [t[0].tolist() for t in tensors] == [[e] for e in expected]
    assert all(shape == (1,) and dtype == "float32" for _, shape, dtype in tensors)
    assert text.strip().splitlines()[-1].startswith(
        "TapeError: A non-persistent GradientTape can only be used to compute one set of "
        "gradients (or jacobians)")


def _nadam_fit(features, targets, w, steps=1000, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    """Keras' Nadam on sum((y - x w)^2), in float64: an independent replica of the seed."""
    m, v, u_product = np.zeros_like(w), np.zeros_like(w), 1.0
    for t in range(1, steps + 1):
        g = -2.0 * features.T @ (targets - features @ w)
        u_t, u_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product *= u_t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return w


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed004(outputs, backend):
    text = _printed(outputs, backend, "seed004")
    tensors = _tensors(text)
    # tf.constant([1, 2, 3]) and tf.Variable([1, 2, 3]): int32 vectors of shape (3,)
    for values, shape, dtype in tensors[:2]:
        assert values.tolist() == [1, 2, 3] and shape == (3,) and dtype == "int32"
    grad, shape, dtype = tensors[2]
    assert shape == () and dtype == "float32" and np.float32(grad) == np.float32(2 * 3.6)
    assert "8.25" in text.splitlines() and 1.5 ** 2 + 2 * 1.5 + 3 == 8.25
    # Polynomial regression: regenerate the run's data and start (the runner's seeds),
    # replay the fit in float64, and compare.
    rs = np.random.RandomState(SEED)
    x_data = rs.randn(20, 1)
    y_data = np.poly1d([1, 2, 3])(x_data) + 0.2 * rs.randn(20, 1)
    w0 = np.random.default_rng(SEED).standard_normal(3).reshape(3, 1)
    start, final = tensors[3][0], tensors[4][0]
    np.testing.assert_allclose(start, w0, rtol=1e-6)
    features = np.hstack([x_data ** 2, x_data, np.ones_like(x_data)])
    np.testing.assert_allclose(final, _nadam_fit(features, y_data, w0), atol=2e-3)
    assert np.abs(final.ravel() - [1.0, 2.0, 3.0]).max() < 0.15
    # The puzzle: A + B = 9, C - D = 1, A + C = 8, B - D = 2, squared error below 1e-6.
    a, b, c, d = (float(t[0]) for t in tensors[5:9])
    for residual in (a + b - 9, c - d - 1, a + c - 8, b - d - 2):
        assert abs(residual) < 1e-3
    sqerr = float(text.strip().splitlines()[-1].split(":")[1])
    assert sqerr < 1e-6
