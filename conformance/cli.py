"""``polytape conformance``: certify backends by running the suite with pytest.

Usage::

    polytape conformance [--backend NAME[:DEVICE]]... [--dtype D]... [-k EXPR] [-n N|auto]
                         [--report FILE.json] [--markdown FILE.md] [--html FILE.html]
                         [--junitxml FILE.xml] [--overwrite]
                         [--xfail-file [NAME=]FILE]... [--list] [-v] [-- PYTEST-ARGS...]
    polytape conformance report CERT.json... [--html FILE.html] [--markdown FILE.md]
    polytape conformance report --compare OLD.json NEW.json
    polytape conformance --self-test [--fault NAME]... [-q]
    polytape conformance merge CERT.json... [--report FLEET.json] [--markdown FLEET.md]
                               [--html FLEET.html]

With no ``--backend`` every available backend is certified and the unavailable
ones are listed with the reason. The exit code is 0 only when every selected
backend is certified. The run is ``pytest --pyargs polytape.conformance`` with
the options translated, under a configuration of its own (the current
directory's pytest settings, ``conftest.py`` files and third-party pytest plugins do
not apply; use the pytest front door to run the suite with them).

``report`` and ``merge`` read certificates only (see :mod:`~polytape.conformance.scoreboard`
and :mod:`~polytape.conformance.merge`); they run nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

import polytape as pt
import polytape.conformance as package

from .expected_failures import parse_spec
from .merge import merge_main
from .plugin import DEFAULT_JSON, DEFAULT_MARKDOWN
from .scoreboard import report_main
from .self_test import main as self_test_main

__all__ = ["main", "build_parser", "pytest_args", "invocation"]

# The arguments of the `polytape conformance` call in progress (the certificate quotes them).
invocation: list[str] | None = None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``polytape conformance``."""
    p = argparse.ArgumentParser(
        prog="polytape conformance",
        description="Certify polytape backends (and devices) with the conformance suite.",
        epilog="Arguments after `--` go to pytest unchanged (e.g. `-- -x --maxfail 5`). "
               "`polytape conformance report --help` and `polytape conformance merge --help` "
               "read certificates: scoreboard page, comparison, fleet merge.")
    p.add_argument("--backend", action="append", default=[], metavar="NAME[:DEVICE]",
                   help="backend to certify, e.g. numpy or torch:cuda (repeatable); "
                        "default: every available backend")
    p.add_argument("--dtype", action="append", default=[], metavar="DTYPE",
                   help="only cases in this dtype (repeatable), e.g. float32")
    p.add_argument("--samples", type=int, default=0, metavar="N",
                   help="draw N more random inputs per op, dtype and sample (default 0)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the random draws; printed and stored in the certificate")
    p.add_argument("-n", dest="numprocesses", default=None, metavar="N|auto",
                   help="run the cases in N worker processes (pytest-xdist; 'auto': one per "
                        "CPU); the certificate is the same as a serial run's")
    p.add_argument("-k", dest="keyword", default=None, metavar="EXPR",
                   help="only cases whose id matches the pytest -k expression, e.g. 'exp and float16'")
    p.add_argument("--report", default=None, metavar="FILE.json",
                   help=f"JSON certificate (default: ./{DEFAULT_JSON}; if that exists, a "
                        "timestamped name next to it unless --overwrite)")
    p.add_argument("--markdown", default=None, metavar="FILE.md",
                   help=f"Markdown certificate (default: ./{DEFAULT_MARKDOWN}, as --report)")
    p.add_argument("--html", default=None, metavar="FILE.html",
                   help="also write this run's scoreboard page (self-contained HTML)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the certificates at the default paths instead of writing "
                        "timestamped ones")
    p.add_argument("--junitxml", default=None, metavar="FILE.xml",
                   help="also write pytest's JUnit XML report")
    p.add_argument("--xfail-file", action="append", default=[], metavar="[NAME=]FILE",
                   help="expected failures: 'PATTERN reason' per line (a whole test id; * and ? "
                        "are globs), or a .json file; NAME= limits the file to backend NAME "
                        "(repeatable)")
    p.add_argument("--list", action="store_true",
                   help="list the cases that would run, run nothing")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="one line per case instead of pytest's progress dots")
    return p


def pytest_args(options: argparse.Namespace, extra: Sequence[str], inifile: str) -> list[str]:
    """The pytest command line for parsed ``options`` (``inifile``: an empty config file)."""
    pkg_dir = os.path.dirname(package.__file__)
    # Hermetic: no third-party pytest plugins (they could reorder, skip or add files), no
    # cache files next to the installed package, no 5 x gc.collect() at exit.
    args = ["--pyargs", "polytape.conformance", "--disable-plugin-autoload",
            "-p", "polytape.conformance.plugin",
            "-c", inifile, "--rootdir", pkg_dir, "--import-mode=importlib",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-o", "junit_family=xunit1",
            "-o", "console_output_style=count", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--polytape-cli",
            # One copy of each failure message: the short summary (-rfE) in the default
            # mode, the traceback section with -v.
            *(["-v", "--tb=short"] if options.verbose else
              ["-q", "--tb=no", "-rfE", "-o", "console_output_style=classic"])]
    for spec in options.backend:
        args += ["--polytape-backend", spec]
    for d in options.dtype:
        args += ["--polytape-dtype", d]
    for f in options.xfail_file:
        name, path = parse_spec(f)
        args += ["--polytape-xfail-file", f"{name}={path.resolve()}" if name else str(path.resolve())]
    if options.samples:
        args += ["--polytape-samples", str(options.samples), "--polytape-seed", str(options.seed)]
    if options.keyword:
        args += ["-k", options.keyword]
    if options.numprocesses is not None:
        # Plugin autoload is off (hermetic runs): load xdist by name.
        args += ["-p", "xdist.plugin", "-n", str(options.numprocesses)]
    if options.list:
        args += ["--collect-only"]
    else:
        for flag, value in (("--polytape-report", options.report),
                            ("--polytape-markdown", options.markdown),
                            ("--polytape-html", options.html)):
            if value:
                args += [flag, str(Path(value).resolve())]
        if options.overwrite:
            args.append("--polytape-overwrite")
        if options.junitxml:
            args += ["--junitxml", str(Path(options.junitxml).resolve())]
    return args + list(extra)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``polytape conformance``; returns the exit code (0: every selected backend certified)."""
    global invocation

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["report"]:
        return report_main(argv[1:])
    if argv[:1] == ["merge"]:
        return merge_main(argv[1:])
    if "--self-test" in argv:
        return self_test_main([a for a in argv if a != "--self-test"])
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    parser = build_parser()
    options = parser.parse_args(argv)
    if options.numprocesses is not None:
        if importlib.util.find_spec("xdist") is None:
            parser.error(f"-n {options.numprocesses}: running in parallel needs pytest-xdist, "
                         "which is not installed (pip install 'polytape[xdist]')")
        if options.numprocesses != "auto" and not options.numprocesses.isdigit():
            parser.error(f"-n: expected a number of processes or 'auto', got "
                         f"{options.numprocesses!r}")
    if options.list:
        print(_backend_listing())
    with tempfile.TemporaryDirectory(prefix="polytape-conformance-") as tmp:
        inifile = os.path.join(tmp, "pytest.ini")
        with open(inifile, "w", encoding="utf-8") as f:
            f.write("[pytest]\n")
        invocation = list(argv) + (["--", *extra] if extra else [])
        try:
            code = pytest.main(pytest_args(options, extra, inifile))
        finally:
            invocation = None
    return int(code)


def _backend_listing() -> str:
    lines = ["backends:"]
    for s in pt.list_backends():
        state = "available" if s.available else f"unavailable: {s.reason}"
        lines.append(f"  {s.name:<10} {state}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
