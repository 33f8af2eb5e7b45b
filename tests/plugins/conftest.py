"""Fixtures that install small plugins as real entry points, and run Python against them.

A plugin here is a module plus a ``<name>-<version>.dist-info`` folder
(``METADATA`` and ``entry_points.txt``) in a temporary directory. Putting that
directory on ``sys.path`` of a fresh interpreter makes
``importlib.metadata.entry_points(group="polytape")`` list it exactly as if it
had been pip-installed, so the tests exercise polytape's real loading path.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Printed by `run_polytape` scripts: every warning raised, as JSON, on one line.
REPORT_PREFIX = "REPORT:"


def write_distribution(site: pathlib.Path, dist: str, entry_points: dict[str, str],
                       modules: dict[str, str], version: str = "1.0") -> None:
    """Install distribution ``dist`` into folder ``site``: its modules and its dist-info."""
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[polytape]\n{lines}")


def plugin_env(**overrides: str) -> dict[str, str]:
    """The current environment without polytape's plugin variables, plus ``overrides``.

    The torch and cupy plugins are disabled unless ``overrides`` says otherwise: listing
    backends builds each one, and importing torch in every subprocess would cost seconds
    while these tests are about the plugin machinery, not those libraries.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POLYTAPE_STRICT", "POLYTAPE_DISABLE", "POLYTAPE_TRACE",
                                "POLYTAPE_BACKEND"))}
    env["POLYTAPE_DISABLE_PLUGINS"] = "torch,cupy"
    env.update(overrides)
    return env


def run_python(code: str, site: pathlib.Path | None, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``site`` at the front of ``sys.path``."""
    prelude = "import sys\n"
    if site is not None:
        prelude += f"sys.path.insert(0, {str(site)!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, env=plugin_env(**env),
                          cwd=str(site or ROOT))


@pytest.fixture
def site(tmp_path: pathlib.Path) -> pathlib.Path:
    """A folder that acts as site-packages for fake distributions (on the subprocess's path)."""
    path = tmp_path / "site"
    path.mkdir()
    return path


@pytest.fixture
def install(site: pathlib.Path) -> Callable[..., None]:
    """``install(dist, {entry_point: target}, {module: source}, version="1.0")`` into ``site``."""
    def do(dist: str, entry_points: dict[str, str], modules: dict[str, str],
           version: str = "1.0") -> None:
        write_distribution(site, dist, entry_points, modules, version)
    return do


@pytest.fixture
def run_polytape(site: pathlib.Path) -> Callable[..., dict]:
    """Run a script in a fresh interpreter that sees ``site``; return its JSON report.

    The script has ``pt`` (polytape, imported while warnings are recorded) and
    ``report`` (a dict it fills). The result is that dict plus ``warnings`` (the
    messages of polytape's plugin warnings), ``_stderr`` and ``_returncode``.
    """
    def run(code: str, expect_ok: bool = True, **env: str) -> dict:
        script = (
            "import json, warnings\n"
            "with warnings.catch_warnings(record=True) as _caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import polytape as pt\n"
            "    report = {}\n"
            + textwrap.indent(textwrap.dedent(code), "    ")
            + "\nreport['warnings'] = [str(w.message) for w in _caught"
            " if issubclass(w.category, RuntimeWarning) and 'polytape plugin' in str(w.message)]\n"
            f"print({REPORT_PREFIX!r} + json.dumps(report))\n"
        )
        r = run_python(script, site, **env)
        if expect_ok:
            assert r.returncode == 0, r.stderr
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith(REPORT_PREFIX)), None)
        out = json.loads(line[len(REPORT_PREFIX):]) if line else {}
        out["_stderr"] = r.stderr
        out["_returncode"] = r.returncode
        return out
    return run
