"""The benchmark runner works: ``python -m benchmarks --quick --only scalar_grad`` writes its JSON.

No timing is asserted (speed is never a test); this checks that the runner, the
workload and the report are wired together and that the results file has the
keys RESULTS.md and the targets rely on.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_scalar_grad_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "scalar_grad",
         "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "scalar_grad" in proc.stdout

    results = json.loads(out.read_text())
    for key in ("schema", "created", "options", "machine", "implementations", "workloads",
                "memory", "targets"):
        assert key in results
    assert results["options"]["quick"] is True
    assert results["options"]["only"] == ["scalar_grad"]
    assert set(results["workloads"]) == {"scalar_grad"}
    assert results["memory"] is None          # big_chain was not selected
    for key in ("nproc", "cpu_model", "numpy", "python"):
        assert key in results["machine"]

    w = results["workloads"]["scalar_grad"]
    for key in ("description", "medians_s", "min_s", "ratios", "errors", "unavailable"):
        assert key in w
    assert w["errors"] == {}                  # every available implementation agreed on 9.0
    assert {"polytape-numpy", "numpy"} <= set(w["medians_s"])
    assert all(t > 0 and math.isfinite(t) for t in w["medians_s"].values())
    assert "polytape-numpy/numpy" in w["ratios"]
    ratio = w["ratios"]["polytape-numpy/numpy"]
    assert math.isclose(ratio, w["medians_s"]["polytape-numpy"] / w["medians_s"]["numpy"])
    for impl, info in results["implementations"].items():
        if info["available"] and impl not in w["errors"]:
            assert impl in w["medians_s"]

    texts = [t["target"] for t in results["targets"]]
    assert any(t.startswith("scalar_grad") for t in texts)
    sg = next(t for t in results["targets"] if t["target"].startswith("scalar_grad"))
    if "torch" in w["medians_s"]:
        assert math.isclose(sg["ratio"], w["medians_s"]["polytape-numpy"] / w["medians_s"]["torch"])
        assert sg["holds"] == (sg["ratio"] <= 0.5)


def test_unknown_workload_is_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "no_such_workload"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no_such_workload" in proc.stderr and "scalar_grad" in proc.stderr


def test_function_under_tape_quick_run_prints_ratios() -> None:
    # The script checks every variant's gradients against eager ones before timing them.
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.function_under_tape", "--quick", "--backend", "numpy"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout[proc.stdout.index("\n{") + 1:])
    assert set(results) == {"numpy/chain100", "numpy/mlp"}
    for row in results.values():
        assert set(row) == {"eager", "one op", "op by op"}
        assert row["eager"]["ratio_to_eager"] == 1.0
        assert all(r["median_us"] > 0 for r in row.values())


def test_eager_loop_workloads_agree_with_the_floor(tmp_path: Path) -> None:
    # The eager-loop targets: a Variable made inside the timed call, and a hand-written
    # assign_sub loop. Every available implementation must reach the floor's result (the
    # runner refuses to time one that does not), and each has its target row.
    out = tmp_path / "results.json"
    names = ["scalar_grad_new_variable", "sgd_poly1000"]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", *(a for n in names for a in ("--only", n)),
         "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    for name in names:
        w = results["workloads"][name]
        assert w["errors"] == {}, w["errors"]
        assert {"polytape-numpy", "numpy"} <= set(w["medians_s"])
        rows = [t for t in results["targets"]
                if t["target"].startswith(name) and t["ratio_of"].startswith("polytape-numpy /")]
        assert len(rows) == 1
        if "torch" in w["medians_s"]:
            assert math.isclose(rows[0]["ratio"],
                                w["medians_s"]["polytape-numpy"] / w["medians_s"]["torch"])
    assert "polytape-numpy-fn" in results["workloads"]["sgd_poly1000"]["medians_s"]
