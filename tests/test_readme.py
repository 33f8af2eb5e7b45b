"""The README's commands are the ones CI runs, and its example runs as written."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_cmd = next(b.strip() for b in _bash_blocks() if "pytest" in b)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci.splitlines()


def test_readme_main_job_runs_the_conformance_suite():
    main_cmd = _bash_blocks()[0].strip()
    assert main_cmd.startswith("pip install") and "polytape conformance" in main_cmd


def test_readme_example_runs_and_prints_the_documented_values():
    code = re.search(r"## Ten lines\n\n```python\n(.*?)```", README, flags=re.S).group(1)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if "BackendUnavailableError" in r.stderr or "BackendNotFoundError" in r.stderr:
        # torch is an optional extra; the NumPy half must still have printed its line
        assert r.stdout.splitlines()[0].split() == ["17.0", "9.0"]
        return
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["17.0", "9.0"]
    assert len(r.stdout.splitlines()) == 2
    assert "Architecture" in README
