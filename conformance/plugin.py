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

Under pytest-xdist (``-n N``) the workers collect and run the cases and send what only
collection knows (the case catalog, the deselected count, expected-failure matches) in
``workeroutput``; the controller, which collects nothing, folds the reports xdist forwards
(``pytest_runtest_logreport`` with their ``user_properties``) into the same results and
writes the certificate, cases listed in collection order: the same as a serial run's.

Options (``pytest --help``, group "polytape conformance"): ``--polytape-backend
NAME[:DEVICE]`` (repeatable; default: every available backend), ``--polytape-dtype D``
(repeatable), ``--polytape-xfail-file [NAME=]FILE`` (repeatable),
``--polytape-report FILE.json``, ``--polytape-markdown FILE.md``,
``--polytape-html FILE.html``, ``--polytape-no-certificate``, ``--polytape-overwrite``.

Certificates are written only when a case ran (or a requested backend was found
unable to run): a typo in ``--polytape-backend`` or a ``-k`` that matches nothing
leaves the last certificate alone. The default file names are never overwritten
by accident: when ``conformance-certificate.json`` exists, the run writes
``conformance-certificate-<UTC time>.json`` (and ``.md``) instead, unless
``--polytape-overwrite`` is given; explicitly named files are replaced.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import polytape as pt
from polytape.plugins import get_plugin_system

from . import extended_reference
from .cases import ALL_DTYPES, ConformanceCase
from .certificate import BackendRecord, CaseResult, Certificate
from .environment import backend_environment, file_digest, host_environment, suite_revision
from .expected_failures import from_backend, load_file, match, parse_spec
from .matrix import CatalogEntry
from .overrides import backend_overrides, suite_overrides
from .random_cases import configure as configure_random
from .random_cases import reproduce_command
from .random_cases import settings as random_settings
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
                    help="expected failures: whole test-id patterns (* and ? globs) with reasons, "
                         "as text or .json; "
                         "NAME= limits the file to one backend")
    group.addoption("--polytape-report", default=None, metavar="FILE.json",
                    help=f"JSON certificate (default ./{DEFAULT_JSON})")
    group.addoption("--polytape-markdown", default=None, metavar="FILE.md",
                    help=f"Markdown certificate (default ./{DEFAULT_MARKDOWN})")
    group.addoption("--polytape-no-certificate", action="store_true", default=False,
                    help="print the verdict but write no certificate files")
    group.addoption("--polytape-html", default=None, metavar="FILE.html",
                    help="also write the scoreboard page of this run")
    group.addoption("--polytape-overwrite", action="store_true", default=False,
                    help="replace existing certificates at the default paths (otherwise a "
                         "timestamped name is used)")
    group.addoption("--polytape-samples", type=int, default=0, metavar="N",
                    help="draw N more random inputs per op, dtype and sample (group random)")
    group.addoption("--polytape-seed", type=int, default=0, metavar="S",
                    help="the seed of those draws (stored in the certificate)")
    # Set by `polytape conformance`: messages name its flags, and progress is one line per
    # step with elapsed time and ETA instead of pytest's dots.
    group.addoption("--polytape-cli", action="store_true", default=False, help=argparse_suppress())


def argparse_suppress() -> str:
    """The help text that hides an option from ``--help`` (argparse's SUPPRESS)."""
    return argparse.SUPPRESS


def flag(config: pytest.Config, name: str) -> str:
    """The flag a user typed for option ``name``: ``--xfail-file`` under ``polytape
    conformance``, ``--polytape-xfail-file`` under plain pytest."""
    return f"--{name}" if _option(config, "polytape_cli", False) else f"--polytape-{name}"


class ConformanceRun:
    """The state of one conformance run: the backends, the entries, the results."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.requested: list[str] = list(dict.fromkeys(_option(config, "polytape_backend", [])))
        self.dtypes: list[str] = [d.lower() for d in _option(config, "polytape_dtype", [])]
        bad = [d for d in self.dtypes if d not in ALL_DTYPES]
        if bad:
            raise pytest.UsageError(f"{flag(config, 'dtype')}: unknown dtype(s) {', '.join(bad)}; "
                                    f"choose from {', '.join(ALL_DTYPES)}")
        self.xfail_specs: list[str] = list(_option(config, "polytape_xfail_file", []))
        try:
            self.entries: list[Any] = [e for spec in self.xfail_specs for e in load_file(spec)]
        except ValueError as exc:
            raise pytest.UsageError(f"{flag(config, 'xfail-file')}: {exc}") from None
        self.active = False
        self.resolved = False
        self.backends: list[Any] = []          # certificate.BackendRecord, selected
        self.unavailable: list[Any] = []       # not selected, cannot run here
        self.results: dict[str, Any] = {}      # nodeid -> certificate.CaseResult
        self.deselected = 0
        self.certificate: Any = None
        self.written: list[Path] = []
        self.write_error: str = ""
        self.not_written: str = ""
        self.catalog: dict[tuple[str, str], Any] = {}   # (source, case) -> matrix.CatalogEntry
        self.backend_objects: dict[str, Any] = {}
        self.started = time.time()
        self.started_utc = _utc()
        self.progress = _Progress()
        self.order: dict[str, int] = {}   # nodeid -> collection index (from xdist workers)

    # -- backends ----------------------------------------------------------------------------
    def resolve(self) -> None:
        """Decide the backends to certify (once), and add the expected failures they ship."""
        if self.resolved:
            return
        self.resolved = True
        registry = get_plugin_system().backends
        names = registry.names()
        # Backend names are case-insensitive everywhere (pt.use_backend("Torch") works too).
        self.requested = list(dict.fromkeys(_normal_spec(s) for s in self.requested))
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
                record.unknown = True
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
                    record.distribution = status.source
                    supported = [str(d) for d in be.supported_dtypes()]
                    record.dtypes = [d for d in supported if not self.dtypes or d in self.dtypes]
                    record.unsupported_dtypes = [d for d in ALL_DTYPES if d not in supported
                                                 and (not self.dtypes or d in self.dtypes)]
                    record.environment = backend_environment(be, record.device)
                    self.backend_objects[spec] = be
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
        self.active = True  # under xdist the controller learns it runs the suite here
        result = self.results.get(report.nodeid)
        if result is None:
            result = self.results[report.nodeid] = CaseResult(
                id=_short_id(report.nodeid), group=props["polytape_group"],
                case=props["polytape_case"], backend=props["polytape_backend"],
                dtype=props.get("polytape_dtype"), outcome="passed",
                plugin=props.get("polytape_plugin"), source=props.get("polytape_source"),
                op=props.get("polytape_op"))
        result.duration += getattr(report, "duration", 0.0) or 0.0
        for key in ("max_error", "rtol", "atol", "error_ratio", "tolerance_source",
                    "tolerance_sources", "max_ulp"):
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
                    result.message = _xpass_message(text[len("[XPASS(strict)]"):].strip(),
                                                    props.get("polytape_xfail_entry"), self.entries)
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

    def pytest_report_collectionfinish(self, config: pytest.Config, items: list[pytest.Item]) -> list[str]:
        """The header: which backends, devices and dtypes this run certifies, before it runs
        (and the number of cases per backend, for the progress line)."""
        if not self.active:
            return []
        for item in items:
            props = dict(item.user_properties)
            if "polytape_backend" in props:
                self.progress.total[props["polytape_backend"]] += 1
        lines = []
        for b in self.backends:
            if not b.available:
                word = "rejected" if "rejected" in b.reason else "unavailable"
                lines.append(f"polytape conformance: {b.spec}: {word}: {b.reason}")
                continue
            device = b.environment.get("device_name")
            lines.append(f"polytape conformance: certifying {b.spec} ({b.name} {b.version}, device "
                         f"{b.device}" + (f", {device}" if device else "") + f"): "
                         f"{self.progress.total.get(b.spec, 0)} cases; dtypes {', '.join(b.dtypes)}"
                         + (f"; unsupported {', '.join(b.unsupported_dtypes)}"
                            if b.unsupported_dtypes else ""))
        return lines

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: Any, config: pytest.Config) -> Any:
        """Under ``polytape conformance`` (not ``-v``): no dots, the progress line says it."""
        result = yield
        if (self.active and _option(config, "polytape_cli", False) and config.option.verbose <= 0
                and isinstance(result, tuple) and len(result) == 3):
            return result[0], "", result[2]
        return result

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        """Under ``polytape conformance``: a progress line now and then, with elapsed time and ETA."""
        result = self.results.get(nodeid)
        if result is None or not _option(self.config, "polytape_cli", False):
            return
        line = self.progress.step(result.backend, result.outcome, time.time())
        if line and self.config.option.verbose <= 0:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(line)

    # -- pytest-xdist: workers collect and run, the controller builds the certificate -------
    def worker_summary(self) -> dict[str, Any]:
        """What only collection knows, for the controller (sent in ``workeroutput``)."""
        return {"catalog": [list(e.as_dict().values()) for e in self.catalog.values()],
                "deselected": self.deselected, "totals": dict(self.progress.total),
                "entries_used": [e.used for e in self.entries]}

    def merge_worker_summary(self, data: dict[str, Any]) -> None:
        """Fold one worker's :meth:`worker_summary` in (every worker collects the same items)."""
        self.active = True
        for source, group, case, op, dtypes in data["catalog"]:
            self.catalog.setdefault((source, case), CatalogEntry(
                source, group, case, op, None if dtypes is None else tuple(dtypes)))
        self.deselected = max(self.deselected, int(data["deselected"]))
        for spec, n in data["totals"].items():
            self.progress.total[spec] = max(self.progress.total[spec], int(n))
        self.resolve()
        if len(data["entries_used"]) == len(self.entries):
            for e, used in zip(self.entries, data["entries_used"]):
                e.used = max(e.used, int(used))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """The collection order, so the certificate lists cases as a serial run does."""
        if not self.order:
            self.order = {nodeid: i for i, nodeid in enumerate(ids)}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A worker finished: take what its collection knew."""
        data = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if data is not None:
            self.merge_worker_summary(data)

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
        for b in self.backends:
            if b.spec in self.backend_objects:
                b.tolerance_overrides = backend_overrides(self.backend_objects[b.spec], b.name,
                                                          b.dtypes)
        files = []
        for spec in self.xfail_specs:
            name, path = parse_spec(spec)
            files.append({"path": str(path), "backend": name, "sha256": file_digest(path)})
        finished = time.time()
        run = {"command_line": _command_line(self.config), "started": self.started_utc,
               "finished": _utc(), "duration_s": round(finished - self.started, 2),
               "suite": suite_revision(), "xfail_files": files,
               "seed": "fixed: each case draws its inputs from numpy.random.default_rng("
                       "crc32('<op>/<sample>')), the same on every run and backend"
                       + (f"; plus {random_settings()['samples']} random draws per sample "
                          f"with seed {random_settings()['seed']}"
                          if random_settings()["samples"] else ""),
               "random": random_settings(),
               "ulp_reference": extended_reference.describe(),
               "reproduce": reproduce_command("<backend>", "test_value[<case id>]")}
        results = sorted(self.results.items(), key=lambda kv: self.order.get(kv[0], len(self.order)))
        self.certificate = Certificate(self.backends, [r for _, r in results],
                                       self.unavailable, selection,
                                       [e.as_dict() for e in self.entries], exitstatus,
                                       catalog=list(self.catalog.values()),
                                       environment=host_environment(run["command_line"]),
                                       run=run, suite_overrides=suite_overrides())
        return self.certificate

    def ran_something(self) -> bool:
        """True when a case ran or a registered backend that was asked for cannot run here
        (both are findings worth a certificate; a typo'd name or an empty selection is not)."""
        return bool(self.results) or any(not b.available and not getattr(b, "unknown", False)
                                         for b in self.backends)


_RUN = pytest.StashKey[ConformanceRun]()
_WORKER_KEY = "polytape_conformance"


def _is_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker (which runs cases; the controller writes the certificate)."""
    return hasattr(config, "workerinput")


class _Progress:
    """Counts finished cases per backend and says, now and then, how far the run is."""

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.started: dict[str, float] = {}
        self.last_line = time.time()

    def step(self, backend: str, outcome: str, now: float) -> str | None:
        """Count one finished case; returns a line every 10% (at most one a second) or 15 s,
        and at each backend's end."""
        start = self.started.setdefault(backend, now)
        self.done[backend] += 1
        if outcome in ("failed", "error", "xpassed"):
            self.failed[backend] += 1
        done, total = self.done[backend], max(self.total[backend], self.done[backend])
        every = max(1, total // 10)
        if done != total and (done % every or now - self.last_line < 1) and now - self.last_line < 15:
            return None
        self.last_line = now
        elapsed = now - start
        eta = elapsed / done * (total - done)
        return (f"[{backend}] {done}/{total} cases ({100 * done // total}%) · {elapsed:.0f} s elapsed"
                + (f" · ETA {eta:.0f} s" if done < total else " · done")
                + f" · {self.failed[backend]} failed")


def _utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _normal_spec(spec: str) -> str:
    """``"Torch:cuda:0"`` -> ``"torch:cuda:0"``: the backend name lower-cased, the device kept."""
    name, sep, device = spec.strip().partition(":")
    return name.strip().lower() + sep + device.strip()


def _command_line(config: pytest.Config) -> list[str]:
    """The command the user typed: ``polytape conformance ...`` or ``pytest ...``."""
    from . import cli  # cli imports this module: a top-level import would be a cycle

    if cli.invocation is not None:
        return ["polytape", "conformance", *cli.invocation]
    return [os.path.basename(sys.argv[0]) or "pytest", *config.invocation_params.args]


def _xpass_message(detail: str, entry_text: Any, entries: list[Any]) -> str:
    """Why an XPASS fails: a stale entry (it matches only passing cases) or a too broad one."""
    entry = next((e for e in entries if e.describe() == entry_text), None)
    where = f" by entry {entry_text}" if entry_text else ""
    if entry is not None and entry.used > 1:
        return (f"passed although listed as an expected failure{where}, which matches "
                f"{entry.used} cases: the entry is too broad (narrow it to the failing ids) "
                f"or stale (remove it): {detail}")
    return (f"passed although listed as an expected failure{where} (remove the stale entry): "
            f"{detail}")


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
    configure_random(_option(config, "polytape_samples", 0) or 0,
                     _option(config, "polytape_seed", 0) or 0)
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
    source = marker.args[0]
    for case in cases(source):
        owner = None
        if source == "plugins":
            case, owner = _plugin_case(case)
        run.catalog[source, case.name] = CatalogEntry(source, case.group, case.name, case.op,
                                                      case.dtypes)
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
    keep = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "polytape_case" not in callspec.params:
            keep.append(item)
            continue
        case = callspec.params["polytape_case"]
        if not isinstance(case, ConformanceCase):
            # An empty parameter set (no plugin cases, or no backend): pytest would report
            # a skip the certificate has no case for, so the counts would disagree.
            continue
        keep.append(item)
        spec = callspec.params["polytape_backend"]
        dtype = callspec.params["polytape_dtype"]
        owner_mark = item.get_closest_marker("polytape_owner")
        source = item.get_closest_marker(MARKER).args[0]
        item.user_properties += [("polytape_group", case.group), ("polytape_case", case.name),
                                 ("polytape_backend", spec), ("polytape_dtype", dtype),
                                 ("polytape_source", source), ("polytape_op", case.op)]
        if owner_mark is not None:
            item.user_properties.append(("polytape_plugin", owner_mark.args[0]))
        entry = match(run.entries, _short_id(item.nodeid), by_spec[spec].name)
        if entry is not None:
            item.user_properties.append(("polytape_xfail_entry", entry.describe()))
            item.add_marker(pytest.mark.xfail(reason=f"{entry.reason} [{entry.source}]",
                                              strict=True))
    items[:] = keep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the certificates; the exit status says whether every backend is certified."""
    config = session.config
    run = config.stash.get(_RUN, None)
    if run is None:
        return
    if _is_worker(config):
        if run.active:
            config.workeroutput[_WORKER_KEY] = run.worker_summary()
        return
    if not (run.active or run.requested):
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
    if not run.ran_something():
        run.not_written = ("no certificate written: no conformance case ran "
                           + ("(no requested backend is registered)"
                              if run.backends and all(getattr(b, "unknown", False) for b in run.backends)
                              else "(the selection is empty)")
                           + "; existing certificate files were left as they were")
        return
    base = config.invocation_params.dir
    targets = _targets(config, base)
    try:
        run.written = [cert.write_json(targets["json"]), cert.write_markdown(targets["markdown"])]
        if "html" in targets:
            from .scoreboard import write_html

            run.written.append(write_html([cert.as_dict()], targets["html"]))
    except OSError as exc:
        run.write_error = (f"could not write the certificate: {exc.strerror or exc} "
                           f"({exc.filename or ''})").replace(" ()", "")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _targets(config: pytest.Config, base: Path) -> dict[str, Path]:
    """Where the certificates go: the paths given, or the default names -- timestamped when
    a certificate already sits there and ``--polytape-overwrite`` was not given."""
    json_opt = _option(config, "polytape_report", None)
    md_opt = _option(config, "polytape_markdown", None)
    html_opt = _option(config, "polytape_html", None)
    out = {"json": base / (json_opt or DEFAULT_JSON), "markdown": base / (md_opt or DEFAULT_MARKDOWN)}
    if html_opt:
        out["html"] = base / html_opt
    if not _option(config, "polytape_overwrite", False):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for key, given in (("json", json_opt), ("markdown", md_opt)):
            if not given and out[key].exists():
                out[key] = out[key].with_name(f"{out[key].stem}-{stamp}{out[key].suffix}")
    return out


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The headline, the verdict per backend, the unavailable backends, where the certificates are."""
    run = config.stash.get(_RUN, None)
    if run is None or run.certificate is None:
        return
    cert = run.certificate
    terminalreporter.section("polytape conformance")
    for line in cert.summary_lines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"verdict: {cert.headline()}")
    for path in run.written:
        terminalreporter.write_line(f"certificate written to {path}")
    for text in (run.not_written, run.write_error):
        if text:
            terminalreporter.write_line(text, red=True, bold=True)
