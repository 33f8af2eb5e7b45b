"""The scoreboard: certificates side by side, as one static HTML page, and run-to-run comparison.

``polytape conformance report CERT.json [CERT2.json ...] --html out.html`` writes one
self-contained page (inline CSS and JavaScript, no network): a row per group and
per op, a column block per backend or device, a cell per dtype coloured by status,
shaded by the worst error/tolerance ratio (a heat map), with the headline and the
environment of each certificate above. A fleet certificate
(:mod:`~polytape.conformance.merge`) contributes each of its members.

``polytape conformance report --compare OLD.json NEW.json`` lists the cases that
regressed (passed before, fail, became known gaps or no longer run now) and those
that were fixed; it exits 1 when something regressed.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .matrix import COLUMNS
from .suite import GROUP_TITLES

__all__ = ["CertificateError", "load_certificate", "members", "render_html", "write_html",
           "compare", "compare_markdown", "report_main"]

STATUS_CLASS = {"passed": "passed", "failed": "failed", "known gap": "gap",
                "unsupported": "unsupported", "not run": "notrun"}
_GOOD = ("passed",)
_FAILING = ("failed", "error", "xpassed")


class CertificateError(ValueError):
    """A file that is not a readable polytape conformance certificate."""


def validate(data: Any, source: str) -> dict[str, Any]:
    """``data`` if it looks like a certificate (single run or fleet), else :class:`CertificateError`."""
    if not isinstance(data, dict) or data.get("suite") != "polytape conformance":
        raise CertificateError(f"{source}: not a polytape conformance certificate "
                               "(no \"suite\": \"polytape conformance\")")
    if data.get("kind") == "fleet":
        certs = data.get("certificates")
        if not isinstance(certs, list) or not certs:
            raise CertificateError(f"{source}: a fleet certificate without member certificates")
        for i, c in enumerate(certs):
            validate(c, f"{source} (member {i + 1})")
        return data
    backends = data.get("backends")
    if not isinstance(backends, list) or not all(isinstance(b, dict) and "spec" in b
                                                 and "verdict" in b for b in backends):
        raise CertificateError(f"{source}: \"backends\" must be a list of backend entries "
                               "with \"spec\" and \"verdict\"")
    return data


def load_certificate(path: str | Path) -> dict[str, Any]:
    """Read and check one JSON certificate; :class:`CertificateError` says what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CertificateError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertificateError(f"{p}: not valid JSON ({exc})") from None
    data = validate(data, str(p))
    data.setdefault("_source", str(p))
    return data


def _host(cert: dict[str, Any]) -> str:
    return str(cert.get("environment", {}).get("hostname") or "?")


def members(certs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per backend of every certificate (fleet certificates flattened).

    Each is ``{"label", "cert", "backend"}``; labels are ``SPEC @ HOST``, numbered
    when the same backend and host occur twice.
    """
    flat: list[dict[str, Any]] = []
    for cert in certs:
        inner = cert.get("certificates") if cert.get("kind") == "fleet" else [cert]
        for c in inner:
            for b in c.get("backends", []):
                flat.append({"label": f"{b['spec']} @ {_host(c)}", "cert": c, "backend": b})
    seen: dict[str, int] = {}
    for m in flat:
        n = seen[m["label"]] = seen.get(m["label"], 0) + 1
        if n > 1:
            m["label"] += f" #{n}"
    return flat


def _rows(ms: list[dict[str, Any]]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The rows (kind, key, title) and dtype columns the members' matrices have between them."""

    groups: dict[str, None] = {}
    ops: dict[str, None] = {}
    columns: set[str] = set()
    for m in ms:
        matrix = m["backend"].get("matrix") or {}
        groups.update(dict.fromkeys(matrix.get("groups", {})))
        ops.update(dict.fromkeys(matrix.get("ops", {})))
        columns.update(matrix.get("columns", []))
    order = list(GROUP_TITLES)
    rows = [("group", g, GROUP_TITLES.get(g, g))
            for g in sorted(groups, key=lambda g: (order.index(g) if g in order else len(order), g))]
    rows += [("op", o, o) for o in sorted(ops)]
    return rows, [c for c in COLUMNS if c in columns]


def _fmt(x: Any) -> str:
    try:
        return f"{float(x):.2g}"
    except (TypeError, ValueError):
        return ""


def _heat(status: str, ratio: Any) -> str:
    """The cell's background: green (ratio 0) to yellow (ratio 1) when passed."""
    if status != "passed":
        return ""
    try:
        r = min(max(float(ratio), 0.0), 1.0)
    except (TypeError, ValueError):
        return ""
    return f' style="background:hsl({120 - 60 * r:.0f},70%,{82 - 12 * r:.0f}%)"'


_CSS = """
body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em} h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse} th,td{border:1px solid #ccc;padding:2px 4px}
#members td,#members th{padding:4px 8px;vertical-align:top;text-align:left}
.v-certified{color:#176117;font-weight:bold}
.v-not-certified,.v-rejected,.v-unavailable{color:#a11;font-weight:bold}
#matrix{font-size:11px} #matrix th{background:#f4f4f4;position:sticky;top:0}
#matrix th.row{text-align:left;position:sticky;left:0;background:#fafafa;white-space:nowrap}
#matrix tr.group th.row{font-weight:bold;background:#eef}
td.cell{min-width:2.6em;text-align:center}
td.passed{background:#cfc} td.failed{background:#e33;color:#fff;font-weight:bold}
td.gap{background:#fb6}
td.unsupported{background:repeating-linear-gradient(45deg,#ddd,#ddd 3px,#eee 3px,#eee 6px);color:#777}
td.notrun{background:#fff;color:#999} td.na{background:#fff}
th.member{border-left:3px solid #555} td.first{border-left:3px solid #555}
#controls{margin:.8em 0;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
.legend span{display:inline-block;padding:0 6px;margin-right:4px;border:1px solid #ccc}
details{margin:.2em 0}
dl{margin:.3em 0 .3em 1em;display:grid;grid-template-columns:max-content auto;gap:0 1em}
dt{font-weight:bold} dd{margin:0;word-break:break-all}
"""

_JS = """
(function(){
  var filter=document.getElementById('filter'), diff=document.getElementById('only-diff'),
      probs=document.getElementById('only-problems'), dsel=document.getElementById('dtype');
  function apply(){
    var q=filter.value.trim().toLowerCase(), d=dsel.value, shown=0;
    document.querySelectorAll('#matrix tbody tr').forEach(function(tr){
      var ok=(!q||tr.dataset.name.toLowerCase().indexOf(q)>=0)&&(!diff.checked||tr.dataset.differs==='1')
        &&(!probs.checked||tr.dataset.problem==='1');
      tr.hidden=!ok; if(ok) shown++;
    });
    document.querySelectorAll('#matrix [data-dtype]').forEach(function(c){
      c.hidden=!!d && c.dataset.dtype!==d;
    });
    document.querySelectorAll('#matrix th.member').forEach(function(th){
      th.colSpan=d?1:th.dataset.span;
    });
    document.getElementById('shown').textContent=shown;
  }
  [filter,diff,probs,dsel].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});
  apply();
})();
"""


def _env_details(cert: dict[str, Any], backend: dict[str, Any]) -> str:
    env = cert.get("environment", {}) or {}
    run = cert.get("run", {}) or {}
    cpu = env.get("cpu", {}) or {}
    facts = [("host", env.get("hostname")), ("CPU", f"{cpu.get('model', '?')} "
                                                   f"({cpu.get('logical_cores', '?')} cores)"),
             ("OS", env.get("os")), ("Python", env.get("python"))]
    facts += [(k.replace("_", " "), v) for k, v in (backend.get("environment") or {}).items()]
    packages = env.get("packages", {}) or {}
    facts += [("packages", ", ".join(f"{n} {packages[n]}" for n in
                                     ("polytape", "numpy", "torch", "cupy", "pytest") if n in packages))]
    suite = run.get("suite", {}) or {}
    facts += [("command", " ".join(run.get("command_line") or [])),
              ("suite", f"{suite.get('suite_version', '?')}" + (f", commit {suite['commit'][:12]}"
                                                               if suite.get("commit") else "")),
              ("started", run.get("started")), ("duration", f"{run.get('duration_s', '?')} s"),
              ("certificate", cert.get("_source"))]
    body = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>"
                   for k, v in facts if v not in (None, ""))
    return f"<details><summary>environment</summary><dl>{body}</dl></details>"


def render_html(certs: Sequence[dict[str, Any]], title: str = "polytape conformance scoreboard") -> str:
    """The scoreboard page of ``certs`` (single-run or fleet certificates), as one HTML string."""
    ms = members(certs)
    rows, columns = _rows(ms)
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{esc(title)}</h1>",
           f"<p>{len(ms)} backend/device runs from {len(certs)} certificate(s). Each cell is one dtype; "
           "the number is the worst error / tolerance (failed cases included).</p>",
           '<h2>Verdicts</h2><table id="members"><tr><th>#</th><th>backend @ host</th><th>verdict</th>'
           "<th>device</th><th>counts</th><th>environment</th></tr>"]
    for i, m in enumerate(ms):
        b, c = m["backend"], m["cert"]
        verdict = str(b.get("verdict", "?"))
        counts = b.get("counts", {}) or {}
        count_text = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("passed", "failed", "xfailed", "skipped"))
        device = b.get("device") or "-"
        device_name = (b.get("environment") or {}).get("device_name")
        out.append(f'<tr data-member="{i}"><td>{i + 1}</td><td>{esc(m["label"])}</td>'
                   f'<td><span class="v-{esc(verdict.replace(" ", "-"))}">{esc(verdict.upper())}</span>'
                   f'<br><small class="headline">{esc(str(c.get("headline", "")))}</small>'
                   + ("<br><small>unsupported dtypes: " + esc(", ".join(b.get("unsupported_dtypes", [])))
                      + "</small>" if b.get("unsupported_dtypes") else "")
                   + f"</td><td>{esc(str(device))}" + (f"<br><small>{esc(str(device_name))}</small>"
                                                        if device_name else "")
                   + f"</td><td>{esc(count_text)}</td><td>{_env_details(c, b)}</td></tr>")
    out.append("</table>")
    out += ['<h2>Coverage matrix</h2><div id="controls">',
            '<label>filter rows <input id="filter" type="search" placeholder="op or group"></label>',
            '<label><input id="only-diff" type="checkbox"> only rows where runs differ</label>',
            '<label><input id="only-problems" type="checkbox"> only rows with failures or gaps</label>',
            '<label>dtype <select id="dtype"><option value="">all</option>'
            + "".join(f'<option value="{esc(c)}">{esc(c)}</option>' for c in columns)
            + "</select></label>", '<span><span id="shown"></span> rows shown</span>',
            '<span class="legend"><span class="cell" style="background:#cfc">passed</span>'
            '<span style="background:#e33;color:#fff">failed</span>'
            '<span style="background:#fb6">known gap</span>'
            '<span style="background:#ddd">unsupported</span><span>· not run</span></span></div>']
    out.append('<table id="matrix"><thead><tr><th class="row" rowspan="2">group / op</th>')
    for i, m in enumerate(ms):
        out.append(f'<th class="member" data-member="{i}" colspan="{len(columns)}" '
                   f'data-span="{len(columns)}">{esc(m["label"])}</th>')
    out.append("</tr><tr>")
    for i, _ in enumerate(ms):
        for j, col in enumerate(columns):
            first = ' class="first"' if j == 0 else ""
            out.append(f'<th{first} data-member="{i}" data-dtype="{esc(col)}">{esc(col)}</th>')
    out.append("</tr></thead><tbody>")
    # Certified is per dtype: the first row says, for each run, which dtypes it certifies.
    verdict_cells = []
    for i, m in enumerate(ms):
        verdicts = m["backend"].get("dtype_verdicts") or {}
        for j, col in enumerate(columns):
            v = verdicts.get(col, "")
            cls = {"certified": "passed", "not certified": "failed", "known gaps only": "gap",
                   "unsupported": "unsupported", "not run": "notrun"}.get(v, "na")
            text = {"certified": "✓", "not certified": "✗", "not run": "·"}.get(v, "")
            tip = esc(f"{m['label']} · {col}: {v or 'no cases'}")
            verdict_cells.append(f'<td class="cell {cls}{" first" if j == 0 else ""}" data-member="{i}" '
                                 f'data-dtype="{esc(col)}" data-status="{esc(v)}" title="{tip}">{text}</td>')
    out.append('<tr class="verdict" data-row="verdict" data-name="dtype verdict" data-differs="0" '
               'data-problem="0"><th class="row">dtype verdict</th>' + "".join(verdict_cells) + "</tr>")
    for kind, key, name in rows:
        cells, statuses, problem = [], set(), False
        for i, m in enumerate(ms):
            matrix = m["backend"].get("matrix") or {}
            row = (matrix.get("groups" if kind == "group" else "ops") or {}).get(key, {})
            for j, col in enumerate(columns):
                cell = row.get(col)
                first = " first" if j == 0 else ""
                if not cell:
                    cells.append(f'<td class="cell na{first}" data-member="{i}" data-dtype="{esc(col)}" '
                                 'data-status=""></td>')
                    statuses.add((col, ""))
                    continue
                status = cell.get("status", "")
                statuses.add((col, status))
                problem = problem or status in ("failed", "known gap")
                ratio = cell.get("worst_ratio")
                text = "·" if status == "not run" else "" if status == "unsupported" else _fmt(ratio)
                if status == "failed" and not text:
                    text = "✗"
                tip = f"{m['label']} · {name} · {col}: {status}, {cell.get('cases', 0)} cases" + (
                    f", worst error/tolerance {_fmt(ratio)}" if ratio is not None else "")
                cells.append(f'<td class="cell {STATUS_CLASS.get(status, "")}{first}" data-member="{i}" '
                             f'data-dtype="{esc(col)}" data-status="{esc(status)}" '
                             f'data-ratio="{esc(str(ratio if ratio is not None else ""))}" '
                             f'title="{esc(tip)}"{_heat(status, ratio)}>{esc(text)}</td>')
        differs = any(len({s for c2, s in statuses if c2 == col}) > 1 for col in columns) and len(ms) > 1
        out.append(f'<tr class="{kind}" data-row="{kind}:{esc(key)}" data-name="{esc(name)}" '
                   f'data-differs="{int(differs)}" data-problem="{int(problem)}">'
                   f'<th class="row">{esc(name)}</th>' + "".join(cells) + "</tr>")
    out += ["</tbody></table>", f"<script>{_JS}</script>", "</body></html>"]
    return "\n".join(out) + "\n"


def write_html(certs: Sequence[dict[str, Any]], path: str | Path,
               title: str = "polytape conformance scoreboard") -> Path:
    """Write :func:`render_html` of ``certs`` to ``path``; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(certs, title), encoding="utf-8")
    return p


# -- comparing two runs ---------------------------------------------------------------------
def _case_key(case: dict[str, Any]) -> tuple[str, str, str]:
    # The test function, case and dtype: the same check whatever device spec it ran on.
    test = str(case.get("id", "")).split("::")[-1].split("[")[0]
    return test, str(case.get("case")), str(case.get("dtype"))


def _pairs(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[dict, dict]]:
    ob = {b["spec"]: b for m in members([old]) for b in [m["backend"]]}
    nb = {b["spec"]: b for m in members([new]) for b in [m["backend"]]}
    pairs = [(ob[s], nb[s]) for s in ob if s in nb]
    if not pairs and len(ob) == 1 and len(nb) == 1:  # one device against another
        pairs = [(next(iter(ob.values())), next(iter(nb.values())))]
    return pairs


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Regressions and fixes between two certificates, per backend matched by spec."""
    out: dict[str, Any] = {"old": old.get("headline"), "new": new.get("headline"), "backends": []}
    for ob, nb in _pairs(old, new):
        before = {_case_key(c): c for c in ob.get("cases", [])}
        after = {_case_key(c): c for c in nb.get("cases", [])}
        regressions, fixes = [], []
        for key, c in before.items():
            n = after.get(key)
            was = c.get("outcome")
            now = n.get("outcome") if n else "not run"
            if was in _GOOD and now in (*_FAILING, "xfailed", "not run"):
                regressions.append({"id": (n or c)["id"], "was": was, "now": now,
                                    "message": (n or {}).get("message", "")})
            elif was in (*_FAILING, "xfailed") and now in _GOOD:
                fixes.append({"id": n["id"], "was": was, "now": now})
        for key, n in after.items():
            if key not in before and n.get("outcome") in _FAILING:
                regressions.append({"id": n["id"], "was": "not run", "now": n["outcome"],
                                    "message": n.get("message", "")})
        out["backends"].append({"old": ob["spec"], "new": nb["spec"],
                                "verdict": [ob.get("verdict"), nb.get("verdict")],
                                "regressions": regressions, "fixes": fixes})
    return out


def compare_markdown(result: dict[str, Any]) -> str:
    """:func:`compare`'s result for people."""
    lines = ["# polytape conformance: comparison", "", f"- old: {result['old']}",
             f"- new: {result['new']}", ""]
    if not result["backends"]:
        lines.append("No backend occurs in both certificates.")
    for b in result["backends"]:
        spec = b["old"] if b["old"] == b["new"] else f"{b['old']} → {b['new']}"
        lines += [f"## {spec}: {b['verdict'][0]} → {b['verdict'][1]}", "",
                  f"### Regressions ({len(b['regressions'])})", ""]
        lines += [f"- `{r['id']}`: {r['was']} → {r['now']}"
                  + (f" — {r['message'].splitlines()[0][:200]}" if r.get("message") else "")
                  for r in b["regressions"]] or ["none"]
        lines += ["", f"### Fixes ({len(b['fixes'])})", ""]
        lines += [f"- `{r['id']}`: {r['was']} → {r['now']}" for r in b["fixes"]] or ["none"]
        lines.append("")
    return "\n".join(lines) + "\n"


def report_main(argv: Sequence[str]) -> int:
    """``polytape conformance report``: 0 on success (and no regression with ``--compare``),
    1 when ``--compare`` found regressions, 2 for unreadable or malformed certificates."""
    p = argparse.ArgumentParser(
        prog="polytape conformance report",
        description="Read conformance certificates: write a scoreboard page of several side by "
                    "side, or compare two runs.")
    p.add_argument("certificates", nargs="*", metavar="CERT.json",
                   help="certificates of single runs or fleets (polytape conformance merge)")
    p.add_argument("--html", metavar="FILE.html", help="write the scoreboard page here")
    p.add_argument("--title", default="polytape conformance scoreboard", help="the page's title")
    p.add_argument("--compare", nargs=2, metavar=("OLD.json", "NEW.json"),
                   help="list regressions and fixes between two runs")
    p.add_argument("--markdown", metavar="FILE.md", help="write the comparison here as well")
    options = p.parse_args(list(argv))
    if not options.compare and not options.certificates:
        p.error("give certificates (with --html) or --compare OLD.json NEW.json")
    try:
        if options.compare:
            old, new = (load_certificate(f) for f in options.compare)
            result = compare(old, new)
            text = compare_markdown(result)
            print(text, end="")
            if options.markdown:
                Path(options.markdown).write_text(text, encoding="utf-8")
            return 1 if any(b["regressions"] for b in result["backends"]) else 0
        certs = [load_certificate(f) for f in options.certificates]
        for m in members(certs):
            print(f"{m['label']:<36} {str(m['backend'].get('verdict', '?')).upper():<14} "
                  f"{m['cert'].get('headline', '')}")
        if options.html:
            print(f"scoreboard written to {write_html(certs, options.html, options.title)}")
    except CertificateError as exc:
        print(f"polytape conformance report: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"polytape conformance report: cannot write: {exc.strerror or exc} "
              f"({exc.filename})", file=sys.stderr)
        return 2
    return 0
