"""Fleet certificates: many devices and hosts, each certified on its own, merged into one.

Each device runs the suite where it is (``polytape conformance --backend torch:cuda:N
--report host-N.json`` on each host or for each GPU, e.g. one job of a CI matrix or
one array task of a batch scheduler), and

    polytape conformance merge host-*.json --report fleet.json --markdown fleet.md --html fleet.html

combines their JSON certificates: each member's verdict and headline, the union
matrix (for each op or group and dtype, the status of every member and whether
they differ), and the list of cells where they differ. The fleet is certified
when every member is; a member that ran a partial selection makes the fleet's
verdict partial. The fleet certificate embeds the members' certificates, so
``polytape conformance report fleet.json --html`` redraws the page from it alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .certificate import MATRIX_SYMBOLS
from .environment import utc_now
from .matrix import worse
from .scoreboard import CertificateError, load_certificate, members, write_html
from .suite import GROUP_TITLES, SUITE_VERSION

__all__ = ["merge_certificates", "fleet_markdown", "merge_main"]


def merge_certificates(certs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The fleet certificate of ``certs`` (single-run or fleet certificates, flattened)."""
    flat = [c for cert in certs for c in (cert["certificates"] if cert.get("kind") == "fleet"
                                          else [cert])]
    ms = members(flat)
    member_rows = []
    for m in ms:
        b, c = m["backend"], m["cert"]
        member_rows.append({
            "label": m["label"], "source": c.get("_source"), "host": c.get("environment", {}).get("hostname"),
            "backend": b.get("spec"), "device": b.get("device"),
            "device_name": (b.get("environment") or {}).get("device_name"),
            "verdict": b.get("verdict"), "verdict_label": c.get("verdict_label"),
            "headline": c.get("headline"), "scope": c.get("scope"), "counts": b.get("counts"),
            "unsupported_dtypes": b.get("unsupported_dtypes", []),
            "tolerance_overrides": len(b.get("tolerance_overrides", [])),
            "suite_version": c.get("suite_version")})
    matrix: dict[str, dict[str, dict[str, Any]]] = {"groups": {}, "ops": {}}
    columns: list[str] = []
    for m in ms:
        own = m["backend"].get("matrix") or {}
        columns += [c for c in own.get("columns", []) if c not in columns]
        for table in ("groups", "ops"):
            for row, cells in (own.get(table) or {}).items():
                for col, cell in cells.items():
                    merged = matrix[table].setdefault(row, {}).setdefault(
                        col, {"status": None, "statuses": {}, "worst_ratio": None})
                    merged["statuses"][m["label"]] = cell.get("status")
                    merged["status"] = worse(merged["status"], cell.get("status"))
                    r = cell.get("worst_ratio")
                    if r is not None:
                        merged["worst_ratio"] = r if merged["worst_ratio"] is None else \
                            max(merged["worst_ratio"], r)
    differences = []
    labels = [m["label"] for m in ms]
    for table in ("groups", "ops"):
        for row, cells in matrix[table].items():
            for col, cell in cells.items():
                statuses = {label: cell["statuses"].get(label, "absent") for label in labels}
                cell["differs"] = len(set(statuses.values())) > 1
                if cell["differs"]:
                    differences.append({"kind": table[:-1], "row": row, "column": col,
                                        "statuses": statuses})
    certified = bool(ms) and all(r["verdict"] == "certified" for r in member_rows)
    partial = any(r["scope"] == "partial" for r in member_rows)
    versions = sorted({str(r["suite_version"]) for r in member_rows})
    label = ("CERTIFIED (partial: at least one member ran a selection)" if partial else "CERTIFIED") \
        if certified else "NOT CERTIFIED"
    n_cert = sum(r["verdict"] == "certified" for r in member_rows)
    facts = [f"{n_cert} of {len(member_rows)} members certified",
             f"{sum((r['counts'] or {}).get('xfailed', 0) for r in member_rows)} known gaps",
             f"{sum(r['tolerance_overrides'] for r in member_rows)} tolerance overrides",
             f"{len(differences)} cells differ between members"]
    if len(versions) > 1:
        facts.append(f"suite versions differ: {', '.join(versions)}")
    return {
        "suite": "polytape conformance", "kind": "fleet", "suite_version": SUITE_VERSION,
        "created": utc_now(), "verdict": "certified" if certified else "not certified",
        "verdict_label": label, "headline": " · ".join([label, *facts]),
        "scope": "partial" if partial else "full",
        "members": member_rows, "matrix": {"columns": columns, **matrix},
        "differences": differences, "certificates": flat,
    }


def fleet_markdown(fleet: dict[str, Any]) -> str:
    """The fleet certificate for people: headline, members, the cells where they differ."""

    lines = ["# polytape conformance fleet certificate", "",
             f"**Verdict: {fleet['verdict_label']}** · " + fleet["headline"].split(" · ", 1)[-1], "",
             "| member | device | verdict | passed | failed | known gaps | overrides "
             "| unsupported dtypes | source |",
             "|---|---|---|---:|---:|---:|---:|---|---|"]
    for r in fleet["members"]:
        c = r["counts"] or {}
        lines.append(f"| {r['label']} | {r['device'] or '-'}"
                     + (f" ({r['device_name']})" if r.get("device_name") else "")
                     + f" | **{r['verdict']}** | {c.get('passed', 0)} | "
                     f"{c.get('failed', 0) + c.get('error', 0) + c.get('xpassed', 0)} | "
                     f"{c.get('xfailed', 0)} | {r['tolerance_overrides']} | "
                     f"{', '.join(r['unsupported_dtypes']) or '-'} | {r.get('source') or '-'} |")
    lines.append("")
    columns = fleet["matrix"]["columns"]
    lines += ["## Groups × dtypes (worst status over the fleet)", "",
              "| group | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for group, cells in fleet["matrix"]["groups"].items():
        lines.append(f"| {GROUP_TITLES.get(group, group)} | " + " | ".join(
            (MATRIX_SYMBOLS.get(cells[c]["status"], "?") + ("*" if cells[c]["differs"] else ""))
            if c in cells else "" for c in columns) + " |")
    lines += ["", "✓ passed · ✗ failed · ◐ known gap · — unsupported · · not run; * members differ.", ""]
    diffs = fleet["differences"]
    lines += [f"## Where members differ ({len(diffs)} cells)", ""]
    for d in diffs[:500]:
        lines.append(f"- {d['kind']} `{d['row']}`, {d['column']}: "
                     + ", ".join(f"{label}: {s}" for label, s in d["statuses"].items()))
    if len(diffs) > 500:
        lines.append(f"- ... and {len(diffs) - 500} more (see the JSON)")
    if not diffs:
        lines.append("none")
    return "\n".join(lines) + "\n"


def merge_main(argv: Sequence[str]) -> int:
    """``polytape conformance merge``: 0 when every member is certified, 1 when one is not,
    2 for unreadable or malformed certificates or unwritable outputs."""
    p = argparse.ArgumentParser(
        prog="polytape conformance merge",
        description="Merge the JSON certificates of many devices or hosts into one fleet "
                    "certificate (JSON, Markdown, HTML scoreboard).")
    p.add_argument("certificates", nargs="+", metavar="CERT.json")
    p.add_argument("--report", default="fleet-certificate.json", metavar="FLEET.json",
                   help="the fleet certificate (default: ./fleet-certificate.json)")
    p.add_argument("--markdown", default=None, metavar="FLEET.md", help="the fleet certificate for people")
    p.add_argument("--html", default=None, metavar="FLEET.html", help="the fleet's scoreboard page")
    options = p.parse_args(list(argv))
    try:
        certs = [load_certificate(f) for f in options.certificates]
        fleet = merge_certificates(certs)
        written = [Path(options.report)]
        written[0].parent.mkdir(parents=True, exist_ok=True)
        written[0].write_text(json.dumps(fleet, indent=2, default=str) + "\n", encoding="utf-8")
        if options.markdown:
            written.append(Path(options.markdown))
            written[-1].write_text(fleet_markdown(fleet), encoding="utf-8")
        if options.html:
            written.append(write_html([fleet], options.html, "polytape conformance fleet scoreboard"))
    except CertificateError as exc:
        print(f"polytape conformance merge: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"polytape conformance merge: cannot write: {exc.strerror or exc} ({exc.filename})",
              file=sys.stderr)
        return 2
    for r in fleet["members"]:
        print(f"{r['label']:<36} {str(r['verdict']).upper():<14} {r['headline']}")
    print(f"fleet verdict: {fleet['headline']}")
    for path in written:
        print(f"written to {path}")
    return 0 if fleet["verdict"] == "certified" else 1
