"""The ``polytape`` command: ``polytape backends`` and ``polytape conformance``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from polytape.backend_selection import list_backends
from polytape.errors import PluginError
from polytape.plugins import get_plugin_system

__all__ = ["main"]

USAGE = """usage: polytape <command> [options]

commands:
  backends      list registered backends: plugin, version, availability, devices
  conformance   certify backends with the conformance suite (polytape conformance --help)
"""


def backends_table() -> str:
    """The text of ``polytape backends``: one row per registered backend, then plugin problems.

    Columns: backend name, the plugin that registered it and the distribution it came
    from, the backend's version (of its array library), whether it is available, and
    its devices -- or, when unavailable, why. Plugins that failed to load and plugins
    blocked by ``POLYTAPE_DISABLE_PLUGINS`` are listed below the table.
    """
    with warnings.catch_warnings():
        # The failures are listed below the table; the same text as warnings is noise here.
        warnings.simplefilter("ignore", RuntimeWarning)
        statuses = list_backends()
        system = get_plugin_system()
    rows = [("backend", "plugin", "from", "version", "available", "devices / reason")]
    for s in statuses:
        detail = ", ".join(s.devices) if s.available else s.reason
        rows.append((s.name, s.plugin, s.source or "-", s.version or "-",
                     "yes" if s.available else "no", detail))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows]
    if len(rows) == 1:
        lines.append("(no backend is registered: is polytape installed, or are all plugins disabled?)")
    if system.failures:
        lines += ["", "plugins that failed to load (skipped):"]
        lines += [f"  {name}: {reason}" for name, reason in sorted(system.failures.items())]
    if system.disabled:
        lines += ["", "plugins disabled by POLYTAPE_DISABLE_PLUGINS: " + ", ".join(sorted(system.disabled))]
    return "\n".join(lines)


def _backends(args: Sequence[str]) -> int:
    if args and args[0] in ("-h", "--help"):
        print("usage: polytape backends\n\nList every registered backend: the plugin (and "
              "distribution) that registered it,\nits version, whether it is available here "
              "(and why not), and its devices.\nEnvironment: POLYTAPE_DISABLE_PLUGINS, "
              "POLYTAPE_STRICT_PLUGINS, POLYTAPE_TRACE_PLUGINS.")
        return 0
    if args:
        print(f"polytape backends: unexpected arguments {' '.join(args)}", file=sys.stderr)
        return 2
    try:
        print(backends_table())
    except PluginError as exc:  # POLYTAPE_STRICT_PLUGINS=1 and a plugin is broken
        print(f"polytape backends: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``polytape`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "backends":
        return _backends(rest)
    if command == "conformance":
        # Loaded here only: the suite brings in pytest, which `polytape backends` never needs.
        from polytape.conformance.cli import main as conformance_main

        return conformance_main(rest)
    print(f"polytape: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
