"""The ``polytape`` command: ``polytape backends`` and ``polytape conformance``."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import polytape as pt
from polytape.backend_selection import list_backends
from polytape.errors import PluginError
from polytape.plugins import get_plugin_system

__all__ = ["main", "backends_table", "backends_data", "current_default", "version_text"]

USAGE = """usage: polytape [--version] <command> [options]

commands:
  backends      list registered backends: plugin, version, availability, devices,
                and the current default (--json for machines)
  conformance   certify backends with the conformance suite (polytape conformance --help)
"""


def version_text() -> str:
    """``polytape X (conformance suite Y, Python Z)``: what ``polytape --version`` prints."""
    # Not at the top: the conformance package imports pytest, which `polytape backends` never needs.
    from polytape.conformance.suite import SUITE_VERSION

    return (f"polytape {pt.__version__} (conformance suite {SUITE_VERSION}, "
            f"Python {platform.python_version()})")


def current_default() -> dict[str, Any]:
    """The backend new tensors go to in a fresh process, and why: ``{"backend", "device",
    "source"}`` (``backend`` is ``None`` with an ``error`` when none can be chosen)."""
    spec = os.environ.get("POLYTAPE_BACKEND")
    source = "POLYTAPE_BACKEND" if spec else "highest-priority available backend"
    try:
        be = pt.backend_selection.current_backend()
        device = pt.backend_selection.current_device()
    except pt.PolytapeError as exc:
        return {"backend": None, "device": None, "source": source, "error": str(exc)}
    return {"backend": be.name, "device": device or be.default_device, "source": source}


def backends_data() -> dict[str, Any]:
    """``polytape backends --json``: every registered backend, plugin problems, the default."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        statuses = pt.list_backends()
        system = get_plugin_system()
    rows = []
    for s in statuses:
        row = dataclasses.asdict(s)
        row["devices"] = list(s.devices)
        rows.append(row)
    return {"polytape": pt.__version__, "backends": rows, "default": current_default(),
            "failed_plugins": dict(sorted(system.failures.items())),
            "disabled_plugins": sorted(system.disabled)}


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
    default = current_default()
    lines += ["", f"current default: {default['backend']}:{default['device']} ({default['source']})"
              if default["backend"] else f"current default: none ({default['error']})"]
    return "\n".join(lines)


def _backends(args: Sequence[str]) -> int:
    if args and args[0] in ("-h", "--help"):
        print("usage: polytape backends [--json]\n\nList every registered backend: the plugin (and "
              "distribution) that registered it,\nits version, whether it is available here "
              "(and why not), its devices, and the\ncurrent default backend. --json prints the "
              "same as JSON.\nEnvironment: POLYTAPE_BACKEND, POLYTAPE_DISABLE_PLUGINS, "
              "POLYTAPE_STRICT_PLUGINS, POLYTAPE_TRACE_PLUGINS.")
        return 0
    as_json = args[:1] == ["--json"]
    if as_json:
        args = args[1:]
    if args:
        print(f"polytape backends: unexpected arguments {' '.join(args)}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(backends_data(), indent=2) if as_json else backends_table())
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
    if args[0] in ("--version", "-V"):
        print(version_text())
        return 0
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
