"""Expected failures: known gaps a vendor certifies with, each with a reason.

An entry is a test-id pattern plus a reason. A pattern matches a *whole* test id,
with or without its file part (``test_value[tan-mychip-float16]`` and
``test_op_values.py::test_value[tan-mychip-float16]`` are the same case); ``*``
stands for any run of characters and ``?`` for one, every other character is
literal (brackets included). So ``test_value[tan-mychip-*]`` covers tan's values
in every dtype and never ``arctan``'s. Every case an entry matches (on its
backend, for a per-backend entry) is marked ``xfail(strict=True)``; the
certificate lists such cases as known gaps. A case that *passes* while marked
fails certification (XPASS strict): the entry is stale, or too broad, and must be
removed or narrowed, so a certificate never claims a gap that is not there.

Files, given with ``--xfail-file FILE`` (every backend) or ``--xfail-file NAME=FILE``
(backend ``NAME`` only), are text or, when the name ends in ``.json``, JSON.

Text, one entry a line: the pattern, white space, the reason; ``#`` starts a
comment line. A line that looks like JSON (starts with ``{``, ``[`` or ``"``) is
an error, not a pattern::

    test_value[tan-mychip-float16]   tan loses precision near pi/2 in half
    test_gradient[erf-mychip-*]      the erf kernel is a polynomial fit

JSON: ``{"backend": "mychip", "expected_failures": [{"id": "...", "reason": "..."}]}``,
or a plain ``{"<pattern>": "<reason>"}`` object.

A backend can also ship its own: a ``conformance_expected_failures`` attribute on
the backend object, mapping pattern to reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExpectedFailure", "load_file", "from_backend", "parse_spec", "match", "pattern_regex"]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of an entry's pattern: ``*`` any run, ``?`` one character,
    everything else literal; anchored at both ends, the file part optional."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    if "::" not in pattern:
        body = r"(?:[^:]*::)?" + body
    return re.compile(body + r"\Z")


@dataclass
class ExpectedFailure:
    """One entry: a test-id ``pattern``, ``reason``, where it came from, and the
    backend it is limited to (``None``: any)."""

    pattern: str
    reason: str
    source: str
    backend: str | None = None
    used: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def applies(self, nodeid: str, backend: str) -> bool:
        """True when this entry's pattern matches the whole test id ``nodeid`` on ``backend``."""
        if self.backend is not None and self.backend != backend:
            return False
        if self._regex is None:
            self._regex = pattern_regex(self.pattern)
        return self._regex.match(nodeid) is not None

    def describe(self) -> str:
        """``'PATTERN' (SOURCE)``: how messages name the entry."""
        return f"{self.pattern!r} ({self.source})"

    def as_dict(self) -> dict[str, Any]:
        """The entry for the certificate."""
        return {"id": self.pattern, "reason": self.reason, "source": self.source,
                "backend": self.backend, "matched": self.used}


def parse_spec(spec: str) -> tuple[str | None, Path]:
    """``"FILE"`` -> ``(None, FILE)``; ``"NAME=FILE"`` -> ``("NAME", FILE)``."""
    name, sep, rest = spec.partition("=")
    if sep and name and name.replace("_", "").replace("-", "").isalnum():
        return name.lower(), Path(rest)
    return None, Path(spec)


def load_file(spec: str) -> list[ExpectedFailure]:
    """The entries of one ``--xfail-file`` argument; ``ValueError`` for a malformed file."""
    backend, path = parse_spec(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read expected-failure file {str(path)!r}: {exc}") from None
    source = str(path)
    if path.suffix.lower() == ".json":
        return _from_json(text, source, backend)
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("{", "[", '"')):
            raise ValueError(f"{source}:{n}: this line looks like JSON, but the file is read as "
                             "text (one 'PATTERN  reason' a line); give JSON a .json name")
        pattern, _, reason = line.partition(" ")
        reason = reason.strip().lstrip("#|:-").strip()
        out.append(ExpectedFailure(pattern, reason or f"listed in {path.name}", source, backend))
    return out


def _from_json(text: str, source: str, backend: str | None) -> list[ExpectedFailure]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON: {exc}") from None
    if isinstance(data, dict) and "expected_failures" in data:
        backend = data.get("backend", backend)
        entries = data["expected_failures"]
    elif isinstance(data, dict):
        entries = [{"id": k, "reason": v} for k, v in data.items()]
    else:
        entries = data
    out = []
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or not e["id"]:
            raise ValueError(f"{source}: each expected failure needs an 'id' string, got {e!r}")
        name = e.get("backend", backend)
        out.append(ExpectedFailure(e["id"], str(e.get("reason") or "listed in " + source),
                                   source, name.lower() if isinstance(name, str) else name))
    return out


def from_backend(backend_obj: Any) -> list[ExpectedFailure]:
    """The entries a backend ships as ``conformance_expected_failures`` (pattern -> reason)."""
    own = getattr(backend_obj, "conformance_expected_failures", None) or {}
    name = getattr(backend_obj, "name", None)
    return [ExpectedFailure(str(k), str(v), f"backend {name}", name) for k, v in dict(own).items()]


def match(entries: list[ExpectedFailure], nodeid: str, backend: str) -> ExpectedFailure | None:
    """The first entry covering ``nodeid`` on ``backend`` (and count the use), or None."""
    for e in entries:
        if e.applies(nodeid, backend):
            e.used += 1
            return e
    return None
