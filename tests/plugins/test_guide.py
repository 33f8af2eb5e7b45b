"""docs/writing-a-backend.md, followed literally, gives a backend that polytape certifies.

The test copies every code block marked ``<!-- file: PATH -->`` into an empty
folder, then runs the guide's command blocks (``<!-- run -->``) and Python blocks
(``<!-- run: python -->``) in order, in a fresh virtual environment that sees
the packages of the environment running the tests (so ``pip install -e`` needs no
network and builds with the setuptools the ``test`` extra installs):

* ``pip install -e X``  -> ``pip install --no-deps --no-build-isolation -e X``;
* ``polytape ARGS``     -> ``python -m polytape.cli ARGS``; ``polytape conformance``
  gets ``-k`` with a subset of cases from every group (the full suite takes about
  25 s on the tutorial backend, the subset a few seconds; the full run is
  ``polytape conformance --backend tutorial`` by hand).

So if the guide's code, its commands or polytape's contract drift apart, this fails.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-backend.md"

# One or more cases from each group of the suite (seeds, tape, values, gradients, second
# order, jacobian, training, errors): quick, and enough to catch a broken step of the guide.
SUBSET = ("kernel_coverage or s000_quadratic or persistent or matmul or getitem or index_add "
          "or einsum or sigmoid or sgd_converges or unsupported_dtype")

_BLOCK = re.compile(r"<!-- (file: (?P<path>\S+)|run(?P<python>: python)?) -->\s*\n"
                    r"```[a-z]*\n(?P<body>.*?)```", re.S)


def guide_steps() -> list[tuple[str, str, str]]:
    """``(kind, path, body)`` for each marked block, in order: kind is file, run or python."""
    steps = []
    for m in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        kind = "file" if m["path"] else ("python" if m["python"] else "run")
        steps.append((kind, m["path"] or "", m["body"]))
    return steps


def _env() -> dict[str, str]:
    # PIP_BUILD_CONSTRAINT (set by CI's oldest-dependencies run) is refused by pip together
    # with --no-build-isolation, which the guide's installs use here.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("POLYTAPE_") and k != "PIP_BUILD_CONSTRAINT"}
    # Listing backends builds each one; torch would cost seconds and is not what this tests.
    env["POLYTAPE_DISABLE_PLUGINS"] = "torch,cupy"
    return env


def _command(line: str, python: str) -> list[str]:
    words = shlex.split(line)
    if words[:3] == ["pip", "install", "-e"]:
        return [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                "-e", *words[3:]]
    if words[0] == "polytape":
        extra = ["-k", SUBSET] if words[1:2] == ["conformance"] else []
        return [python, "-m", "polytape.cli", *words[1:], *extra]
    raise AssertionError(f"the guide runs a command this test does not know: {line!r}")


def test_the_guide_has_the_steps_this_test_follows():
    kinds = [k for k, _, _ in guide_steps()]
    paths = [p for k, p, _ in guide_steps() if k == "file"]
    assert paths == ["polytape-tutorial/pyproject.toml", "polytape-tutorial/polytape_tutorial/__init__.py",
                     "polytape-tutorial/polytape_tutorial/plugin.py",
                     "polytape-tutorial/polytape_tutorial/backend.py",
                     "polytape-tutorial/polytape_tutorial/backend_by_hand.py",
                     "polytape-tutorial/polytape_tutorial/kernels.py"]
    # The generic path (ArrayAPIBackend) is installed, differentiated on and certified first;
    # the hand-written path after it gives the same gradient.
    assert kinds.count("run") == 2 and kinds.count("python") == 2


def test_the_guides_kernels_cover_every_required_op(tmp_path, monkeypatch):
    # Fails (naming the ops) as soon as the op table outgrows the guide.
    from polytape.optable import required_kernels

    for kind, path, body in guide_steps():
        if kind == "file":
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path / "polytape-tutorial"))
    import importlib

    try:
        kernels = importlib.import_module("polytape_tutorial.kernels").make_kernels()
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "polytape_tutorial"]:
            del sys.modules[name]
    assert sorted(required_kernels() - set(kernels)) == []


def _see_outer_packages(python: str) -> None:
    """Make the throwaway venv see this environment's packages, ``.pth`` files included.

    ``venv --system-site-packages`` would not do: run from a venv, it links the *base*
    interpreter's site-packages, where neither polytape nor the tests' setuptools is."""
    outer = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in outer)
    pathlib.Path(purelib, "_polytape_outer_env.pth").write_text(lines)


def test_following_the_guide_gives_a_certified_backend(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    _see_outer_packages(python)
    outputs: dict[str, subprocess.CompletedProcess] = {}
    for kind, path, body in guide_steps():
        if kind == "file":
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            continue
        python_blocks = sum(key.startswith("python") for key in outputs)
        commands = {f"python{python_blocks or ''}": [python, "-c", body]} if kind == "python" else \
            {line: _command(line, python) for line in body.splitlines() if line.strip()}
        for line, cmd in commands.items():
            r = subprocess.run(cmd, cwd=work, env=_env(), capture_output=True, text=True,
                               timeout=300)
            outputs[" ".join(line.split()[:2])] = r
            assert r.returncode == 0, f"{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"

    # `polytape backends`: the new row, from the new distribution, available, on cpu.
    table = outputs["polytape backends"].stdout
    row = next(line for line in table.splitlines() if line.startswith("tutorial "))
    assert row.split()[:3] == ["tutorial", "tutorial", "polytape-tutorial"]
    assert row.split()[-2:] == ["yes", "cpu"]

    # The first gradient, against the closed form sin(x) + x cos(x).
    printed = outputs["python"].stdout.split()
    assert printed[0] == "tutorial"
    values = [float(v) for v in " ".join(printed[1:]).strip("[]").split()]
    assert values == pytest.approx([math.sin(v) + v * math.cos(v) for v in (0.5, 2.0)], rel=1e-5)

    # The hand-written backend: the same gradient as the generic one, to the last digit.
    lines = dict(line.split(maxsplit=1) for line in outputs["python1"].stdout.splitlines())
    assert lines.keys() == {"tutorial", "tutorial_by_hand"}
    assert lines["tutorial"] == lines["tutorial_by_hand"]

    # `polytape conformance`: exit code 0 (checked above) and a certificate that says so.
    cert = json.loads((work / "certificate.json").read_text())
    assert cert["verdict"] == "certified" and cert["selection"]["partial"] is True
    (entry,) = cert["backends"]
    assert entry["name"] == "tutorial" and entry["plugin"] == "tutorial"
    assert entry["counts"]["failed"] == 0 and entry["counts"]["passed"] >= 50
    assert "bfloat16" not in entry["dtypes"] and "float16" in entry["dtypes"]
    groups = set(entry["groups"])
    assert {"seeds", "tape", "values", "gradients", "training", "errors"} <= groups, groups
    # The test runs a subset (-k), and the headline says so.
    assert "**Verdict: CERTIFIED (partial: -k " in (work / "certificate.md").read_text()
