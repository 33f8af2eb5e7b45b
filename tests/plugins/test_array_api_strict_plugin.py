"""The example third-party plugin ``examples/polytape-array-api-strict``.

Installed as a real entry point it must be listed, compute gradients, refuse the
dtypes its library lacks, and pass the conformance suite (a subset here; CI
certifies it in full). Its hardest kernels -- NumPy-style indexing, scatter-add,
einsum and erf built from Array API functions only, in polytape's shared table
``polytape.backends.array_api`` -- are checked against NumPy on its namespace.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import pathlib
import sys

import numpy as np
import pytest

xp = pytest.importorskip("array_api_strict")

PLUGIN_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples" / "polytape-array-api-strict"
# A subset of the suite that exercises every kernel this plugin had to build itself.
SUBSET = "kernel_coverage or getitem or index_add or einsum or erf or pad"


@pytest.fixture(scope="module")
def plugin_modules():
    """The plugin's backend module, imported from the example folder (nothing is installed)."""
    sys.path.insert(0, str(PLUGIN_DIR))
    try:
        yield {"backend": importlib.import_module("polytape_array_api_strict.backend")}
    finally:
        sys.path.remove(str(PLUGIN_DIR))
        for name in [m for m in sys.modules if m.split(".")[0] == "polytape_array_api_strict"]:
            del sys.modules[name]


def _bound(module, name):
    """The shared Array API kernel ``module.name`` on the ``array_api_strict`` namespace."""
    fn = getattr(importlib.import_module(f"polytape.backends.array_api.{module}"), name)
    return functools.partial(fn, xp)


@pytest.fixture
def installed(install):
    """The plugin's entry point, exactly as its pyproject.toml declares it, on a fresh path."""
    import tomllib

    meta = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())
    install(meta["project"]["name"], meta["project"]["entry-points"]["polytape"], {},
            meta["project"]["version"])


def test_installed_plugin_is_listed_and_differentiates(installed, site, run_polytape):
    r = run_polytape(f'''
        import contextlib, io, sys
        sys.path.insert(1, {str(PLUGIN_DIR)!r})
        from polytape.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            report["rc"] = main(["backends"])
        report["table"] = out.getvalue()
        with pt.use_backend("array_api_strict"):
            x = pt.Variable([0.5, 2.0, -1.0])
            with pt.GradientTape() as tape:
                y = pt.sum(pt.sin(x) * x)
            g = tape.gradient(y, x)
            report["grad"] = g.numpy().tolist()
            report["native"] = type(g.data).__module__
            try:
                pt.constant([1.0], dtype=pt.float16)
            except pt.DTypeError as exc:
                report["float16"] = str(exc)
        with pt.use_backend("array_api_strict", device="device1"):
            v = pt.constant([1.0, 2.0]) * 3
            report["device"] = [v.device, v.numpy().tolist()]
    ''')
    assert r["rc"] == 0 and r["warnings"] == []
    row = next(line for line in r["table"].splitlines() if line.startswith("array_api_strict"))
    words = row.split()
    assert words[:3] == ["array_api_strict", "array_api_strict", "polytape-array-api-strict"]
    assert words[4] == xp.__version__ and words[5] == "yes"
    assert row.endswith("cpu, device1, device2")
    assert r["grad"] == pytest.approx([math.sin(v) + v * math.cos(v) for v in (0.5, 2.0, -1.0)],
                                      rel=1e-6)
    assert r["native"].startswith("array_api_strict")
    assert "does not support dtype float16" in r["float16"]
    assert r["device"] == ["device1", [3.0, 6.0]]


def test_installed_plugin_passes_the_conformance_subset(installed, site, tmp_path, run_polytape):
    report = tmp_path / "certificate.json"
    r = run_polytape(f'''
        import sys
        sys.path.insert(1, {str(PLUGIN_DIR)!r})
        from polytape.conformance.cli import main
        report["rc"] = main(["--backend", "array_api_strict", "-k", {SUBSET!r},
                             "--report", {str(report)!r}, "--markdown", {str(tmp_path / "c.md")!r}])
    ''')
    assert r["rc"] == 0, r["_stderr"][-3000:]
    cert = json.loads(report.read_text())
    (entry,) = cert["backends"]
    assert entry["name"] == "array_api_strict" and entry["verdict"] == "certified"
    assert entry["counts"]["failed"] == 0 and entry["counts"]["passed"] >= 20
    # the plugin gains the unsigned and complex dtypes through the shared kernel table
    assert entry["dtypes"] == ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                               "uint32", "uint64", "float32", "float64", "complex64", "complex128"]


# -- the kernels the plugin had to build from Array API functions ----------------------------------
RNG = np.random.default_rng(3)
X = RNG.normal(size=(3, 4, 5))
INDEXES = [
    0, -1, (1, 2), (slice(None), 3), (Ellipsis, 1), (None, 1), (1, None, slice(1, 10)),
    (slice(5, 1),), (slice(None, None, -2), Ellipsis, slice(3, -10, -1)),
    np.array([0, 2, 2]), (np.array([0, 2]), np.array([1, 3])), (slice(None), np.array([1, 1, 3])),
    (np.array([0, 1]), slice(1, 3), np.array([4, 0])), (1, slice(None), np.array([[0, 1], [2, 4]])),
    (np.array([[0], [2]]), np.array([1, 3])), X > 0, (X[:, :, 0] > 0,), (slice(None), X[0, :, 0] > 0),
    (np.array([0, 1]), None, np.array([1, 2])), (Ellipsis, np.array([-1, 0])),
    (None, np.array([2, 0]), Ellipsis, None), (np.array(1), slice(None), np.array([0, 1, 2])),
]


def _strict(index):
    if isinstance(index, tuple):
        return tuple(_strict(p) for p in index)
    return xp.asarray(index) if isinstance(index, np.ndarray) else index


@pytest.mark.parametrize("index", INDEXES, ids=[f"i{n}" for n in range(len(INDEXES))])
def test_getitem_and_index_add_follow_numpy(index):
    getitem, index_add = _bound("indexing", "getitem"), _bound("indexing", "index_add")
    got = np.asarray(getitem(xp.asarray(X), _strict(index)))
    expected = X[index]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    values = RNG.normal(size=expected.shape)
    reference = X.copy()
    np.add.at(reference, index, values)  # repeated positions accumulate
    added = index_add(xp.asarray(X), xp.asarray(values), _strict(index))
    np.testing.assert_allclose(np.asarray(added), reference, rtol=1e-14, atol=1e-14)


def test_indexing_errors_are_index_errors():
    getitem = _bound("indexing", "getitem")
    for bad in [(3,), (0, 0, 0, 0), (xp.asarray([5]),), (Ellipsis, Ellipsis)]:
        with pytest.raises(IndexError):
            getitem(xp.asarray(X), bad)


@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii->", [(3, 3)]), ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("i,j->ij", [(2,), (3,)]),
    ("iij,jk,kl->il", [(2, 2, 3), (3, 4), (4, 2)]), ("iji->j", [(2, 3, 2)]),
    ("ij,jk->", [(0, 3), (3, 4)]), ("ab,bc,cd,da->", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ("ijj,jk->ki", [(2, 3, 3), (3, 2)]),
])
def test_einsum_follows_numpy(subscripts, shapes):
    einsum = _bound("einsum", "einsum")
    floats = [RNG.normal(size=s) for s in shapes]
    np.testing.assert_allclose(np.asarray(einsum(*map(xp.asarray, floats), subscripts=subscripts)),
                               np.einsum(subscripts, *floats), rtol=1e-12, atol=1e-12)
    ints = [RNG.integers(-3, 3, size=s).astype(np.int32) for s in shapes]
    got = einsum(*map(xp.asarray, ints), subscripts=subscripts)
    assert got.dtype == xp.int32
    np.testing.assert_array_equal(np.asarray(got), np.einsum(subscripts, *ints))
    bools = [RNG.integers(0, 2, size=s).astype(bool) for s in shapes]
    np.testing.assert_array_equal(np.asarray(einsum(*map(xp.asarray, bools), subscripts=subscripts)),
                                  np.einsum(subscripts, *bools))


def test_erf_matches_the_standard_library():
    erf = _bound("special", "erf")
    x = np.concatenate([np.linspace(-30, 30, 20001), [0.0, 2.5, -2.5, 1e-300]])
    reference = np.array([math.erf(v) for v in x])
    got = np.asarray(erf(xp.asarray(x)))
    assert np.max(np.abs(got - reference) / np.maximum(np.abs(reference), 1e-300)) < 4e-15
    got32 = np.asarray(erf(xp.asarray(x.astype(np.float32))))
    assert got32.dtype == np.float32
    assert np.max(np.abs(got32 - reference)) < 1e-6
    special = np.asarray(erf(xp.asarray([np.inf, -np.inf, np.nan])))
    assert special[0] == 1.0 and special[1] == -1.0 and np.isnan(special[2])


def test_the_kernels_cover_every_required_op(plugin_modules):
    from polytape.optable import required_kernels

    backend = plugin_modules["backend"].ArrayApiStrictBackend()
    assert sorted(required_kernels() - set(backend.kernels)) == []
    # The plugin keeps only its differences: every kernel is the shared table's.
    assert backend.kernels.keys() == set(importlib.import_module(
        "polytape.backends.array_api.kernels").make_kernels(xp))
