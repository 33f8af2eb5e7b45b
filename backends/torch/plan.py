"""The torch backend's ``pt.function`` compiler: a plan's op steps as one TorchScript graph.

The plain replay calls one Python kernel per op; for the small arrays of a typical
training-loop step, that Python call costs more than torch's kernel. This compiler
records the plan's op steps with ``torch.jit.trace`` on the first call (the tracing run
*is* that call: its results are returned) and later calls run the recorded graph in
TorchScript's interpreter: no Python between ops.

It takes only plans whose semantics a graph keeps exactly, and returns None (the plain
replay) for the rest:

* no effects: an effect is Python that must run on every call;
* variable reads, writes and host steps are kept outside the graph: the wrapper reads the
  variables' arrays and calls the host steps before the graph runs (ops are pure, so
  only the values matter, not the order) and writes the graph's results to the
  variables after it; a read after a write of the same variable is the written value;
* no uint16/32/64 values: torch computes some of their ops through NumPy (``.unsigned``);
* a kernel that branches on a value (a ``.item()``, ``bool()`` of a tensor) would be
  frozen into one branch: the tracer's warning about it is raised as an error, and the
  plan falls back to the plain replay for good (so does a kernel error while tracing,
  which the plain replay then raises as usual). ``relu_backward``, whose NaN test is such
  a branch, is traced as ``threshold_backward`` of ``x`` with NaN read as 0 (the same
  values, no branch).

The graph runs with TorchScript's optimization passes off
(``torch.jit.optimized_execution(False)``): the ops are exactly the traced ones, with no
fusion or algebraic rewriting that could change a rounding, a signed zero or a NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["compile_plan"]

_UNSIGNED = (torch.uint16, torch.uint32, torch.uint64)
_INF = float("inf")
# Calling a graph costs a few microseconds more than a Python function; each op it runs saves
# about one. Shorter plans keep the plain replay.
MIN_OPS = 16
_get_optimize = torch._C._get_graph_executor_optimize
_set_optimize = torch._C._set_graph_executor_optimize


def _relu_backward_traceable(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``relu_backward`` with no value-dependent branch: NaN in ``x`` reads as 0."""
    if (x.dtype is torch.bool or g.dtype != x.dtype or not x.is_floating_point()
            or x.device.type != "cpu"):
        return torch.where(x > 0, g, g.new_zeros(()))
    return torch.ops.aten.threshold_backward(g, torch.nan_to_num(x, 0.0, _INF, -_INF), 0)


_TRACEABLE = {"relu_backward": _relu_backward_traceable}


def _kernel(be: Any, name: str) -> Callable[..., Any]:
    """The kernel without the backend's error-translating wrapper (a replay of a traced
    signature meets no dtype problem the trace did not), or its traceable stand-in."""
    fn = _TRACEABLE.get(name)
    if fn is not None:
        return fn
    kernel = be.kernels[name]
    return getattr(kernel, "__wrapped__", kernel)


def compile_plan(plan: Any) -> Callable | None:
    """``plan`` as a TorchScript graph between Python reads/host steps and writes, or None
    when it has effects or unsigned values (see the module docstring)."""
    steps = plan.steps
    if sum(step[0] == "op" for step in steps) < MIN_OPS:
        return None
    for info in plan.info.values():
        if info[0] is not torch.Tensor or info[1] in _UNSIGNED:
            return None
    inputs: list[tuple] = []           # graph inputs: ("param", i) / ("read", vref) / ("host", k, j)
    slot_input: dict[int, int] = {}    # slot -> graph input position
    current: dict[Any, int] = {}       # variable ref -> slot last written to it in the plan
    writes: dict[Any, int] = {}        # variable ref -> slot it holds at the end
    hosts: list[Callable] = []
    ops: list[tuple] = []
    vkinds = set()
    for i, slot in enumerate(plan.parameters):
        if slot is not None:
            slot_input[slot] = len(inputs)
            inputs.append(("param", i))
    alias: dict[int, int] = {}         # slot of a read after a write -> the written slot
    for step in steps:
        kind = step[0]
        if kind == "effect":
            return None
        if kind == "read":
            _, vref, slot = step
            key = _vkey(vref)
            vkinds.add(vref[0])
            if key in current:
                alias[slot] = current[key]
            else:
                slot_input[slot] = len(inputs)
                inputs.append(("read", vref))
        elif kind == "write":
            _, vref, ref = step
            if ref[0] != "s":
                return None  # a constant written: rare, and no graph output to give
            key = _vkey(vref)
            vkinds.add(vref[0])
            current[key] = writes[key] = alias.get(ref[1], ref[1])
        elif kind == "host":
            _, fn, slots, _ = step
            for j, slot in enumerate(slots):
                slot_input[slot] = len(inputs)
                inputs.append(("host", len(hosts), j))
            hosts.append(fn)
        else:
            _, op, be, refs, attrs, slot = step
            refs = tuple(("s", alias.get(r[1], r[1])) if r[0] == "s" else r for r in refs)
            ops.append((_kernel(be, op.name), refs, attrs or {}, slot))
    if writes and len(vkinds) > 1:
        return None  # a parameter variable may be a closed-over one: keep the plain order
    outputs = [alias.get(r[1], r[1]) for r in plan.outputs if r[0] == "s"]
    write_refs = [_vref(key) for key in writes]
    graph_outputs = outputs + [writes[key] for key in writes]
    return _TracedReplay(plan, inputs, slot_input, hosts, ops, graph_outputs, len(outputs),
                         write_refs)


def _vkey(vref: tuple) -> Any:
    return (vref[0], vref[1]) if vref[0] == "p" else ("g", id(vref[1]), vref[1])


def _vref(key: tuple) -> tuple:
    return ("p", key[1]) if key[0] == "p" else ("g", key[2])


class _TracedReplay:
    """The compiled replay: Python reads and host steps, the graph, Python writes."""

    def __init__(self, plan: Any, inputs: list[tuple], slot_input: dict[int, int],
                 hosts: list[Callable], ops: list[tuple], graph_outputs: list[int],
                 n_outputs: int, write_refs: list[tuple]) -> None:
        self._plan = plan
        self._inputs = inputs
        self._slot_input = slot_input
        self._hosts = hosts
        self._ops = ops
        self._graph_outputs = graph_outputs
        self._n_outputs = n_outputs
        self._write_refs = write_refs
        self._graph: Any = None
        self._fallback: Callable | None = None
        # The common plan reads no variable, has no host step and writes nothing: the graph
        # takes the call's arguments as they come.
        self._direct = (not hosts and not write_refs
                        and inputs == [("param", i) for i in range(len(inputs))]
                        and len(inputs) == len(plan.parameters))

    def _gather(self, args: tuple) -> list[Any]:
        host_values = [tuple(fn()) for fn in self._hosts]
        values = []
        for entry in self._inputs:
            if entry[0] == "param":
                values.append(args[entry[1]])
            elif entry[0] == "read":
                vref = entry[1]
                var = args[vref[1]] if vref[0] == "p" else vref[1]
                values.append(var._data)
            else:
                values.append(host_values[entry[1]][entry[2]])
        return values

    def _run_ops(self, *values: Any) -> tuple:
        env = {slot: values[k] for slot, k in self._slot_input.items()}
        for fn, refs, attrs, slot in self._ops:
            args = [env[r[1]] if r[0] == "s" else r[1] for r in refs]
            env[slot] = fn(*args, **attrs)
        return tuple(env[s] for s in self._graph_outputs)

    def __call__(self, *args: Any) -> tuple:
        fallback = self._fallback
        if fallback is not None:
            return fallback(*args)
        graph = self._graph
        if graph is None:
            return self._first_call(args)
        optimize = _get_optimize()
        _set_optimize(False)  # torch.jit.optimized_execution(False), without a generator
        try:
            if self._direct:
                results = graph(*args)
                return results if type(results) is tuple else (results,)
            results = graph(*self._gather(args))
        finally:
            _set_optimize(optimize)
        return self._finish(args, results)

    def _first_call(self, args: tuple) -> tuple:
        # The host steps must run once per call: gather first, then trace on those values
        # (a failure replays through the plain replay, which runs the host steps itself --
        # so the values are gathered only once a trace is sure to be attempted).
        values = self._gather(args)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                warnings.simplefilter("error", torch.jit.TracerWarning)
                graph = torch.jit.trace(self._run_ops, tuple(values), check_trace=False,
                                        strict=False)
                with torch.jit.optimized_execution(False):
                    results = graph(*values)
        except Exception:
            self._fallback = self._plan.compile()
            # The host steps already ran for this call: run the ops on their values here.
            return self._finish(args, self._run_untraced(values))
        self._graph = graph
        return self._finish(args, results)

    def _run_untraced(self, values: list[Any]) -> tuple:
        fallback_ops = [(self._plan_kernel(k), refs, attrs, slot)
                        for k, (_, refs, attrs, slot) in enumerate(self._ops)]
        env = {slot: values[k] for slot, k in self._slot_input.items()}
        for fn, refs, attrs, slot in fallback_ops:
            args = [env[r[1]] if r[0] == "s" else r[1] for r in refs]
            env[slot] = fn(*args, **attrs)
        return tuple(env[s] for s in self._graph_outputs)

    def _plan_kernel(self, k: int) -> Callable[..., Any]:
        op_steps = [s for s in self._plan.steps if s[0] == "op"]
        _, op, be, _, _, _ = op_steps[k]
        return be.kernels[op.name]

    def _finish(self, args: tuple, results: Any) -> tuple:
        if not isinstance(results, tuple):
            results = (results,)
        for vref, value in zip(self._write_refs, results[self._n_outputs:]):
            var = args[vref[1]] if vref[0] == "p" else vref[1]
            var._data = value
        return tuple(results[:self._n_outputs])
