"""Fixtures for testing the conformance suite: run-time backends and in-process certification."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import polytape.plugins as plugins
from polytape.backends.numpy.backend import NumpyBackend
from polytape.conformance import cli
from polytape.conformance.tolerances import GRADIENT, VALUE
from polytape.plugins import BackendInfo, hookimpl


class Certification:
    """The outcome of one in-process ``polytape conformance`` run."""

    def __init__(self, code: int, json_path: Path, md_path: Path) -> None:
        self.code = code
        self.data: dict[str, Any] = json.loads(json_path.read_text()) if json_path.exists() else {}
        self.markdown = md_path.read_text() if md_path.exists() else ""

    def backend(self, name: str) -> dict[str, Any]:
        """The certificate entry of backend ``name``."""
        for b in self.data["backends"]:
            if b["name"] == name:
                return b
        raise KeyError(f"{name} not in certificate: {[b['name'] for b in self.data['backends']]}")

    def cases(self, name: str, outcome: str | None = None) -> list[dict[str, Any]]:
        """The cases of backend ``name`` (with the given outcome)."""
        return [c for c in self.backend(name)["cases"] if outcome is None or c["outcome"] == outcome]

    def failing_ids(self, name: str) -> set[str]:
        """The ids of the failing cases of backend ``name``."""
        return {f["id"] for f in self.backend(name)["failures"]}


@pytest.fixture
def certify(tmp_path: Path) -> Callable[..., Certification]:
    """Run ``polytape conformance ARGS`` in this process, certificates in ``tmp_path``."""
    def run(*args: str) -> Certification:
        tag = uuid.uuid4().hex[:8]
        json_path, md_path = tmp_path / f"cert-{tag}.json", tmp_path / f"cert-{tag}.md"
        code = cli.main([*args, "--report", str(json_path), "--markdown", str(md_path)])
        return Certification(code, json_path, md_path)
    return run


@pytest.fixture
def register_backend() -> Callable[..., str]:
    """Register a backend class at run time (``polytape.plugins.register``); undone after the test."""
    names: list[str] = []

    def register(cls: type, name: str, kernels: Any = None) -> str:
        class Plugin:
            @hookimpl
            def polytape_register_backends(self, registry: Any) -> None:
                registry.add(BackendInfo(name=name, factory=cls, priority=-10, kernels=kernels))

        names.append(plugins.register(Plugin(), name=f"test-{name}"))
        return name

    yield register
    for n in names:
        plugins.unregister(n)


def numpy_variant(name: str, **kernels: Callable[..., Any]) -> type:
    """A NumPy backend named ``name`` whose kernels are replaced by ``kernels``."""
    def __init__(self: Any) -> None:
        NumpyBackend.__init__(self)
        self.kernels = {**self.kernels, **kernels}

    return type(f"Numpy_{name}", (NumpyBackend,), {"name": name, "__init__": __init__})


@pytest.fixture
def variant() -> Callable[..., type]:
    """:func:`numpy_variant`: make a NumPy backend class with some kernels replaced."""
    return numpy_variant


# A fault meant to fail in every dtype is off by several times the loosest tolerance
# there, so whether it is caught never depends on how a dtype rounds (bfloat16's value
# rtol is 1.6e-2: an error of 1% is about one bfloat16 ulp).
EXP_ERROR = 0.25


@pytest.fixture
def wrong_exp_kernel() -> Callable[[Any], Any]:
    """An exp kernel whose results are ``EXP_ERROR`` (25%) too large, in the input's dtype."""
    loosest = max(t.rtol for table in (VALUE, GRADIENT) for t in table.values())
    assert EXP_ERROR > 3 * loosest, "the fault must stay well outside every tolerance"
    return lambda x: (np.exp(x) * (1 + EXP_ERROR)).astype(x.dtype)
