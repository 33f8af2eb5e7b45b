"""`polytape conformance -n N` (pytest-xdist) writes the certificate a serial run writes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("xdist")

SELECTION = "exp and not logsumexp and not expm1 and not logaddexp"
# What legitimately differs between two runs: clocks, durations, the command line.
_TIMING = {"created", "started", "finished", "duration_s", "duration", "group_durations_s",
           "command_line"}


def _comparable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _comparable(v) for k, v in data.items() if k not in _TIMING}
    if isinstance(data, list):
        return [_comparable(v) for v in data]
    return data


@pytest.mark.slow
def test_parallel_certificate_equals_serial(certify, tmp_path):
    serial = certify("--backend", "numpy", "--samples", "1", "--seed", "7", "-k", SELECTION)
    parallel = certify("--backend", "numpy", "--samples", "1", "--seed", "7", "-k", SELECTION,
                       "-n", "2")
    assert serial.code == parallel.code == 0, parallel.markdown
    cases = serial.cases("numpy")
    assert len(cases) > 20 and {c["group"] for c in cases} >= {"values", "edge values", "random"}
    assert _comparable(parallel.data) == _comparable(serial.data)
    assert parallel.data["run"]["random"] == {"samples": 1, "seed": 7}
    assert parallel.backend("numpy")["ulp"]["exp"]["float64"] > 0


@pytest.mark.slow
def test_pytest_front_door_with_n_writes_the_serial_certificate(certify, tmp_path):
    """``pytest --pyargs polytape.conformance -n 2`` (xdist's own option): the same."""
    selection = "test_value and (exp-numpy or log1p-numpy) and not logaddexp"
    serial = certify("--backend", "numpy", "-k", selection)
    report = tmp_path / "front-door.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "polytape.conformance", "-n", "2", "-q",
         "-p", "no:cacheprovider", "--polytape-backend", "numpy", "-k", selection,
         "--polytape-report", str(report), "--polytape-markdown", str(tmp_path / "front-door.md")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    front = _comparable(json.loads(report.read_text()))
    assert {"exp", "log1p"} <= {c["case"] for c in serial.cases("numpy")}
    assert front["backends"] == _comparable(serial.data)["backends"]
    assert front["verdict"] == "certified"


def test_n_without_xdist_is_a_clear_error(monkeypatch, capsys, tmp_path: Path):
    from polytape.conformance import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "xdist" else real(name, *a))
    with pytest.raises(SystemExit) as exc:
        cli.main(["--backend", "numpy", "-n", "2", "--report", str(tmp_path / "c.json")])
    assert exc.value.code == 2
    assert "needs pytest-xdist, which is not installed (pip install 'polytape[xdist]')" in \
        capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_n_must_be_a_count_or_auto(capsys):
    from polytape.conformance import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["--backend", "numpy", "-n", "two"])
    assert exc.value.code == 2 and "expected a number of processes or 'auto'" in \
        capsys.readouterr().err
