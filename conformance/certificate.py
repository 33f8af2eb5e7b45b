"""The certificate: what ran, on what, with what result -- as JSON for CI and Markdown for people.

A backend is **certified** when at least one case passed and no case failed,
errored, or passed while listed as an expected failure (a stale entry). Skipped
cases (a feature this polytape lacks, a second backend that is not there) and
expected failures (listed as known gaps, with their reasons) do not block it.
A backend that was asked for but cannot run is **unavailable**; one whose plugin
breaks the backend contract (e.g. missing kernels) is **rejected**; neither is
certified. Backends nobody asked for that cannot run here are only listed.

The headline never says more than the run: ``CERTIFIED``, ``CERTIFIED (partial:
...)`` or ``NOT CERTIFIED``, followed by the number of known gaps, the tolerance
overrides the backend granted itself (or that were set at run time) and the
dtypes the backend lacks. Each of those is listed in full further down, with the
environment (:mod:`~polytape.conformance.environment`) and the op x dtype
coverage matrix (:mod:`~polytape.conformance.matrix`).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .matrix import CatalogEntry, build_matrix, dtype_verdicts
from .random_cases import reproduce_command
from .suite import GROUP_TITLES, SUITE_VERSION
from .ulp import ulp_markdown, ulp_table

__all__ = ["CaseResult", "BackendRecord", "Certificate", "FAILING", "verdict_label",
           "MATRIX_SYMBOLS"]

FAILING = ("failed", "error", "xpassed")
CERTIFIED, NOT_CERTIFIED, UNAVAILABLE, REJECTED = (
    "certified", "not certified", "unavailable", "rejected")
# One character per matrix status, so a 170-op table stays readable in plain text.
MATRIX_SYMBOLS = {"passed": "✓", "failed": "✗", "known gap": "◐", "unsupported": "—",
                  "not run": "·"}


@dataclass
class CaseResult:
    """One test item's outcome, with the error it measured and the tolerance it met."""

    id: str
    group: str
    case: str
    backend: str
    dtype: str | None
    outcome: str
    max_error: float | None = None
    rtol: float | None = None
    atol: float | None = None
    error_ratio: float | None = None
    tolerance_source: str | None = None
    message: str = ""
    duration: float = 0.0
    plugin: str | None = None
    source: str | None = None
    op: str | None = None
    tolerance_sources: str | None = None
    max_ulp: float | None = None


@dataclass
class BackendRecord:
    """One backend the run covered (or was asked to cover)."""

    spec: str
    name: str
    requested: bool
    available: bool
    reason: str = ""
    version: str = ""
    device: str = ""
    devices: list[str] = field(default_factory=list)
    plugin: str = ""
    dtypes: list[str] = field(default_factory=list)
    distribution: str = ""
    unsupported_dtypes: list[str] = field(default_factory=list)
    tolerance_overrides: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)


def verdict_label(certified: bool, selection: dict[str, Any]) -> str:
    """``CERTIFIED``, ``CERTIFIED (partial: ...)`` or ``NOT CERTIFIED``."""
    if not certified:
        return "NOT CERTIFIED"
    if selection.get("partial"):
        return f"CERTIFIED (partial: {selection.get('describe') or 'a selection of cases'})"
    return "CERTIFIED"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _ratio(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Certificate:
    """Everything the JSON and Markdown certificates say."""

    backends: list[BackendRecord]
    results: list[CaseResult]
    unavailable: list[BackendRecord]
    selection: dict[str, Any]
    expected_failures: list[dict[str, Any]]
    exit_status: int = 0
    catalog: list[CatalogEntry] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    suite_overrides: list[dict[str, Any]] = field(default_factory=list)

    # -- verdicts --------------------------------------------------------------------------
    def results_for(self, spec: str) -> list[CaseResult]:
        """The results of one backend spec."""
        return [r for r in self.results if r.backend == spec]

    def verdict(self, record: BackendRecord) -> str:
        """``certified``, ``not certified``, ``unavailable`` or ``rejected``."""
        if not record.available:
            return REJECTED if "rejected" in record.reason else UNAVAILABLE
        results = self.results_for(record.spec)
        if any(r.outcome in FAILING for r in results):
            return NOT_CERTIFIED
        if not any(r.outcome == "passed" for r in results):
            return NOT_CERTIFIED
        return CERTIFIED

    def certified(self) -> bool:
        """True when every selected backend is certified (and at least one was selected)."""
        return bool(self.backends) and all(self.verdict(b) == CERTIFIED for b in self.backends)

    def counts(self, results: list[CaseResult]) -> dict[str, int]:
        """Outcome -> number of cases."""
        c = Counter(r.outcome for r in results)
        return {k: c.get(k, 0) for k in ("passed", "failed", "error", "xfailed", "xpassed",
                                         "skipped")}

    def label(self) -> str:
        """The verdict as the headline states it (see :func:`verdict_label`)."""
        return verdict_label(self.certified(), self.selection)

    def matrix(self, record: BackendRecord) -> dict[str, Any]:
        """The op x dtype and group x dtype coverage matrix of one backend."""
        selected = self.selection.get("dtypes")
        return build_matrix(self.catalog, self.results_for(record.spec), record.dtypes,
                            selected if isinstance(selected, list) else ())

    def headline_facts(self) -> list[str]:
        """What stands beside the verdict: failures, known gaps, overrides, unsupported dtypes."""
        multi = len(self.backends) > 1
        facts = []
        results = self.results
        c = self.counts(results)
        failing = c["failed"] + c["error"] + c["xpassed"]
        if failing:
            facts.append(f"{failing} failed")
        if self.selection.get("partial"):
            total = len(results) + int(self.selection.get("deselected") or 0)
            facts.append(f"{len(results)} of {total} cases ran")
        facts.append(_plural(c["xfailed"], "known gap"))
        grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
        for b in self.backends:
            for o in b.tolerance_overrides:
                how = "granted by the backend" if o["source"] == "backend" else "set at run time"
                grouped[b.spec, how].append(o["key"])
        text = _plural(sum(len(keys) for keys in grouped.values()), "tolerance override")
        if grouped:
            text += " (" + "; ".join(
                (f"{spec}: " if multi else "") + f"{len(keys)} {how}: " + ", ".join(keys[:4])
                + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
                for (spec, how), keys in grouped.items()) + ")"
        facts.append(text)
        lacking = [(b, b.unsupported_dtypes) for b in self.backends if b.unsupported_dtypes]
        n = sum(len(ds) for _, ds in lacking)
        text = _plural(n, "unsupported dtype")
        if lacking:
            text += " (" + "; ".join((f"{b.spec}: " if multi else "") + ", ".join(ds)
                                     for b, ds in lacking) + ")"
        facts.append(text)
        unavailable = [b for b in self.backends if not b.available]
        if unavailable:
            facts.append(", ".join(f"{b.spec} {self.verdict(b)}" for b in unavailable))
        return facts

    def headline(self) -> str:
        """The one line a manager reads: the verdict label and the facts beside it."""
        return " · ".join([self.label(), *self.headline_facts()])

    # -- JSON ------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """The JSON certificate."""
        backends = []
        for b in self.backends:
            results = self.results_for(b.spec)
            entry = asdict(b)
            entry["verdict"] = self.verdict(b)
            entry["counts"] = self.counts(results)
            entry["groups"] = {g: self.counts(rs) for g, rs in _by_group(results).items()}
            entry["group_durations_s"] = {g: round(sum(r.duration for r in rs), 3)
                                          for g, rs in _by_group(results).items()}
            entry["worst"] = {g: _worst_dict(rs) for g, rs in _by_group(results).items()}
            entry["known_gaps"] = [{"id": r.id, "reason": r.message} for r in results
                                   if r.outcome == "xfailed"]
            entry["failures"] = [{"id": r.id, "outcome": r.outcome, "message": r.message,
                                  "reproduce": self.reproduce(b.spec, r.id)}
                                 for r in results if r.outcome in FAILING]
            if b.available:
                matrix = self.matrix(b)
                entry["matrix"] = matrix
                entry["dtype_verdicts"] = dtype_verdicts(matrix)
            entry["ulp"] = ulp_table(results)
            entry["cases"] = [asdict(r) for r in results]
            backends.append(entry)
        return {
            "suite": "polytape conformance",
            "suite_version": SUITE_VERSION,
            "created": self.run.get("finished") or self.run.get("started"),
            "verdict": CERTIFIED if self.certified() else NOT_CERTIFIED,
            "verdict_label": self.label(),
            "headline": self.headline(),
            "scope": "partial" if self.selection.get("partial") else "full",
            "exit_status": self.exit_status,
            "environment": self.environment,
            "run": self.run,
            "selection": self.selection,
            "backends": backends,
            "unavailable": [{"name": b.name, "reason": b.reason, "requested": b.requested}
                            for b in self.unavailable],
            "expected_failure_entries": self.expected_failures,
            "suite_tolerance_overrides": self.suite_overrides,
        }

    def reproduce(self, backend: str, case_id: str) -> str:
        """The one command that runs case ``case_id`` of ``backend`` again, with this run's
        random draws (``--samples``/``--seed``)."""
        rand = self.run.get("random") or {}
        return reproduce_command(backend, case_id, rand.get("samples", 0), rand.get("seed", 0))

    def write_json(self, path: str | Path) -> Path:
        """Write the JSON certificate; returns its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return p

    # -- Markdown --------------------------------------------------------------------------
    def markdown(self) -> str:
        """The certificate for people: headline, summary, per backend its dtypes, groups,
        overrides, coverage matrix and failures, then the environment."""
        facts = self.headline_facts()
        env = self.environment
        packages = env.get("packages", {})
        revision = self.run.get("suite", {})
        commit = revision.get("commit")
        lines = [
            "# polytape conformance certificate", "",
            f"**Verdict: {self.label()}** · " + " · ".join(facts), "",
            f"Suite {SUITE_VERSION}"
            + (f" (commit {commit[:12]}{', modified' if revision.get('dirty') else ''})" if commit else "")
            + f" · polytape {packages.get('polytape', '?')} · Python {env.get('python', '?')} · "
            f"{env.get('os', '?')} · {self.run.get('started', '?')}"
            + (f" · {self.run['duration_s']:.0f} s" if self.run.get("duration_s") is not None else ""),
            "",
        ]
        if self.selection.get("partial"):
            lines += [f"Partial run: {self.selection.get('describe')}. Cells of the matrix "
                      "marked · were not run.", ""]
        lines += ["| backend | version | device | verdict | passed | failed | known gaps | skipped "
                  "| tolerance overrides | unsupported dtypes |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|---|"]
        for b in self.backends:
            c = self.counts(self.results_for(b.spec))
            lines.append(f"| {b.spec} | {b.version or '-'} | {b.device or '-'} | "
                         f"**{self.verdict(b)}** | {c['passed']} | "
                         f"{c['failed'] + c['error'] + c['xpassed']} | {c['xfailed']} | "
                         f"{c['skipped']} | {len(b.tolerance_overrides)} | "
                         f"{', '.join(b.unsupported_dtypes) or '-'} |")
        lines.append("")
        for b in self.backends:
            lines += self._backend_markdown(b)
        if self.unavailable:
            lines += ["## Backends that cannot run here", ""]
            lines += [f"- `{b.name}`: {b.reason}" for b in self.unavailable]
            lines.append("")
        lines += self._environment_markdown()
        return "\n".join(lines) + "\n"

    def _backend_markdown(self, b: BackendRecord) -> list[str]:
        results = self.results_for(b.spec)
        lines = [f"## {b.spec}: {self.verdict(b)}", ""]
        if not b.available:
            return lines + [f"Cannot run: {b.reason}", ""]
        device_env = b.environment
        device_name = device_env.get("device_name")
        lines += [f"{b.name} {b.version} (plugin `{b.plugin}`"
                  + (f" from {b.distribution}" if b.distribution else "") + f"), device `{b.device}`"
                  + (f" ({device_name})" if device_name else "") + ".", ""]
        matrix = self.matrix(b)
        verdicts = dtype_verdicts(matrix)
        columns = matrix["columns"]
        lines += ["### Dtypes", "",
                  "| | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns),
                  "| verdict | " + " | ".join(verdicts[c] for c in columns) + " |"]
        for group, row in matrix["groups"].items():
            lines.append(f"| {GROUP_TITLES.get(group, group)} | "
                         + " | ".join(_cell(row.get(c)) for c in columns) + " |")
        lines += ["", f"Unsupported by the backend (no case generated): "
                      f"{', '.join(b.unsupported_dtypes) or 'none'}. "
                  "✓ passed · ✗ failed · ◐ known gap · — unsupported · · not run; "
                  "the number is the worst error / tolerance (failed cases included).", ""]
        lines += ["### Groups", "",
                  "| group | passed | failed | known gaps | skipped | worst error / tolerance | time |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for group, rs in _by_group(results).items():
            c = self.counts(rs)
            worst = _worst(rs)
            worst_txt = "-" if worst is None else (
                f"{_fmt_ratio(_ratio(worst.error_ratio))} ({worst.case}"
                + (f", {worst.dtype}" if worst.dtype else "")
                + (f", {worst.outcome}" if worst.outcome != "passed" else "") + ")")
            lines.append(f"| {GROUP_TITLES.get(group, group)} | {c['passed']} | "
                         f"{c['failed'] + c['error'] + c['xpassed']} | {c['xfailed']} | "
                         f"{c['skipped']} | {worst_txt} | {sum(r.duration for r in rs):.1f} s |")
        lines.append("")
        lines += self._overrides_markdown(b, results)
        lines += ulp_markdown(results, self.run.get("ulp_reference"))
        if matrix["ops"]:
            lines += [f"### Coverage matrix: op × dtype ({len(matrix['ops'])} ops)", "",
                      "<details><summary>op × dtype table</summary>", "",
                      "| op | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
            for op, row in matrix["ops"].items():
                lines.append(f"| {op} | " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
            lines += ["", "</details>", ""]
        failures = [r for r in results if r.outcome in FAILING]
        if failures:
            lines += [f"### Failures ({len(failures)})", ""]
            for r in failures:
                lines.append(f"- `{r.id}` ({r.outcome}){_error_text(r)}")
                lines += _quoted(r.message)
                lines += ["", f"  reproduce: `{self.reproduce(b.spec, r.id)}`"]
            lines.append("")
        gaps = [r for r in results if r.outcome == "xfailed"]
        if gaps:
            lines += [f"### Known gaps ({len(gaps)})", ""]
            lines += [f"- `{r.id}`: {r.message}" for r in gaps]
            lines.append("")
        skips = Counter(r.message for r in results if r.outcome == "skipped")
        if skips:
            lines += ["### Skipped", ""]
            lines += [f"- {n} × {reason}" for reason, n in skips.most_common()]
            lines.append("")
        return lines

    def _overrides_markdown(self, b: BackendRecord, results: list[CaseResult]) -> list[str]:
        if not b.tolerance_overrides:
            return ["### Tolerance overrides", "",
                    "None: every comparison used the suite's tables (see the end of this "
                    "certificate for the suite's own per-op entries).", ""]
        lines = [f"### Tolerance overrides ({len(b.tolerance_overrides)})", ""]
        for o in b.tolerance_overrides:
            if "error" in o:
                lines.append(f"- `{o['key']}` from the {o['source']}: {o['error']}")
                continue
            used = sum(1 for r in results if r.tolerance_sources and o["tag"] in r.tolerance_sources)
            base = o["replaces"]
            lines.append(f"- `{o['key']}`: rtol {o['rtol']:g}, atol {o['atol']:g}, granted by the "
                         f"{o['source']}; replaces rtol {base['rtol']:g}, atol {base['atol']:g} "
                         f"({'looser' if o['looser'] else 'not looser'}; used by "
                         f"{_plural(used, 'case')})")
        return lines + [""]

    def _environment_markdown(self) -> list[str]:
        env, run = self.environment, self.run
        if not env and not run:
            return []
        cpu = env.get("cpu", {})
        mem = env.get("memory_bytes")
        threads = env.get("threads", {})
        lines = ["## Environment", "",
                 f"- Host: `{env.get('hostname', '?')}`, {cpu.get('model', '?')} "
                 f"({cpu.get('logical_cores', '?')} logical cores, {cpu.get('usable_cores', '?')} usable)"
                 + (f", {mem / 2**30:.1f} GiB memory" if mem else ""),
                 f"- OS: {env.get('os', '?')}; Python {env.get('python', '?')} "
                 f"({env.get('implementation', '?')})"]
        blas = threads.get("blas") or []
        variables = threads.get("variables") or {}
        lines.append("- Threads: " + (", ".join(f"{t.get('internal_api')} {t.get('num_threads')}"
                                                for t in blas) or "BLAS pools not inspected")
                     + ("; " + ", ".join(f"{k}={v}" for k, v in variables.items()) if variables else ""))
        for b in self.backends:
            if b.environment:
                facts = ", ".join(f"{k} {_fmt_env(k, v)}" for k, v in b.environment.items())
                lines.append(f"- Backend `{b.spec}`: {facts}")
        command = run.get("command_line") or env.get("command_line") or []
        lines.append(f"- Command line: `{' '.join(command)}`")
        revision = run.get("suite", {})
        lines.append(f"- Suite: {revision.get('suite_version', SUITE_VERSION)}"
                     + (f", commit {revision['commit']}" if revision.get("commit") else "")
                     + (" (working tree modified)" if revision.get("dirty") else ""))
        files = run.get("xfail_files") or []
        lines.append("- Expected-failure files: " + ("; ".join(
            f"`{f['path']}`" + (f" (backend {f['backend']})" if f.get("backend") else "")
            + f" {f['sha256']}" for f in files) or "none"))
        lines.append(f"- Random inputs: {run.get('seed', '?')}")
        rand = run.get("random") or {}
        samples, seed = rand.get("samples", 0), rand.get("seed", 0)
        template = reproduce_command("<backend>", "test_value[<case id>]", samples, seed)
        lines.append(f"- Seed: {seed}, random draws per sample: {samples}; reproduce a "
                     f"failure with `{template}`")
        lines.append(f"- Started {run.get('started', '?')}, finished {run.get('finished', '?')}"
                     + (f", {run['duration_s']:.1f} s" if run.get("duration_s") is not None else ""))
        packages = env.get("packages", {})
        shown = [n for n in ("polytape", "numpy", "ml_dtypes", "pluggy", "pytest", "torch", "cupy",
                             "scipy") if n in packages]
        shown += [b.distribution.rsplit(" ", 1)[0] for b in self.backends
                  if b.distribution and b.distribution.rsplit(" ", 1)[0] in packages
                  and b.distribution.rsplit(" ", 1)[0] not in shown]
        lines.append("- Packages: " + ", ".join(f"{n} {packages[n]}" for n in shown)
                     + f" ({len(packages)} installed distributions in the JSON)")
        lines.append("")
        if self.suite_overrides:
            lines += ["## The suite's per-op tolerance table", "",
                      "The same for every backend; each entry replaces the per-dtype table value.", ""]
            grouped: dict[tuple, list[str]] = defaultdict(list)
            for o in self.suite_overrides:
                grouped[o["kind"], o["dtype"], o["rtol"], o["atol"], o["replaces"]["rtol"],
                        o["replaces"]["atol"]].append(o["op"])
            for (kind, dtype, rtol, atol, brtol, batol), ops in grouped.items():
                lines.append(f"- {kind} {dtype}: rtol {rtol:g}, atol {atol:g} (table {brtol:g}/{batol:g})"
                             f" for {', '.join(ops)}")
            lines.append("")
        return lines

    def write_markdown(self, path: str | Path) -> Path:
        """Write the Markdown certificate; returns its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.markdown(), encoding="utf-8")
        return p

    def summary_lines(self) -> list[str]:
        """A few lines for the terminal: one per backend, then the unavailable ones."""
        out = []
        for b in self.backends:
            c = self.counts(self.results_for(b.spec))
            detail = (f"{c['passed']} passed, {c['failed'] + c['error'] + c['xpassed']} failed, "
                      f"{c['xfailed']} known gaps, {c['skipped']} skipped, "
                      f"{len(b.tolerance_overrides)} tolerance overrides, unsupported dtypes: "
                      f"{', '.join(b.unsupported_dtypes) or 'none'}") if b.available \
                else b.reason
            out.append(f"{b.spec:<16} {self.verdict(b).upper():<14} {detail}")
        for b in self.unavailable:
            out.append(f"{b.name:<16} {'UNAVAILABLE':<14} {b.reason}")
        return out


def _by_group(results: list[CaseResult]) -> dict[str, list[CaseResult]]:
    order = list(GROUP_TITLES)
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        groups[r.group].append(r)
    return dict(sorted(groups.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                       else len(order), kv[0])))


def _worst(results: list[CaseResult]) -> CaseResult | None:
    """The case with the largest error/tolerance, failed ones included (NaN counts as worst)."""
    def key(r: CaseResult) -> float:
        x = _ratio(r.error_ratio)
        return math.inf if x is None or math.isnan(x) else x
    measured = [r for r in results if _ratio(r.error_ratio) is not None]
    return max(measured, key=key, default=None)


def _worst_dict(results: list[CaseResult]) -> dict[str, Any] | None:
    w = _worst(results)
    return None if w is None else {"ratio": _ratio(w.error_ratio), "case": w.case, "dtype": w.dtype,
                                   "outcome": w.outcome, "id": w.id}


def _fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2g}"


def _cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return ""
    symbol = MATRIX_SYMBOLS.get(cell["status"], "?")
    ratio = cell.get("worst_ratio")
    return symbol if ratio is None or cell["status"] in ("unsupported", "not run") else \
        f"{symbol} {_fmt_ratio(ratio)}"


def _fmt_env(key: str, value: Any) -> str:
    if key.endswith("_bytes") and isinstance(value, (int, float)):
        return f"{value / 2**30:.1f} GiB"
    return str(value)


def _error_text(r: CaseResult) -> str:
    if r.max_error is None or r.rtol is None:
        return ""
    return f": max error {_ratio(r.max_error):.3g} vs rtol {r.rtol:g} / atol {r.atol:g}"


def _quoted(message: str, limit: int = 1200) -> list[str]:
    text = message if len(message) <= limit else message[:limit] + " [...]"
    return ["", "  ```", *("  " + line for line in text.splitlines()), "  ```"]

