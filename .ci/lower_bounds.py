"""Print a pip constraints file that pins every declared dependency to its lower bound.

CI installs the project a second time under these constraints (``PIP_CONSTRAINT``), so
the oldest versions ``pyproject.toml`` claims to support are really tested. Nothing here
is kept by hand: the bounds are read from the ``pyproject.toml`` files given.

    python .ci/lower_bounds.py pyproject.toml:test,torch examples/plugin/pyproject.toml

Each argument is a ``pyproject.toml`` path, optionally followed by ``:`` and the extras
that are installed with it. The build-system requirements are included too (pip applies
``PIP_CONSTRAINT`` inside isolated build environments). A requirement without a lower
bound (``>=``, ``~=`` or ``==``) is an error: "oldest" would mean nothing for it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

# name [extras] specifiers ; marker  -- the subset of PEP 508 a pyproject here uses.
_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?"
                          r"\s*(?P<spec>[^;]*)(;.*)?$")
_LOWER = re.compile(r"(>=|~=|==)\s*(?P<version>[0-9][^,\s]*)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def lower_bound(requirement: str) -> tuple[str, str] | None:
    """``(name, version)`` of a requirement's lower bound; ``None`` for a local project
    (a bare name such as ``polytape`` in the example plugin, installed from this repo)."""
    m = _REQUIREMENT.match(requirement)
    if m is None:
        raise SystemExit(f"cannot read requirement {requirement!r}")
    spec = m["spec"].strip()
    if not spec:
        return None
    bound = _LOWER.search(spec)
    if bound is None:
        raise SystemExit(f"requirement {requirement!r} declares no lower bound")
    return _normalise(m["name"]), bound["version"]


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    """The build, runtime and named extras' requirements of one ``pyproject.toml``."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    reqs = list(data.get("build-system", {}).get("requires", []))
    reqs += data["project"].get("dependencies", [])
    optional = data["project"].get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"{pyproject}: no extra named {extra!r}")
        reqs += optional[extra]
    return reqs


def main(argv: list[str]) -> int:
    pins: dict[str, str] = {}
    for arg in argv:
        path, _, extras = arg.partition(":")
        for req in requirements(Path(path), [e for e in extras.split(",") if e]):
            bound = lower_bound(req)
            if bound is None:
                continue
            name, version = bound
            # Declared twice (say, to build and to test): the higher bound is the one that holds.
            pins[name] = max(version, pins.get(name, version), key=_version_key)
    for name, version in sorted(pins.items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
