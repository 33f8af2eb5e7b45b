"""Group "random": ``--samples N --seed S`` draws N more inputs per op, dtype and sample.

Each extra draw is the recipe's sample (same shapes, ranges and attributes) under another
label, ``<label>~s<seed>#<i>``, so its values come from
``numpy.random.default_rng(crc32('<op>/<label>~s<seed>#<i>'))``: a seed and a sample
number give the same inputs on every machine and backend, and the certificate's
reproduce command (``--samples N --seed S -k <case id>``) runs exactly the failing draw
again. With ``--samples 0`` (the default) the group is empty.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .cases import ConformanceCase

__all__ = ["configure", "settings", "random_cases", "reproduce_command"]

_settings = {"samples": 0, "seed": 0}


def configure(samples: int, seed: int) -> None:
    """Set how many random draws per op, dtype and sample the group makes, and their seed."""
    if samples < 0:
        raise ValueError(f"--samples must be >= 0, got {samples}")
    _settings["samples"], _settings["seed"] = int(samples), int(seed)


def settings() -> dict[str, int]:
    """The current ``{"samples": N, "seed": S}``."""
    return dict(_settings)


def reproduce_command(backend: str, test_id: str, samples: int | None = None,
                      seed: int | None = None) -> str:
    """The one command that runs the case ``test_id`` (a certificate's case id) again."""
    name = test_id.split("::")[-1]
    name = name[name.index("[") + 1:name.rindex("]")] if "[" in name else name
    func = test_id.split("::")[-1].split("[")[0]
    cur = settings()
    samples = cur["samples"] if samples is None else samples
    seed = cur["seed"] if seed is None else seed
    rand = f" --samples {samples} --seed {seed}" if samples else ""
    # The bracketed id: "test_value[exp-numpy-float32]" does not match logsumexp's case.
    return f"polytape conformance --backend {backend}{rand} -k '{func}[{name}]'"


def _random_fn(recipe: Any, samples: int, seed: int) -> Any:
    from .op_cases import _held, check_value  # the plugin imports this module at start-up

    def fn(backend: str, dtype: Any) -> None:
        for sample in _held(recipe, recipe.samples, backend, str(dtype)):
            for i in range(samples):
                check_value(recipe, replace(sample, label=f"{sample.label}~s{seed}#{i}"),
                            backend, str(dtype))
    return fn


def random_cases() -> list[ConformanceCase]:
    """One case per op with a recipe: its values on ``samples`` extra draws (none when 0)."""
    # Imported here: the pytest plugin imports this module in every pytest session.
    from .op_cases import _ops
    from .recipes import dtype_names, recipe_for

    n, seed = _settings["samples"], _settings["seed"]
    if n <= 0:
        return []
    cases = []
    for op, _ in _ops():
        r = recipe_for(op)
        if r is not None:
            cases.append(ConformanceCase(op, "random", _random_fn(r, n, seed),
                                         dtypes=dtype_names(r.kinds), op=op,
                                         doc=f"{op} on {n} random draws per sample, seed {seed}"))
    return cases
