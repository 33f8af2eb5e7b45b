"""The examples in docstrings run and print what they show (docs that match the code)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import polytape
import polytape.backends
import polytape.plugins


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


MODULES = sorted(_modules(polytape) + _modules(polytape.backends) + _modules(polytape.plugins))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional backend library (torch, cupy) is not installed
        pytest.skip(f"{name}: {exc}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) in {name} failed"
