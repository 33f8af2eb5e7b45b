"""The suite's case sources: which cases each test function of the package runs.

A test module in this package marks its test function with
``@pytest.mark.polytape_cases("<source>")``; the plugin parametrises it with
:func:`cases` of that source, over every selected backend and dtype. Case lists
are built when pytest collects, so ops and plugin cases registered at run time
are included.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .cases import ConformanceCase, plugin_cases

__all__ = ["SUITE_VERSION", "SOURCES", "cases", "GROUP_TITLES"]

SUITE_VERSION = "1.0"

GROUP_TITLES = {
    "seeds": "Seed examples",
    "tape": "Tape semantics",
    "values": "Op values and dtypes",
    "gradients": "Op gradients (first and second order)",
    "jacobian": "Jacobians and forward mode",
    "training": "Training convergence",
    "errors": "Errors",
    "edge values": "Edge values (IEEE 754 special cases, ULPs)",
    "edge gradients": "Derivatives at edge values (VJP and JVP)",
    "precision": "Precision of long reductions",
    "layouts": "Layouts and shapes",
    "hygiene": "Kernel hygiene",
    "integer semantics": "Exact integer and bool semantics",
    "random": "Random draws (--samples N --seed S)",
}


# The case modules are imported when the suite collects, not here: pytest loads this package's
# plugin (through `pytest11`) in every pytest session on the machine, where they are not needed.
def _values() -> list[ConformanceCase]:
    from .dtype_cases import dtype_cases
    from .op_cases import kernel_coverage_case, value_cases

    return [kernel_coverage_case(), *dtype_cases(), *value_cases()]


def _jacobian() -> list[ConformanceCase]:
    from .jacobian_cases import jacobian_cases
    from .op_cases import jvp_cases

    return [*jacobian_cases(), *jvp_cases()]


def _simple(module: str, function: str) -> Callable[[], list[ConformanceCase]]:
    def build() -> list[ConformanceCase]:
        return getattr(importlib.import_module(f"polytape.conformance.{module}"), function)()
    return build


def _plugins() -> list:
    return plugin_cases()


SOURCES: dict[str, Callable[[], list]] = {
    "seeds": _simple("seed_cases", "seed_cases"),
    "tape": _simple("tape_cases", "tape_cases"),
    "values": _values,
    "gradients": _simple("op_cases", "gradient_cases"),
    "second_order": _simple("op_cases", "second_order_cases"),
    "jacobian": _jacobian,
    "training": _simple("training_cases", "training_cases"),
    "errors": _simple("error_cases", "error_cases"),
    "edge_values": _simple("edge_values", "edge_value_cases"),
    "edge_gradients": _simple("edge_gradients", "edge_gradient_cases"),
    "precision": _simple("precision", "precision_cases"),
    "layouts": _simple("layouts", "layout_cases"),
    "hygiene": _simple("hygiene", "hygiene_cases"),
    "integer_semantics": _simple("hygiene", "integer_cases"),
    "random": _simple("random_cases", "random_cases"),
    "plugins": _plugins,
}


def cases(source: str) -> list:
    """The cases of ``source`` (a key of :data:`SOURCES`)."""
    try:
        build = SOURCES[source]
    except KeyError:
        raise KeyError(f"unknown conformance case source {source!r}; known: {sorted(SOURCES)}") from None
    return build()
