"""Shared fixtures: every test that takes ``backend`` runs once per available backend."""

from __future__ import annotations

import pytest

import polytape as pt

AVAILABLE = [s.name for s in pt.list_backends() if s.available]


@pytest.fixture(params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a backend that is current (``pt.use_backend``) for the whole test."""
    with pt.use_backend(request.param):
        yield request.param
