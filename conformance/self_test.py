"""``polytape conformance --self-test``: the suite measures its own power.

Every built-in faulty backend (:data:`polytape.conformance.faulty.FAULTS`, the NumPy
backend with one realistic bug each) runs the cases *of the op its bug is in*, across every
group (edge values, edge gradients, hygiene, integer semantics, layouts, precision, values, gradients,
forward mode, second order), in this process; it is *killed* when one of them fails. The
unbroken control (the NumPy backend under another name) runs the same cases and must pass
them all. The kill rate is printed per bug class; the exit code is 0 only when every faulty
backend is killed by its own op's cases and the control passes.

Running only the broken op's cases (the ``-k`` of a certification restricted to that op)
keeps the whole self-test to well under a minute, and makes "killed" mean what CI needs:
the bug is caught where it is, not only through some other op that happens to use it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

import polytape as pt
import polytape.plugins as plugins
from polytape.plugins import BackendInfo, hookimpl

from .cases import ConformanceCase
from .faulty import BUG_CLASSES, FAULTS, Fault, faulty_backend_class
from .runner import run_case
from .suite import cases

__all__ = ["SelfTestResult", "Kill", "run_self_test", "main", "CONTROL", "SOURCES"]

CONTROL = "f_control"
# Cheap, targeted groups first: a faulty backend stops at its first failing case.
SOURCES = ("edge_values", "edge_gradients", "hygiene", "integer_semantics", "layouts", "precision", "values",
           "gradients", "jacobian", "second_order")


@dataclass
class Kill:
    """How one faulty backend fared: the case that rejected it (``None``: it survived)."""

    fault: Fault
    case_id: str | None = None
    message: str = ""
    cases_run: int = 0


@dataclass
class SelfTestResult:
    """The kill list, the control's failures and the run time."""

    kills: list[Kill]
    control_failures: list[str] = field(default_factory=list)
    control_cases: int = 0
    seconds: float = 0.0

    @property
    def killed(self) -> int:
        """How many faulty backends a case of their own op rejected."""
        return sum(k.case_id is not None for k in self.kills)

    @property
    def ok(self) -> bool:
        """Every faulty backend killed and the control certified."""
        return self.killed == len(self.kills) and not self.control_failures

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = []
        for k in self.kills:
            verdict = f"killed by {k.case_id}" if k.case_id else "SURVIVED"
            out.append(f"  {k.fault.name:32s} [{k.fault.bug_class}] {k.fault.description}: "
                       f"{verdict}")
        by_class = Counter(k.fault.bug_class for k in self.kills)
        killed = Counter(k.fault.bug_class for k in self.kills if k.case_id)
        out.append("kill rate per bug class: " + ", ".join(
            f"{c} {killed[c]}/{by_class[c]}" for c in BUG_CLASSES if by_class[c]))
        out.append(f"control ({CONTROL}, the unbroken NumPy backend): "
                   + ("certified" if not self.control_failures else
                      "FAILED " + "; ".join(self.control_failures[:5]))
                   + f" on {self.control_cases} cases")
        out.append(f"self-test: {self.killed} of {len(self.kills)} faulty backends killed "
                   f"({100.0 * self.killed / max(len(self.kills), 1):.0f}%) in {self.seconds:.1f} s"
                   + ("" if self.ok else " -- NOT OK"))
        return out


def _case_index() -> dict[str, list[tuple[str, ConformanceCase]]]:
    index: dict[str, list[tuple[str, ConformanceCase]]] = {}
    for source in SOURCES:
        for case in cases(source):
            index.setdefault(case.op or case.name, []).append((source, case))
    return index


def _dtypes(case: ConformanceCase, backend: str) -> list[Any]:
    if case.dtypes is None:
        return [None]
    held = {str(d) for d in pt.get_backend(backend).supported_dtypes()}
    return [d for d in case.dtypes if d in held]


def _run(case: ConformanceCase, backend: str, dtype: Any) -> str | None:
    """The failure message of one case run, or None when it passed or skipped."""
    try:
        run_case(case, backend, dtype)
    except pytest.skip.Exception:
        return None
    except Exception as e:  # noqa: BLE001 -- any exception is the case failing
        return f"{type(e).__name__}: {e}"
    return None


class _Plugin:
    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = faults

    @hookimpl
    def polytape_register_backends(self, registry: Any) -> None:
        from polytape.backends.numpy.backend import NumpyBackend  # the backend under test

        control = type("Control", (NumpyBackend,), {"name": CONTROL})
        registry.add(BackendInfo(name=CONTROL, factory=control, priority=-100))
        for f in self.faults:
            registry.add(BackendInfo(name=f.name, factory=faulty_backend_class(f), priority=-100))


def run_self_test(faults: Sequence[Fault] = FAULTS, control: bool = True,
                  progress: Any = None) -> SelfTestResult:
    """Run every fault in ``faults`` on its op's cases, and the control on all of them."""
    start = time.perf_counter()
    handle = plugins.register(_Plugin(faults), name="polytape-self-test")
    try:
        index = _case_index()
        kills = []
        for f in faults:
            kill = Kill(f)
            for source, case in index.get(f.op, []):
                for dtype in _dtypes(case, f.name):
                    kill.cases_run += 1
                    message = _run(case, f.name, dtype)
                    if message is not None:
                        kill.case_id = f"{source}:{case.name}-{f.name}" + (f"-{dtype}" if dtype else "")
                        kill.message = message
                        break
                if kill.case_id:
                    break
            kills.append(kill)
            if progress:
                progress(kill)
        result = SelfTestResult(kills)
        if control:
            for op in sorted({f.op for f in faults}):
                for source, case in index.get(op, []):
                    for dtype in _dtypes(case, CONTROL):
                        result.control_cases += 1
                        message = _run(case, CONTROL, dtype)
                        if message is not None:
                            result.control_failures.append(
                                f"{source}:{case.name}-{CONTROL}-{dtype}: {message[:200]}")
    finally:
        plugins.unregister(handle)
    result.seconds = time.perf_counter() - start
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``polytape conformance --self-test [--fault NAME]... [-q]``; exit 0 when all are killed."""
    parser = argparse.ArgumentParser(prog="polytape conformance --self-test")
    parser.add_argument("--fault", action="append", default=[],
                        help="run only these faulty backends (repeatable)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print the summary only")
    options = parser.parse_args(list(argv or []))
    faults = [f for f in FAULTS if not options.fault or f.name in options.fault]
    unknown = set(options.fault) - {f.name for f in FAULTS}
    if unknown:
        parser.error(f"unknown faulty backends: {', '.join(sorted(unknown))}")
    print(f"polytape conformance --self-test: {len(faults)} faulty backends "
          f"({', '.join(BUG_CLASSES)}), each on its own op's cases, then the control")
    result = run_self_test(faults)
    for line in result.lines() if not options.quiet else result.lines()[-3:]:
        print(line)
    sys.stdout.flush()
    return 0 if result.ok else 1
