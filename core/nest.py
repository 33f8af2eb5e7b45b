"""Flattening and rebuilding nested lists, tuples, dicts and namedtuples of tensors.

``gradient`` returns the structure of its ``sources``; these two functions are
how it does so.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flatten", "pack_as"]


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in order (dicts by sorted key, as TensorFlow does)."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_as(structure: Any, leaves: list[Any]) -> Any:
    """``structure`` rebuilt with ``leaves`` in place of its leaves."""
    it = iter(leaves)
    out = _pack(structure, it)
    return out


def _pack(structure: Any, it: Any) -> Any:
    if isinstance(structure, dict):
        packed = {k: _pack(structure[k], it) for k in sorted(structure)}
        return type(structure)((k, packed[k]) for k in structure)
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(_pack(s, it) for s in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(s, it) for s in structure)
    return next(it)
