"""The coverage matrix: for each op (and each group) and each dtype, what the run showed.

A cell is one of :data:`STATUSES`:

* ``passed`` -- every case of that op in that dtype that ran passed (skips aside);
* ``failed`` -- at least one failed, errored, or passed while listed as a known gap;
* ``known gap`` -- at least one is a listed expected failure, none failed;
* ``unsupported`` -- the suite has cases in that dtype but the backend lacks the dtype;
* ``not run`` -- the backend has the dtype but the cases were deselected or skipped.

Cells the suite has no case for are absent (an integer column of ``exp``). The
column ``any`` holds dtype-independent cases (seeds, tape rules, errors).
A dtype is *certified* (:func:`dtype_verdicts`) when something passed in it and
nothing failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .cases import ALL_DTYPES
from .suite import GROUP_TITLES

__all__ = ["CatalogEntry", "STATUSES", "ANY", "build_matrix", "dtype_verdicts", "worse",
           "outcome_status"]

PASSED, FAILED, GAP, UNSUPPORTED, NOT_RUN = "passed", "failed", "known gap", "unsupported", "not run"
STATUSES = (PASSED, FAILED, GAP, UNSUPPORTED, NOT_RUN)
ANY = "any"  # the column of dtype-independent cases
COLUMNS = (*ALL_DTYPES, ANY)
# Which status a merged cell shows: the one that needs a reader's attention most.
_SEVERITY = {FAILED: 4, GAP: 3, PASSED: 2, NOT_RUN: 1, UNSUPPORTED: 0}


@dataclass(frozen=True)
class CatalogEntry:
    """A case the suite generated (before backends and dtypes were applied)."""

    source: str
    group: str
    case: str
    op: str | None
    dtypes: tuple[str, ...] | None

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data."""
        return asdict(self)


def outcome_status(outcome: str) -> str | None:
    """The matrix status of one case outcome (``None`` for a skip: it says nothing)."""
    return {"passed": PASSED, "xfailed": GAP, "failed": FAILED, "error": FAILED,
            "xpassed": FAILED}.get(outcome)


def worse(a: str | None, b: str | None) -> str | None:
    """The status of a cell holding both ``a`` and ``b``."""
    if a is None:
        return b
    if b is None:
        return a
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _ratio(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def build_matrix(catalog: Iterable[CatalogEntry], results: Iterable[Any],
                 backend_dtypes: Iterable[str], selected_dtypes: Iterable[str] = ()) -> dict[str, Any]:
    """``{"columns", "ops", "groups"}``: op x dtype and group x dtype cells for one backend.

    ``results`` are :class:`~polytape.conformance.certificate.CaseResult` objects of
    this backend. Each cell is ``{"status", "cases", "worst_ratio"}``; ``worst_ratio``
    is the largest error/tolerance among the cell's cases, failed ones included.
    """
    have = set(backend_dtypes)
    selected = set(selected_dtypes)
    by_key: dict[tuple[str, str, str], list[Any]] = {}
    for r in results:
        by_key.setdefault((r.source or r.group, r.case, r.dtype or ANY), []).append(r)
    ops: dict[str, dict[str, dict[str, Any]]] = {}
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in catalog:
        for column in (entry.dtypes if entry.dtypes is not None else (ANY,)):
            if column != ANY and column not in have:
                status: str | None = UNSUPPORTED
                hits: list[Any] = []
            else:
                hits = by_key.get((entry.source, entry.case, column), [])
                status = None
                for r in hits:
                    status = worse(status, outcome_status(r.outcome))
                if status is None:
                    status = NOT_RUN
                if selected and column != ANY and column not in selected:
                    status = NOT_RUN
            ratios = [x for x in (_ratio(r.error_ratio) for r in hits) if x is not None]
            rows = [(groups, entry.group)] + ([(ops, entry.op)] if entry.op else [])
            for table, row in rows:
                cell = table.setdefault(row, {}).setdefault(
                    column, {"status": None, "cases": 0, "worst_ratio": None})
                cell["status"] = worse(cell["status"], status) if cell["status"] else status
                cell["cases"] += len(hits)
                if ratios:
                    best = max(ratios)
                    cell["worst_ratio"] = best if cell["worst_ratio"] is None else \
                        max(cell["worst_ratio"], best)

    order = list(GROUP_TITLES)
    groups = dict(sorted(groups.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                         else len(order), kv[0])))
    used = [c for c in COLUMNS if any(c in row for t in (ops, groups) for row in t.values())]
    return {"columns": used, "ops": dict(sorted(ops.items())), "groups": groups}


def dtype_verdicts(matrix: dict[str, Any]) -> dict[str, str]:
    """Per column: ``certified``, ``not certified``, ``known gaps only``, ``unsupported`` or
    ``not run``."""
    out = {}
    for column in matrix["columns"]:
        statuses = {row[column]["status"] for row in matrix["groups"].values() if column in row}
        if FAILED in statuses:
            out[column] = "not certified"
        elif PASSED in statuses:
            out[column] = "certified"
        elif GAP in statuses:
            out[column] = "known gaps only"
        elif statuses == {UNSUPPORTED}:
            out[column] = UNSUPPORTED
        else:
            out[column] = NOT_RUN
    return out
