"""What the certificate says: an honest headline, overrides, dtypes, environment, matrix, and
when it is (not) written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import polytape as pt
from polytape.backends.numpy.backend import NumpyBackend
from polytape.conformance import SUITE_VERSION, cli
from polytape.conformance.certificate import BackendRecord, CaseResult, Certificate

TAN_ERROR = 0.10
TAN_VALUES = ("test_value and (tan-{name} or sin-{name}) and not arctan and not arcsin and not tanh "
              "and not complex")


def _wrong_tan(x):
    return (np.tan(x) * (1 + TAN_ERROR)).astype(x.dtype)


@pytest.fixture
def self_granted(register_backend, variant):
    """A backend whose tan is 10% wrong and which grants itself (0.5, 0.5) for it."""
    cls = variant("generous", tan=_wrong_tan)
    cls.conformance_tolerances = {f"value/{d}/tan": (0.5, 0.5)
                                  for d in ("float16", "bfloat16", "float32", "float64")}
    return register_backend(cls, "generous")


def test_self_granted_override_is_in_the_headline(certify, self_granted):
    cert = certify("--backend", self_granted, "-k", TAN_VALUES.format(name=self_granted))
    assert cert.code == 0, cert.markdown
    entry = cert.backend(self_granted)
    overrides = {o["key"]: o for o in entry["tolerance_overrides"]}
    assert set(overrides) == {f"value/{d}/tan" for d in ("float16", "bfloat16", "float32", "float64")}
    f32 = overrides["value/float32/tan"]
    assert (f32["rtol"], f32["atol"], f32["source"]) == (0.5, 0.5, "backend")
    assert f32["replaces"] == {"rtol": 1.3e-6, "atol": 1e-5} and f32["looser"] is True
    headline = cert.markdown.splitlines()[2]
    assert headline.startswith("**Verdict: CERTIFIED (partial: -k ")
    assert ("· 4 tolerance overrides (4 granted by the backend: value/float16/tan, value/bfloat16/tan, "
            "value/float32/tan, value/float64/tan) ·") in headline
    assert cert.data["headline"] == headline.replace("**Verdict: ", "").replace("**", "")
    # The list gives the value, the table value it replaces, and how many cases used it.
    assert ("- `value/float32/tan`: rtol 0.5, atol 0.5, granted by the backend; replaces "
            "rtol 1.3e-06, atol 1e-05 (looser; used by 1 case)") in cert.markdown
    tan32 = next(c for c in cert.cases(self_granted) if c["case"] == "tan" and c["dtype"] == "float32")
    # Passed only thanks to the override: the error is far outside the table's tolerance.
    assert tan32["outcome"] == "passed" and tan32["rtol"] == 0.5 and tan32["max_error"] > 1e-3


def test_partial_run_headline(certify):
    cert = certify("--backend", "numpy", "-k", "s000_quadratic")
    assert cert.code == 0
    assert "**Verdict: CERTIFIED**" not in cert.markdown
    headline = cert.markdown.splitlines()[2]
    total = cert.data["selection"]["deselected"] + 1
    assert headline.startswith("**Verdict: CERTIFIED (partial: -k 's000_quadratic', "
                               f"{total - 1} cases deselected)** · 1 of {total} cases ran · "
                               "0 known gaps · 0 tolerance overrides · 0 unsupported dtypes")
    assert cert.data["verdict"] == "certified" and cert.data["scope"] == "partial"
    assert cert.data["verdict_label"].startswith("CERTIFIED (partial: ")


class _Float32Only(NumpyBackend):
    """A device with bool, int32, int64 and float32 only."""

    name = "f32chip"
    native_dtypes = {k: v for k, v in NumpyBackend.native_dtypes.items()
                     if str(k) in ("bool", "int32", "int64", "float32")}


def test_float32_only_backend_lists_what_it_lacks(certify, register_backend):
    name = register_backend(_Float32Only, "f32chip")
    cert = certify("--backend", name, "-k", "test_value and (exp-f32chip or add-f32chip) and not expm1 "
                                            "and not logaddexp")
    assert cert.code == 0, cert.markdown
    entry = cert.backend(name)
    lacking = ["int8", "int16", "uint8", "uint16", "uint32", "uint64", "float16", "bfloat16",
               "float64", "complex64", "complex128"]
    assert entry["unsupported_dtypes"] == lacking and entry["dtypes"] == ["bool", "int32", "int64", "float32"]
    headline = cert.markdown.splitlines()[2]
    assert headline.endswith("· 11 unsupported dtypes (int8, int16, uint8, uint16, uint32, uint64, "
                             "float16, bfloat16, float64, complex64, complex128)")
    verdicts = entry["dtype_verdicts"]
    assert verdicts["float32"] == "certified" and verdicts["int32"] == "certified"
    assert {verdicts[d] for d in lacking} == {"unsupported"}
    exp = entry["matrix"]["ops"]["exp"]
    assert exp["float32"]["status"] == "passed" and exp["float16"]["status"] == "unsupported"
    assert "int32" not in exp  # exp has no integer case: no cell, not "unsupported"
    assert entry["matrix"]["ops"]["add"]["int8"]["status"] == "unsupported"
    assert "| verdict | " in cert.markdown and "| exp |" in cert.markdown


def test_worst_ratio_includes_failed_cases(certify, register_backend, variant, wrong_exp_kernel):
    name = register_backend(variant("bad_exp", exp=wrong_exp_kernel), "bad_exp")
    cert = certify("--backend", name, "-k", f"test_value and (exp-{name} or sin-{name}) and not "
                                            "logsumexp and not arcsin and not expm1 and not "
                                            "complex")
    assert cert.code == 1
    worst = cert.backend(name)["worst"]["values"]
    assert worst["case"] == "exp" and worst["outcome"] == "failed" and worst["ratio"] > 100
    assert f"| {worst['ratio']:.2g} (exp, {worst['dtype']}, failed) |" in cert.markdown
    assert cert.backend(name)["matrix"]["ops"]["exp"]["float32"]["status"] == "failed"
    assert cert.markdown.splitlines()[2].startswith("**Verdict: NOT CERTIFIED** · 4 failed · ")


def test_full_run_headline_from_results():
    """A full run (no selection) is headlined exactly `**Verdict: CERTIFIED**`, counts beside it."""
    b = BackendRecord(spec="x", name="x", requested=True, available=True, dtypes=["float32"],
                      unsupported_dtypes=["float64"])
    results = [CaseResult(id="t[a]", group="values", case="a", backend="x", dtype="float32",
                          outcome="passed"),
               CaseResult(id="t[b]", group="values", case="b", backend="x", dtype="float32",
                          outcome="xfailed", message="known")]
    cert = Certificate([b], results, [], {"partial": False}, [])
    assert cert.markdown().splitlines()[2] == ("**Verdict: CERTIFIED** · 1 known gap · "
                                               "0 tolerance overrides · 1 unsupported dtype (float64)")


def test_environment_block(certify, tmp_path, register_backend):
    class Described(NumpyBackend):
        name = "described"
        conformance_environment = staticmethod(lambda device: {"firmware": "7.1", "device": device})

    name = register_backend(Described, "described")
    gaps = tmp_path / "gaps.txt"
    gaps.write_text("# none yet\n")
    cert = certify("--backend", name, "--xfail-file", str(gaps), "-k", "s000_quadratic")
    env, run = cert.data["environment"], cert.data["run"]
    assert env["python"] and env["os"] and env["cpu"]["logical_cores"] == os.cpu_count()
    assert env["packages"]["numpy"] == np.__version__ and env["packages"]["pytest"]
    assert run["command_line"][:4] == ["polytape", "conformance", "--backend", name]
    assert run["xfail_files"] == [{"path": str(gaps.resolve()), "backend": None,
                                   "sha256": "sha256:" + hashlib.sha256(gaps.read_bytes()).hexdigest()}]
    assert run["suite"]["suite_version"] == SUITE_VERSION
    assert run["duration_s"] >= 0 and run["started"] <= run["finished"]
    assert set(cert.backend(name)["group_durations_s"]) == {"seeds"}
    device_env = cert.backend(name)["environment"]
    assert device_env["firmware"] == "7.1" and device_env["device"] == "cpu"
    assert "- Backend `described`: device cpu, " in cert.markdown and "firmware 7.1" in cert.markdown
    assert "## Environment" in cert.markdown and "sha256:" in cert.markdown


# -- when certificates are written ------------------------------------------------------------
def _cli(tmp_path: Path, *args: str) -> int:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return cli.main(list(args))
    finally:
        os.chdir(cwd)


def test_typo_runs_leave_the_last_certificate_alone(tmp_path, capfd):
    assert _cli(tmp_path, "--backend", "numpy", "-k", "s000_quadratic") == 0
    good = (tmp_path / "conformance-certificate.json").read_text()
    capfd.readouterr()
    assert _cli(tmp_path, "--backend", "nope", "--overwrite") == 1
    out = capfd.readouterr().out
    assert "no certificate written: no conformance case ran (no requested backend is registered)" in out
    assert "no backend named 'nope'" in out
    assert _cli(tmp_path, "--backend", "numpy", "-k", "no_case_has_this_name", "--overwrite") == 1
    assert "no certificate written: no conformance case ran (the selection is empty)" in \
        capfd.readouterr().out
    assert (tmp_path / "conformance-certificate.json").read_text() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conformance-certificate.json",
                                                          "conformance-certificate.md"]


def test_default_certificate_is_not_overwritten_by_accident(tmp_path, capfd):
    assert _cli(tmp_path, "--backend", "numpy", "-k", "s000_quadratic") == 0
    first = (tmp_path / "conformance-certificate.json").read_text()
    assert _cli(tmp_path, "--backend", "numpy", "-k", "s001_nested") == 0
    assert (tmp_path / "conformance-certificate.json").read_text() == first
    stamped = sorted(p.name for p in tmp_path.glob("conformance-certificate-*"))
    assert len(stamped) == 2 and stamped[0].endswith(".json") and stamped[1].endswith(".md")
    assert f"certificate written to {tmp_path / stamped[0]}" in capfd.readouterr().out
    assert _cli(tmp_path, "--backend", "numpy", "-k", "s001_nested", "--overwrite") == 0
    data = json.loads((tmp_path / "conformance-certificate.json").read_text())
    assert data["selection"]["keyword"] == "s001_nested"


def test_unwritable_report_path_gives_an_error_and_the_verdict(tmp_path, capfd):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code = cli.main(["--backend", "numpy", "-k", "s000_quadratic",
                     "--report", str(blocker / "cert.json"), "--markdown", str(tmp_path / "c.md")])
    out = capfd.readouterr()
    assert code == 1
    assert "verdict: CERTIFIED (partial: -k 's000_quadratic'" in out.out
    assert f"could not write the certificate: File exists ({blocker})" in out.out
    assert "Traceback" not in out.out + out.err


def test_case_insensitive_backend_names(certify):
    cert = certify("--backend", "NumPy", "-k", "s000_quadratic")
    assert cert.code == 0
    assert [b["spec"] for b in cert.data["backends"]] == ["numpy"]


# -- what the console says ----------------------------------------------------------------------
def _console(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polytape.cli", "conformance", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "POLYTAPE_DISABLE_PLUGINS": "torch,cupy"})


def test_console_header_progress_and_counts_agree(tmp_path):
    proc = _console(tmp_path, "--backend", "numpy", "-k", "s000 or test_plugin_case or unsupported_dtype")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    header = out.index("polytape conformance: certifying numpy (numpy ")
    progress = out.index("[numpy] ")
    assert header < progress < out.index("verdict: ")
    assert "cases (100%) · " in out and " s elapsed · done · 0 failed" in out
    data = json.loads((tmp_path / "conformance-certificate.json").read_text())
    counts = data["backends"][0]["counts"]
    summary = out.strip().splitlines()[-1]
    # pytest's count of skips equals the certificate's (no "got empty parameter set" extra).
    assert summary.startswith(f"{counts['passed']} passed, {counts['skipped']} skipped, ")
    assert counts["skipped"] == 2 and "...." not in out


def test_each_failure_message_is_printed_once(tmp_path):
    backend = tmp_path / "broken_plugin.py"
    backend.write_text(
        "import numpy as np\n"
        "from polytape.backends.numpy.backend import NumpyBackend\n"
        "from polytape.plugins import BackendInfo, hookimpl\n"
        "class Broken(NumpyBackend):\n"
        "    name = 'broken'\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.kernels = {**self.kernels, 'exp': lambda x: (np.exp(x) * 1.25).astype(x.dtype)}\n"
        "@hookimpl\n"
        "def polytape_register_backends(registry):\n"
        "    registry.add(BackendInfo(name='broken', factory=Broken, priority=-10))\n")
    code = ("import sys, polytape.plugins as p, broken_plugin; p.register(broken_plugin, name='broken');"
            "from polytape.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, "conformance", "--backend", "broken", "-k",
                           "test_value and exp-broken-float64 and not logsumexp"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "POLYTAPE_DISABLE_PLUGINS": "torch,cupy",
                               "PYTHONPATH": str(tmp_path), "COLUMNS": "300"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.count("exceeds the value tolerance") == 1, proc.stdout


# -- polytape --version, polytape backends --json -----------------------------------------------
def test_version_and_backends_json(capsys, monkeypatch):
    from polytape.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith(f"polytape {pt.__version__} (conformance suite ")
    monkeypatch.setenv("POLYTAPE_BACKEND", "NumPy")
    assert main(["backends", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [b["name"] for b in data["backends"]] == [s.name for s in pt.list_backends()]
    assert data["default"]["source"] == "POLYTAPE_BACKEND"
    assert main(["backends"]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith("current default: ")
