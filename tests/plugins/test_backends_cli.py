"""``polytape backends``: one row per registered backend, plugin problems below the table."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

import polytape as pt
from polytape.cli import main

UNAVAILABLE = '''
from polytape.plugins import BackendInfo, hookimpl

def factory():
    import polytape_missing_driver  # noqa: F401

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="offline", factory=factory))
'''

BROKEN = '''
raise RuntimeError("vendor SDK not initialised")
'''


def _rows(text: str) -> dict[str, dict[str, str]]:
    """The table as {backend: {column: cell}}, cut at the header's column positions."""
    lines = text.splitlines()
    header = lines[0]
    names = ["backend", "plugin", "from", "version", "available", "devices / reason"]
    starts = [header.index(n) for n in names] + [None]
    table = lines[1:lines.index("")] if "" in lines else lines[1:]
    rows = {}
    for line in table:
        cells = {n: line[a:b].strip() for n, a, b in zip(names, starts, starts[1:])}
        rows[cells["backend"]] = cells
    return rows


def test_every_registered_backend_has_a_row_that_matches_list_backends(capsys):
    assert main(["backends"]) == 0
    rows = _rows(capsys.readouterr().out)
    statuses = pt.list_backends()
    assert list(rows) == [s.name for s in statuses]
    for s in statuses:
        row = rows[s.name]
        assert row["plugin"] == s.plugin and row["from"] == (s.source or "-")
        assert row["version"] == (s.version or "-")
        assert row["available"] == ("yes" if s.available else "no")
        assert row["devices / reason"] == (", ".join(s.devices) if s.available else s.reason)
    assert rows["numpy"] == {"backend": "numpy", "plugin": "numpy",
                             "from": f"polytape {pt.__version__}", "version": np.__version__,
                             "available": "yes", "devices / reason": "cpu"}


def test_unavailable_backends_show_the_reason_and_broken_plugins_are_listed(install, run_polytape):
    install("polytape-offline", {"offline": "offline_plugin"}, {"offline_plugin": UNAVAILABLE})
    install("polytape-broken", {"broken": "broken_plugin"}, {"broken_plugin": BROKEN})
    r = run_polytape('''
        import contextlib, io
        from polytape.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            report["rc"] = main(["backends"])
        report["out"] = out.getvalue()
    ''', POLYTAPE_DISABLE_PLUGINS="torch,cupy,nothing_by_that_name")
    assert r["rc"] == 0
    rows = _rows(r["out"])
    offline = rows["offline"]
    assert (offline["plugin"], offline["from"], offline["version"], offline["available"]) == \
        ("offline", "polytape-offline 1.0", "-", "no")
    assert "No module named 'polytape_missing_driver'" in offline["devices / reason"]
    assert "(pip install the library it needs)" in offline["devices / reason"]
    assert "broken" not in rows
    tail = r["out"].split("\n\n", 1)[1]
    assert "plugins that failed to load (skipped):" in tail
    assert "broken: could not be imported (broken_plugin): RuntimeError: vendor SDK not initialised" \
        in tail
    # torch is an installed entry point, so it is reported as disabled; unknown names are not.
    assert "plugins disabled by POLYTAPE_DISABLE_PLUGINS: " in tail
    assert "nothing_by_that_name" not in tail
    # The failure is in the listing, so the warning that says the same is not printed too.
    assert "vendor SDK" not in r["_stderr"]


def test_strict_mode_makes_backends_fail_with_the_reason(install, run_polytape):
    install("polytape-broken", {"broken": "broken_plugin"}, {"broken_plugin": BROKEN})
    r = run_polytape('''
        from polytape.cli import main
        report["rc"] = main(["backends"])
    ''', POLYTAPE_STRICT_PLUGINS="1")
    assert r["rc"] == 1
    assert "polytape backends: polytape plugin 'broken'" in r["_stderr"]
    assert "vendor SDK not initialised" in r["_stderr"]


def test_help_and_bad_arguments(capsys):
    assert main(["backends", "--help"]) == 0
    assert "POLYTAPE_DISABLE_PLUGINS" in capsys.readouterr().out
    assert main(["backends", "--bogus"]) == 2
    assert "unexpected arguments --bogus" in capsys.readouterr().err


def test_console_script_runs():
    env = {**os.environ, "POLYTAPE_DISABLE_PLUGINS": "torch,cupy"}  # no seconds of torch import
    r = subprocess.run([sys.executable, "-m", "polytape.cli", "backends"], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert _rows(r.stdout)["numpy"]["available"] == "yes"
