"""The printed tables: medians per implementation, ratios polytape / peer, targets."""

from __future__ import annotations

from typing import Any

__all__ = ["format_report"]


def _time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def format_report(results: dict[str, Any]) -> str:
    """The whole report as text (also what RESULTS.md quotes)."""
    impls = [n for n, i in results["implementations"].items() if i["available"]]
    workloads = results["workloads"]
    parts = ["Median time per run (interleaved repetitions):", _table(
        ["workload", *impls],
        [[name, *(_time(w["medians_s"].get(i)) for i in impls)] for name, w in workloads.items()])]

    cols = sorted({k for w in workloads.values() for k in w["ratios"]},
                  key=lambda k: (not k.startswith("polytape-numpy"), k))
    if cols:
        parts += ["", "Ratios (polytape / peer; below 1 means polytape is faster):", _table(
            ["workload", *cols],
            [[name, *(f"{w['ratios'][c]:.2f}" if c in w["ratios"] else "-" for c in cols)]
             for name, w in workloads.items()])]

    notes = [f"  {name} {i}: {v}" for name, w in workloads.items()
             for i, v in w.get("variants", {}).items() if v]
    if notes:
        parts += ["", "How each implementation does the work:", *notes]
    errors = [f"  {name} {i}: {e}" for name, w in workloads.items() for i, e in w["errors"].items()]
    if errors:
        parts += ["", "Failed (not timed):", *errors]
    gone = {n: i["reason"] for n, i in results["implementations"].items() if not i["available"]}
    if gone:
        parts += ["", "Not available here:", *(f"  {n}: {r}" for n, r in gone.items())]

    mem = results.get("memory")
    if mem:
        rows = [[name, *(f"{mem[name][k] / 2**20:.1f}" for k in
                         ("forward_held", "backward_peak", "backward_working", "retained"))]
                for name in mem if isinstance(mem[name], dict) and "backward_peak" in mem[name]]
        parts += ["", f"Memory of {mem['workload']} (MiB, tracemalloc; one array is "
                      f"{mem['array_bytes'] / 2**20:.1f} MiB):",
                  _table(["implementation", "forward held", "backward peak", "backward working",
                          "retained after"], rows)]

    rows = []
    for t in results["targets"]:
        verdict = {True: "holds", False: "MISSED", None: "not measured"}[t["holds"]]
        ratio = "-" if t["ratio"] is None else f"{t['ratio']:.2f}"
        limit = "-" if t["limit"] is None else f"{t['limit']:.2f}"
        rows.append([t["target"], ratio, limit, verdict + (f": {t['note']}" if t.get("note") else "")])
    parts += ["", "Targets (docs/architecture.md, *Performance budget*):",
              _table(["target", "ratio", "limit", "verdict"], rows)]
    return "\n".join(parts)
