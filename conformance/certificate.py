"""The certificate: what ran, on what, with what result -- as JSON for CI and Markdown for people.

A backend is **certified** when at least one case passed and no case failed,
errored, or passed while listed as an expected failure (a stale entry). Skipped
cases (a feature this polytape lacks, a second backend that is not there) and
expected failures (listed as known gaps, with their reasons) do not block it.
A backend that was asked for but cannot run is **unavailable**; one whose plugin
breaks the backend contract (e.g. missing kernels) is **rejected**; neither is
certified. Backends nobody asked for that cannot run here are only listed.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import platform
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .suite import GROUP_TITLES, SUITE_VERSION

__all__ = ["CaseResult", "BackendRecord", "Certificate", "FAILING"]

FAILING = ("failed", "error", "xpassed")
CERTIFIED, NOT_CERTIFIED, UNAVAILABLE, REJECTED = (
    "certified", "not certified", "unavailable", "rejected")


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


@dataclass
class Certificate:
    """Everything the JSON and Markdown certificates say."""

    backends: list[BackendRecord]
    results: list[CaseResult]
    unavailable: list[BackendRecord]
    selection: dict[str, Any]
    expected_failures: list[dict[str, Any]]
    exit_status: int = 0

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
            entry["known_gaps"] = [{"id": r.id, "reason": r.message} for r in results
                                   if r.outcome == "xfailed"]
            entry["failures"] = [{"id": r.id, "outcome": r.outcome, "message": r.message}
                                 for r in results if r.outcome in FAILING]
            entry["cases"] = [asdict(r) for r in results]
            backends.append(entry)
        return {
            "suite": "polytape conformance",
            "suite_version": SUITE_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "verdict": CERTIFIED if self.certified() else NOT_CERTIFIED,
            "exit_status": self.exit_status,
            "environment": environment(),
            "selection": self.selection,
            "backends": backends,
            "unavailable": [{"name": b.name, "reason": b.reason, "requested": b.requested}
                            for b in self.unavailable],
            "expected_failure_entries": self.expected_failures,
        }

    def write_json(self, path: str | Path) -> Path:
        """Write the JSON certificate; returns its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return p

    # -- Markdown --------------------------------------------------------------------------
    def markdown(self) -> str:
        """The certificate for people: a summary, a table per backend and group, the failures."""
        env = environment()
        lines = [
            "# polytape conformance certificate", "",
            f"**Verdict: {'CERTIFIED' if self.certified() else 'NOT CERTIFIED'}**", "",
            f"Suite {SUITE_VERSION} · polytape {env['packages'].get('polytape', '?')} · "
            f"Python {env['python']} · {env['platform']} · {env['created']}", "",
        ]
        if self.selection.get("partial"):
            lines += [f"Partial run: {self.selection.get('describe')}.", ""]
        lines += ["| backend | version | device | verdict | passed | failed | known gaps | skipped |",
                  "|---|---|---|---|---:|---:|---:|---:|"]
        for b in self.backends:
            c = self.counts(self.results_for(b.spec))
            lines.append(f"| {b.spec} | {b.version or '-'} | {b.device or '-'} | "
                         f"**{self.verdict(b)}** | {c['passed']} | "
                         f"{c['failed'] + c['error'] + c['xpassed']} | {c['xfailed']} | "
                         f"{c['skipped']} |")
        lines.append("")
        for b in self.backends:
            lines += self._backend_markdown(b)
        if self.unavailable:
            lines += ["## Backends that cannot run here", ""]
            lines += [f"- `{b.name}`: {b.reason}" for b in self.unavailable]
            lines.append("")
        return "\n".join(lines) + "\n"

    def _backend_markdown(self, b: BackendRecord) -> list[str]:
        results = self.results_for(b.spec)
        lines = [f"## {b.spec}: {self.verdict(b)}", ""]
        if not b.available:
            return lines + [f"Cannot run: {b.reason}", ""]
        lines += [f"{b.name} {b.version} (plugin `{b.plugin}`), device `{b.device}`, dtypes "
                  f"{', '.join(b.dtypes)}.", "",
                  "| group | passed | failed | known gaps | skipped | worst error / tolerance |",
                  "|---|---:|---:|---:|---:|---:|"]
        for group, rs in _by_group(results).items():
            c = self.counts(rs)
            worst = max((r for r in rs if r.error_ratio is not None and r.outcome == "passed"),
                        key=lambda r: float(r.error_ratio), default=None)
            worst_txt = "-" if worst is None else (
                f"{float(worst.error_ratio):.2g} ({worst.case}"
                + (f", {worst.dtype})" if worst.dtype else ")"))
            lines.append(f"| {GROUP_TITLES.get(group, group)} | {c['passed']} | "
                         f"{c['failed'] + c['error'] + c['xpassed']} | {c['xfailed']} | "
                         f"{c['skipped']} | {worst_txt} |")
        lines.append("")
        failures = [r for r in results if r.outcome in FAILING]
        if failures:
            lines += [f"### Failures ({len(failures)})", ""]
            for r in failures:
                lines.append(f"- `{r.id}` ({r.outcome}){_error_text(r)}")
                lines += _quoted(r.message)
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
                      f"{c['xfailed']} known gaps, {c['skipped']} skipped") if b.available \
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


def _error_text(r: CaseResult) -> str:
    if r.max_error is None or r.rtol is None:
        return ""
    return f": max error {r.max_error:.3g} vs rtol {r.rtol:g} / atol {r.atol:g}"


def _quoted(message: str, limit: int = 1200) -> list[str]:
    text = message if len(message) <= limit else message[:limit] + " [...]"
    return ["", "  ```", *("  " + line for line in text.splitlines()), "  ```"]


def environment() -> dict[str, Any]:
    """Python, platform and package versions (torch/cupy only if this process loaded them)."""
    packages = {}
    for name in ("polytape", "numpy", "pluggy", "pytest", "ml_dtypes", "scipy"):
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    for name in ("torch", "cupy"):
        mod = sys.modules.get(name)
        if mod is not None:
            packages[name] = getattr(mod, "__version__", "?")
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
