"""``Module``: TensorFlow's ``tf.Module``, a container that finds the variables and
submodules assigned to its attributes (directly or inside lists, tuples and dicts)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from . import nest
from .errors import InvalidArgumentError
from .tensor import Variable

__all__ = ["Module"]

_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Module:
    """Base class for models built from variables, with TensorFlow's tracking.

    ``variables``, ``trainable_variables`` and ``submodules`` walk the attributes in
    sorted order, a module's own before its submodules', each object once -- the order
    TensorFlow's ``tf.Module`` uses.

    >>> import polytape as pt
    >>> class Linear(pt.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = pt.Variable([[1.0], [2.0]])
    ...         self.b = pt.Variable([0.0], trainable=False)
    >>> [v.shape for v in Linear().trainable_variables]
    [(2, 1)]
    """

    _IGNORED = ("_self_unique_name", "_name_scope_name")

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = _snake(type(self).__name__)
        elif not _VALID_NAME.match(name):
            raise InvalidArgumentError(
                f"{name!r} is not a valid module name. Module names must be valid Python "
                "identifiers (e.g. a valid class name).")
        self._self_unique_name = name
        self._name_scope_name = name

    @property
    def name(self) -> str:
        """The module's name (the class name in snake case by default)."""
        return self._self_unique_name

    @property
    def name_scope(self) -> Any:
        """A context manager for the module's name scope (polytape names nothing by scope:
        eager tensors have no names, so entering it changes nothing)."""
        return contextlib.nullcontext(self._name_scope_name + "/")

    def _flatten(self, predicate: Callable[[Any], bool], recursive: bool = True) -> list[Any]:
        found: list[Any] = []
        seen: set[int] = set()
        self._walk(predicate, recursive, found, seen, {id(self)})
        return found

    def _walk(self, predicate: Callable[[Any], bool], recursive: bool, found: list[Any],
              seen: set[int], visiting: set[int]) -> None:
        subs: list[Module] = []
        attrs = vars(self)
        for key in sorted(attrs):
            if key in self._IGNORED:
                continue
            for leaf in nest.flatten(attrs[key]):
                if predicate(leaf) and id(leaf) not in seen:
                    seen.add(id(leaf))
                    found.append(leaf)
                if recursive and isinstance(leaf, Module) and id(leaf) not in visiting:
                    subs.append(leaf)
        for sub in subs:
            visiting.add(id(sub))
            sub._walk(predicate, recursive, found, seen, visiting)

    @property
    def variables(self) -> tuple[Variable, ...]:
        """Every variable of this module and its submodules."""
        return tuple(self._flatten(lambda x: isinstance(x, Variable)))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        """The trainable variables of this module and its submodules."""
        return tuple(self._flatten(lambda x: isinstance(x, Variable) and x.trainable))

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        """The variables of this module and its submodules that are not trainable."""
        return tuple(self._flatten(lambda x: isinstance(x, Variable) and not x.trainable))

    @property
    def submodules(self) -> tuple[Module, ...]:
        """Every module reachable from this one's attributes (not itself)."""
        return tuple(self._flatten(lambda x: isinstance(x, Module) and x is not self))

    @classmethod
    def with_name_scope(cls, method: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: run ``method`` inside the module's name scope (a no-op in polytape)."""
        return method

