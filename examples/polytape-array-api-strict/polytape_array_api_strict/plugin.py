"""The pluggy hook that registers the ``array_api_strict`` backend with polytape.

polytape finds this module through the entry point in ``pyproject.toml``::

    [project.entry-points.polytape]
    array_api_strict = "polytape_array_api_strict.plugin"

Importing it is cheap: the backend (and ``array_api_strict``) is imported only
when polytape first builds it.
"""

from __future__ import annotations

from polytape.plugins import BackendInfo, hookimpl


def make_backend():
    """Build the backend (polytape calls this once, the first time the backend is used)."""
    from .backend import ArrayApiStrictBackend

    return ArrayApiStrictBackend()


@hookimpl
def polytape_register_backends(registry):
    """Add the ``array_api_strict`` backend (low priority: never the default by accident)."""
    registry.add(BackendInfo(
        name="array_api_strict", factory=make_backend, priority=-10,
        description="array-api-strict: the Python Array API standard and nothing more"))
