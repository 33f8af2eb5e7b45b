"""Expected failures: known gaps a vendor certifies with, each with a reason.

An entry is a substring of a test id plus a reason; every case whose id contains
the substring (and, for a per-backend entry, runs on that backend) is marked
``xfail(strict=True)``. The certificate lists such cases as known gaps. A case
that *passes* while marked fails certification (XPASS strict): the entry is stale
and must be removed, so a certificate never claims a gap that is not there.

Files, given with ``--xfail-file FILE`` (every backend) or ``--xfail-file NAME=FILE``
(backend ``NAME`` only), are text or JSON.

Text, one entry a line, ``#`` starts a comment line::

    test_value[tan-mychip-float16]   tan loses precision near pi/2 in half
    test_gradient[erf-mychip         the erf kernel is a polynomial fit

JSON: ``{"backend": "mychip", "expected_failures": [{"id": "...", "reason": "..."}]}``,
or a plain ``{"<substring>": "<reason>"}`` object.

A backend can also ship its own: a ``conformance_expected_failures`` attribute on
the backend object, mapping substring to reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ExpectedFailure", "load_file", "from_backend", "parse_spec", "match"]


@dataclass
class ExpectedFailure:
    """One entry: ``substring`` of a test id, ``reason``, where it came from, and the
    backend it is limited to (``None``: any)."""

    substring: str
    reason: str
    source: str
    backend: str | None = None
    used: int = 0

    def applies(self, nodeid: str, backend: str) -> bool:
        """True when this entry covers test ``nodeid`` running on ``backend``."""
        return (self.backend is None or self.backend == backend) and self.substring in nodeid

    def as_dict(self) -> dict[str, Any]:
        """The entry for the certificate."""
        return {"id": self.substring, "reason": self.reason, "source": self.source,
                "backend": self.backend, "matched": self.used}


def parse_spec(spec: str) -> tuple[str | None, Path]:
    """``"FILE"`` -> ``(None, FILE)``; ``"NAME=FILE"`` -> ``("NAME", FILE)``."""
    name, sep, rest = spec.partition("=")
    if sep and name and name.replace("_", "").isalnum() and name.lower() == name:
        return name, Path(rest)
    return None, Path(spec)


def load_file(spec: str) -> list[ExpectedFailure]:
    """The entries of one ``--xfail-file`` argument; ``ValueError`` for a malformed file."""
    backend, path = parse_spec(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read expected-failure file {str(path)!r}: {exc}") from None
    source = str(path)
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        return _from_json(text, source, backend)
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        substring, _, reason = line.partition(" ")
        reason = reason.strip().lstrip("#|:-").strip()
        if not substring:
            raise ValueError(f"{source}:{n}: empty test-id substring")
        out.append(ExpectedFailure(substring, reason or f"listed in {path.name}", source, backend))
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
        out.append(ExpectedFailure(e["id"], str(e.get("reason") or "listed in " + source),
                                   source, e.get("backend", backend)))
    return out


def from_backend(backend_obj: Any) -> list[ExpectedFailure]:
    """The entries a backend ships as ``conformance_expected_failures`` (substring -> reason)."""
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
