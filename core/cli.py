"""The ``polytape`` command: ``polytape backends`` and ``polytape conformance``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

USAGE = """usage: polytape <command> [options]

commands:
  backends      list registered backends: plugin, version, availability, devices
  conformance   certify backends with the conformance suite (polytape conformance --help)
"""


def backends_table() -> str:
    """The text of ``polytape backends``: one row per registered backend."""
    import polytape as pt

    rows = [("backend", "plugin", "version", "available", "devices / reason")]
    for s in pt.list_backends():
        detail = ", ".join(s.devices) if s.available else s.reason
        rows.append((s.name, s.plugin, s.version or "-", "yes" if s.available else "no", detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``polytape`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "backends":
        print(backends_table())
        return 0
    if command == "conformance":
        from polytape.conformance.cli import main as conformance_main

        return conformance_main(rest)
    print(f"polytape: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
