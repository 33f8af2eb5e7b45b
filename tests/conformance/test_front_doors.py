"""Both front doors work: ``polytape conformance`` and ``pytest --pyargs polytape.conformance``.

The subprocess runs keep to NumPy (``--backend numpy`` or ``POLYTAPE_DISABLE_PLUGINS``)
and a few cases (``-k``) so they stay quick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import polytape as pt
from polytape.conformance import cli


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_console_script_writes_default_certificates(tmp_path):
    """`polytape conformance` prints the verdict, writes ./conformance-certificate.{json,md}
    and the JUnit XML, whose test cases carry the measured error and tolerance."""
    proc = _run(["polytape", "conformance", "--backend", "numpy", "-k", "s000 or sin-numpy-float32",
                 "--junitxml", "junit.xml"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CERTIFIED" in proc.stdout
    json_path = tmp_path / "conformance-certificate.json"
    md_path = tmp_path / "conformance-certificate.md"
    assert f"certificate written to {json_path}" in proc.stdout
    assert md_path.exists()
    data = json.loads(json_path.read_text())
    assert data["verdict"] == "certified"
    assert data["selection"]["partial"] is True
    cases = {c["id"]: c for c in data["backends"][0]["cases"]}
    sin = cases["test_op_values.py::test_value[sin-numpy-float32]"]
    assert sin["outcome"] == "passed" and sin["rtol"] == 1.3e-6 and 0 <= sin["error_ratio"] <= 1
    props = {p.get("name"): p.get("value") for p in
             ET.parse(tmp_path / "junit.xml").getroot().iter("property")}
    assert props["polytape_backend"] == "numpy" and "polytape_error_ratio" in props


def test_pytest_pyargs_entry_point(tmp_path):
    """`pytest --pyargs polytape.conformance --polytape-backend numpy` (plugin from its
    entry point) certifies and writes the certificates to the current directory."""
    proc = _run([sys.executable, "-m", "pytest", "--pyargs", "polytape.conformance",
                 "--polytape-backend", "numpy", "-k", "s003", "-q", "-p", "no:cacheprovider"],
                tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "conformance-certificate.json").read_text())
    assert [b["name"] for b in data["backends"]] == ["numpy"]
    assert data["backends"][0]["counts"]["passed"] == 5  # seed 003's five examples


def test_pytest_explicit_plugin_and_conftest_fallback(tmp_path):
    """With plugin autoloading off, `-p polytape.conformance.plugin` still gives the options,
    and without it the package's conftest.py registers the plugin (every available backend)."""
    # Only numpy is left available (the example array-api-strict plugin may be installed too).
    no_autoload = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                   "POLYTAPE_DISABLE_PLUGINS": "torch,cupy,array_api_strict"}
    proc = _run([sys.executable, "-m", "pytest", "--pyargs", "polytape.conformance",
                 "-p", "polytape.conformance.plugin", "--polytape-backend", "numpy",
                 "--polytape-report", "explicit.json", "-k", "s001_nested", "-q",
                 "-p", "no:cacheprovider"], tmp_path, **no_autoload)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((tmp_path / "explicit.json").read_text())["verdict"] == "certified"
    proc = _run([sys.executable, "-m", "pytest", "--pyargs", "polytape.conformance",
                 "-k", "s001_nested", "-q", "-p", "no:cacheprovider"], tmp_path, **no_autoload)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "conformance-certificate.json").read_text())
    assert [b["name"] for b in data["backends"]] == ["numpy"]
    assert data["backends"][0]["counts"]["passed"] == 1


def test_list_runs_nothing(tmp_path, capfd, monkeypatch):
    """`--list` prints the backends and the case ids, writes no certificate."""
    monkeypatch.chdir(tmp_path)
    code = cli.main(["--list", "--backend", "numpy", "-k", "s000"])
    out = capfd.readouterr().out
    assert code == 0
    assert "test_seeds.py::test_seed[s000_quadratic-numpy]" in out
    assert "numpy" in out.splitlines()[1]
    assert not list(tmp_path.iterdir())


def test_default_lists_unavailable_backends(certify):
    """With no --backend every available backend is certified; the unavailable ones are
    listed with their reason and do not fail the run."""
    statuses = pt.list_backends()
    cert = certify("-k", "s000_quadratic")
    assert cert.code == 0, cert.markdown
    assert sorted(b["name"] for b in cert.data["backends"]) == \
        sorted(s.name for s in statuses if s.available)
    unavailable = {u["name"]: u["reason"] for u in cert.data["unavailable"]}
    assert unavailable == {s.name: s.reason for s in statuses if not s.available}
    for name, reason in unavailable.items():
        assert f"`{name}`: {reason}" in cert.markdown


def test_requested_backend_that_cannot_run_fails(certify):
    """An unknown backend (and cupy here, if it cannot run) is not certified: exit 1."""
    cert = certify("--backend", "numpy", "--backend", "no_such_backend", "-k", "s000_quadratic")
    assert cert.code == 1
    assert cert.backend("numpy")["verdict"] == "certified"
    missing = cert.backend("no_such_backend")
    assert missing["verdict"] == "unavailable"
    assert "no backend named 'no_such_backend'" in missing["reason"]
    assert cert.data["verdict"] == "not certified"


def test_bad_dtype_is_a_usage_error(certify):
    """An unknown --dtype stops the run before anything runs (pytest's usage-error code 4)."""
    cert = certify("--backend", "numpy", "--dtype", "float8")
    assert cert.code == 4
    assert cert.data == {}


def test_dtype_selection(certify):
    """--dtype keeps only cases in those dtypes (dtype-independent cases still run)."""
    cert = certify("--backend", "numpy", "--dtype", "float64", "-k", "sin-numpy or s000_quadratic")
    assert cert.code == 0
    dtypes = {c["dtype"] for c in cert.cases("numpy")}
    assert dtypes == {"float64", None}
    assert cert.backend("numpy")["dtypes"] == ["float64"]
