"""Timing: interleaved repetitions in one process, medians per implementation.

Each repetition times every implementation once, in an order shuffled afresh
(seeded, so runs are repeatable) for each repetition, so slow drifts of the
machine (frequency, another process) fall on all of them alike. Shuffling also
varies which implementation runs just before which: BLAS and OpenMP worker
threads keep spinning for a while after a call, and on a small machine a fixed
neighbour (NumPy's OpenBLAS before torch's OpenMP, say) would always slow the
same one down. For the same reason the harness pauses ``settle_s`` (untimed)
between samples. A sample is the mean time of ``number`` back-to-back calls,
with ``number`` calibrated so one sample lasts about ``sample_s`` seconds. The
garbage collector stays on: reference cycles a library creates are part of its
cost.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["calibrate", "interleaved"]

_clock = time.perf_counter


def _time(fn: Callable[[], Any], number: int) -> float:
    t0 = _clock()
    for _ in range(number):
        fn()
    return (_clock() - t0) / number


def calibrate(fn: Callable[[], Any], sample_s: float) -> int:
    """How many calls of ``fn`` take about ``sample_s`` seconds (at least 1)."""
    one = _time(fn, 1)
    if one >= sample_s:
        return 1
    n = max(1, int(sample_s / max(one, 1e-7)) // 4)
    per_call = _time(fn, n)
    return max(1, int(round(sample_s / max(per_call, 1e-9))))


def interleaved(fns: dict[str, Callable[[], Any]], repetitions: int, sample_s: float,
                warmup: int = 2, settle_s: float = 0.0) -> dict[str, dict[str, Any]]:
    """``{name: {"median_s", "min_s", "samples_s", "number"}}`` for each function."""
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    number = {name: calibrate(fns[name], sample_s) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    order = random.Random(0)
    for _ in range(repetitions):
        for name in order.sample(names, len(names)):
            if settle_s:
                time.sleep(settle_s)
            samples[name].append(_time(fns[name], number[name]))
    return {name: {"median_s": statistics.median(s), "min_s": min(s), "samples_s": s,
                   "number": number[name]} for name, s in samples.items()}
