"""The pytest plugin behind ``polytape conformance`` and ``pytest --pyargs polytape.conformance``.

pytest loads it through its ``pytest11`` entry point (or ``-p polytape.conformance.plugin``,
or the package's ``conftest.py``). It does nothing to other test suites: it only
acts on test functions marked ``@pytest.mark.polytape_cases(source)``, which live
in this package. For those it

* parametrises each over case x backend x dtype (``pytest_generate_tests``),
* marks the cases listed in expected-failure files ``xfail(strict=True)``,
* collects every report, with the error each case measured and the tolerance it
  met (carried in ``user_properties``, so they reach the JUnit XML too),
* writes the JSON and Markdown certificates and prints a verdict per backend,
* exits non-zero unless every selected backend is certified.

Options (``pytest --help``, group "polytape conformance"): ``--polytape-backend
NAME[:DEVICE]`` (repeatable; default: every available backend), ``--polytape-dtype D``
(repeatable), ``--polytape-xfail-file [NAME=]FILE`` (repeatable),
``--polytape-report FILE.json``, ``--polytape-markdown FILE.md``,
``--polytape-no-certificate``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import polytape as pt
from polytape.plugins import get_plugin_system

from .cases import ALL_DTYPES, ConformanceCase
from .certificate import BackendRecord, CaseResult, Certificate
from .expected_failures import from_backend, load_file, match
from .suite import cases

__all__ = ["ConformanceRun", "DEFAULT_JSON", "DEFAULT_MARKDOWN"]

DEFAULT_JSON = "conformance-certificate.json"
DEFAULT_MARKDOWN = "conformance-certificate.md"
MARKER = "polytape_cases"
_ARGNAMES = ("polytape_case", "polytape_backend", "polytape_dtype")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--polytape-*`` options."""
    group = parser.getgroup("polytape conformance", "certify polytape backends "
                            "(pytest --pyargs polytape.conformance)")
    group.addoption("--polytape-backend", action="append", default=[], metavar="NAME[:DEVICE]",
                    help="backend to certify (repeatable); default: every available backend")
    group.addoption("--polytape-dtype", action="append", default=[], metavar="DTYPE",
                    help="run only cases in these dtypes (repeatable), e.g. float32")
    group.addoption("--polytape-xfail-file", action="append", default=[],
                    metavar="[NAME=]FILE",
                    help="expected failures: test-id substrings with reasons (text or JSON); "
                         "NAME= limits the file to one backend")
    group.addoption("--polytape-report", default=None, metavar="FILE.json",
                    help=f"JSON certificate (default ./{DEFAULT_JSON})")
    group.addoption("--polytape-markdown", default=None, metavar="FILE.md",
                    help=f"Markdown certificate (default ./{DEFAULT_MARKDOWN})")
    group.addoption("--polytape-no-certificate", action="store_true", default=False,
                    help="print the verdict but write no certificate files")


class ConformanceRun:
    """The state of one conformance run: the backends, the entries, the results."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.requested: list[str] = list(dict.fromkeys(_option(config, "polytape_backend", [])))
        self.dtypes: list[str] = list(_option(config, "polytape_dtype", []))
        bad = [d for d in self.dtypes if d not in ALL_DTYPES]
        if bad:
            raise pytest.UsageError(f"--polytape-dtype: unknown dtype(s) {', '.join(bad)}; "
                                    f"choose from {', '.join(ALL_DTYPES)}")
        self.xfail_specs: list[str] = list(_option(config, "polytape_xfail_file", []))
        try:
            self.entries: list[Any] = [e for spec in self.xfail_specs for e in load_file(spec)]
        except ValueError as exc:
            raise pytest.UsageError(f"--polytape-xfail-file: {exc}") from None
        self.active = False
        self.resolved = False
        self.backends: list[Any] = []          # certificate.BackendRecord, selected
        self.unavailable: list[Any] = []       # not selected, cannot run here
        self.results: dict[str, Any] = {}      # nodeid -> certificate.CaseResult
        self.deselected = 0
        self.certificate: Any = None
        self.written: list[Path] = []

    # -- backends ----------------------------------------------------------------------------
    def resolve(self) -> None:
        """Decide the backends to certify (once), and add the expected failures they ship."""
        if self.resolved:
            return
        self.resolved = True
        registry = get_plugin_system().backends
        names = registry.names()
        # Only the backends asked for are built (building one may import torch or cupy).
        wanted = names if not self.requested else \
            [n for n in dict.fromkeys(s.partition(":")[0] for s in self.requested) if n in names]
        statuses = {n: registry.status(n) for n in wanted}
        specs = self.requested or [n for n, s in statuses.items() if s.available]
        for spec in specs:
            name = spec.partition(":")[0]
            status = statuses.get(name)
            record = BackendRecord(spec=spec, name=name, requested=bool(self.requested),
                                   available=False)
            if status is None:
                record.reason = (f"no backend named {name!r} is registered "
                                 f"(registered: {', '.join(names) or 'none'})")
            elif not status.available:
                record.reason = status.reason
                record.plugin = status.plugin
            else:
                try:
                    be, dev = pt.backend_selection.resolve(spec)
                except pt.PolytapeError as exc:
                    record.reason = str(exc)
                else:
                    record.available = True
                    record.version = str(getattr(be, "version", ""))
                    record.device = dev or be.default_device
                    record.devices = list(status.devices)
                    record.plugin = status.plugin
                    supported = [str(d) for d in be.supported_dtypes()]
                    record.dtypes = [d for d in supported if not self.dtypes or d in self.dtypes]
                    self.entries += from_backend(be)
            self.backends.append(record)
        if not self.requested:
            for name, s in statuses.items():
                if s.available:
                    continue
                record = BackendRecord(spec=name, name=name, requested=False, available=False,
                                       reason=s.reason, plugin=s.plugin)
                # A plugin's backend that breaks the contract is a failure, not an absence.
                (self.backends if "rejected" in s.reason else self.unavailable).append(record)

    def runnable(self) -> list[Any]:
        """The selected backends that can run here."""
        self.resolve()
        return [b for b in self.backends if b.available]

    # -- results -----------------------------------------------------------------------------
    def record(self, report: pytest.TestReport) -> None:
        """Fold one phase's report into the case's result."""
        props = dict(report.user_properties)
        if "polytape_group" not in props:
            return
        result = self.results.get(report.nodeid)
        if result is None:
            result = self.results[report.nodeid] = CaseResult(
                id=_short_id(report.nodeid), group=props["polytape_group"],
                case=props["polytape_case"], backend=props["polytape_backend"],
                dtype=props.get("polytape_dtype"), outcome="passed",
                plugin=props.get("polytape_plugin"))
        result.duration += getattr(report, "duration", 0.0) or 0.0
        for key in ("max_error", "rtol", "atol", "error_ratio", "tolerance_source"):
            if f"polytape_{key}" in props:
                setattr(result, key, props[f"polytape_{key}"])
        xfail = getattr(report, "wasxfail", None)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed:
                result.outcome = "xpassed" if xfail is not None else "passed"
                if xfail is not None:
                    result.message = f"passed although listed as an expected failure: {xfail}"
            elif report.skipped:
                result.outcome = "xfailed" if xfail is not None else "skipped"
                result.message = xfail if xfail is not None else _skip_reason(report)
            else:
                text = _failure_message(report)
                if text.startswith("[XPASS(strict)]"):
                    result.outcome = "xpassed"
                    result.message = ("passed although listed as an expected failure "
                                      "(remove the stale entry): " + text[len("[XPASS(strict)]"):].strip())
                else:
                    result.outcome = "failed" if report.when == "call" else "error"
                    result.message = text
        elif report.when == "teardown" and report.failed:
            result.outcome = "error"
            result.message = (result.message + "\n" if result.message else "") + \
                "teardown: " + _failure_message(report)

    # -- hooks of this run (registered as a plugin object per pytest session) -------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fold each report of a conformance case into the results."""
        self.record(report)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Count deselected conformance cases (the certificate then says the run was partial)."""
        self.deselected += sum(1 for i in items if i.get_closest_marker(MARKER) is not None)

    def build_certificate(self, exitstatus: int) -> Any:
        """The :class:`~polytape.conformance.certificate.Certificate` of this run."""
        keyword = _option(self.config, "keyword", "") or ""
        markexpr = _option(self.config, "markexpr", "") or ""
        partial = bool(keyword or markexpr or self.dtypes or self.deselected)
        describe = ", ".join(p for p in (f"-k {keyword!r}" if keyword else "",
                                         f"-m {markexpr!r}" if markexpr else "",
                                         f"dtypes {', '.join(self.dtypes)}" if self.dtypes else "",
                                         f"{self.deselected} cases deselected"
                                         if self.deselected else "") if p)
        selection = {"backends": self.requested or "all available", "dtypes": self.dtypes or "all",
                     "keyword": keyword or None, "markexpr": markexpr or None,
                     "deselected": self.deselected, "partial": partial, "describe": describe,
                     "xfail_files": self.xfail_specs}
        self.certificate = Certificate(self.backends, list(self.results.values()),
                                       self.unavailable, selection,
                                       [e.as_dict() for e in self.entries], exitstatus)
        return self.certificate


_RUN = pytest.StashKey[ConformanceRun]()


def _option(config: pytest.Config, name: str, default: Any) -> Any:
    # The options exist unless the plugin was registered after parsing (conftest fallback).
    value = getattr(config.option, name, default)
    return default if value is None else value


def get_run(config: pytest.Config) -> ConformanceRun:
    """The :class:`ConformanceRun` of this pytest session (registered as a plugin on first use)."""
    run = config.stash.get(_RUN, None)
    if run is None:
        run = config.stash[_RUN] = ConformanceRun(config)
        config.pluginmanager.register(run, "polytape-conformance-run")
    return run


def _short_id(nodeid: str) -> str:
    """The test id without the directory part: ``test_op_values.py::test_value[exp-numpy-float32]``."""
    path, sep, rest = nodeid.partition("::")
    return os.path.basename(path) + sep + rest


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    return str(report.longreprtext or report.longrepr)


# -- hooks ---------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; validate the options."""
    config.addinivalue_line("markers", f"{MARKER}(source): a polytape conformance test "
                                       "function, parametrised with the cases of `source`")
    config.addinivalue_line("markers", "polytape_owner(plugin): the plugin that added a case")
    get_run(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise each conformance test function over case x backend x dtype."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    run = get_run(metafunc.config)
    run.active = True
    backends = run.runnable()
    params = []
    for case in cases(marker.args[0]):
        owner = None
        if marker.args[0] == "plugins":
            case, owner = _plugin_case(case)
        for b in backends:
            for dtype in _dtypes(case, b.dtypes, run.dtypes):
                ident = f"{case.name}-{b.spec}" + (f"-{dtype}" if dtype else "")
                marks = [pytest.mark.polytape_owner(owner)] if owner else []
                params.append(pytest.param(case, b.spec, dtype, id=ident, marks=marks))
    metafunc.parametrize(list(_ARGNAMES), params)


def _plugin_case(case: Any) -> tuple[ConformanceCase, str]:
    """A plugin's case and the plugin that added it; a malformed one becomes a failing case."""
    owner = get_plugin_system().cases.owners.get(id(case), "<unknown plugin>")
    if isinstance(case, ConformanceCase):
        return case, owner

    def invalid(backend: str, dtype: Any) -> None:
        raise AssertionError(f"plugin {owner!r} added {case!r} through polytape_conformance_cases; "
                             "cases must be polytape.conformance.ConformanceCase instances")
    return ConformanceCase(f"invalid_case_from_{owner}", "plugins", invalid, dtypes=None), owner


def _dtypes(case: ConformanceCase, backend_dtypes: list[str], selected: list[str]) -> list[Any]:
    if case.dtypes is None:
        return [None]
    return [d for d in case.dtypes if d in backend_dtypes and (not selected or d in selected)]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Tag conformance items with their case, backend and dtype; mark expected failures."""
    run = config.stash.get(_RUN, None)
    if run is None or not run.active:
        return
    by_spec = {b.spec: b for b in run.backends}
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "polytape_case" not in callspec.params:
            continue
        case = callspec.params["polytape_case"]
        if not isinstance(case, ConformanceCase):
            continue  # an empty parameter set (no cases, or no backend): pytest skips it
        spec = callspec.params["polytape_backend"]
        dtype = callspec.params["polytape_dtype"]
        owner_mark = item.get_closest_marker("polytape_owner")
        item.user_properties += [("polytape_group", case.group), ("polytape_case", case.name),
                                 ("polytape_backend", spec), ("polytape_dtype", dtype)]
        if owner_mark is not None:
            item.user_properties.append(("polytape_plugin", owner_mark.args[0]))
        entry = match(run.entries, _short_id(item.nodeid), by_spec[spec].name)
        if entry is not None:
            item.add_marker(pytest.mark.xfail(reason=f"{entry.reason} [{entry.source}]",
                                              strict=True))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the certificates; the exit status says whether every backend is certified."""
    config = session.config
    run = config.stash.get(_RUN, None)
    if run is None or not (run.active or run.requested):
        return
    if config.option.collectonly or int(exitstatus) in (2, 3, 4):
        return  # --list, interrupted, internal or usage error: no verdict to give
    run.resolve()
    cert = run.build_certificate(int(exitstatus))
    if not cert.certified() and int(exitstatus) in (0, 5):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    cert.exit_status = int(session.exitstatus)
    if _option(config, "polytape_no_certificate", False):
        return
    base = config.invocation_params.dir
    json_path = _option(config, "polytape_report", None) or DEFAULT_JSON
    md_path = _option(config, "polytape_markdown", None) or DEFAULT_MARKDOWN
    run.written = [cert.write_json(base / json_path), cert.write_markdown(base / md_path)]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The verdict per backend, the unavailable backends, and where the certificates are."""
    run = config.stash.get(_RUN, None)
    if run is None or run.certificate is None:
        return
    cert = run.certificate
    terminalreporter.section("polytape conformance")
    for line in cert.summary_lines():
        terminalreporter.write_line(line)
    verdict = "CERTIFIED" if cert.certified() else "NOT CERTIFIED"
    terminalreporter.write_line(f"verdict: {verdict}" + (
        f" (partial run: {cert.selection['describe']})" if cert.selection.get("partial") else ""))
    for path in run.written:
        terminalreporter.write_line(f"certificate written to {path}")
