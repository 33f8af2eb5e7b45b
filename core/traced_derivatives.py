"""A traced function as one differentiable op: what an outer ``GradientTape`` or
``ForwardAccumulator`` records for a ``pt.function`` call.

A call of a traced function while a differentiator records in the thread is recorded as
one op per floating-point output (the tape's records have one output each), whose inputs
are the function's tensor arguments and the variables its plan reads -- so that tapes
watching accessed variables watch them, and they get gradients, as TensorFlow's do. The
op's derivatives come from traces of the function's plan, built once per signature:

* **first order** (TensorFlow's forward/backward function pair): the plan is traced once
  more inside an internal tape that watches every input, followed by one
  ``tape.gradient`` per output given a cotangent parameter. That *joint* plan is split by
  dependence: the steps that do not read a cotangent and that an output needs are the
  *forward* plan, which the call runs and which also returns the *residuals* (its results
  the backward steps read); the others are one *backward* plan per output, which the op's
  VJP rule runs on the residuals and that output's cotangent when nothing records the
  backward pass. An output nobody differentiates costs nothing in the backward pass.
* **higher order**: when the backward pass is itself recorded (the rule gets
  :mod:`polytape.ops` as its namespace), the VJP is a ``pt.function`` of the gradient
  (the plan replayed on the inputs under a tape, then ``tape.gradient``) called on the
  recorded inputs. That call is recorded as one op by this same mechanism, so every order
  works.
* **forward mode**: the JVP with respect to input ``i`` is a ``pt.function`` running the
  plan under a ``ForwardAccumulator`` that gives input ``i`` its tangent; the tangents of
  all outputs come from one call, shared by the outputs' ops.

A plan with effects (variable updates, random draws) or whose inputs repeat an object is
replayed through polytape's ops instead (every op recorded, each effect run once), since
recomputing it for a higher-order derivative would run its effects again.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from . import dispatch, nest, ops
from .optable import Op
from .tensor import Tensor, wrap

__all__ = ["TracedDerivatives", "Unsupported"]


_SLOT = object()  # a gradient the backward replay returns (others are constants, or None)


class Unsupported(Exception):
    """The plan cannot be recorded as one op (it is replayed op by op instead)."""


class _CallState:
    """What one recorded call keeps for its derivatives: the forward plan's residuals and
    the last derivatives computed (every input's rule of one backward pass shares them)."""

    __slots__ = ("residuals", "vjps", "jvps")

    def __init__(self, residuals: tuple) -> None:
        self.residuals = residuals
        self.vjps: dict[int, tuple[Any, list]] = {}   # output -> (cotangent, per-input VJPs)
        self.jvps: dict[int, tuple[Any, list]] = {}   # input -> (tangent, per-output JVPs)


class _Backward:
    """One output's backward plan, compiled per first input that needs a gradient: the
    tape asks for the inputs' gradients in order, skipping those it does not need, so the
    inputs before the first one it asks for get none (their steps are dropped)."""

    def __init__(self, plan: Any, positions: tuple[int, ...], grads: list[Any]) -> None:
        self.plan = plan              # parameters: its residuals, then the cotangent
        self.positions = positions    # where its residuals are among the forward's
        self.grads = grads            # per input: _SLOT (computed) or a constant (None)
        self._replays: dict[int, Callable] = {}

    def __call__(self, residuals: tuple, g: Any, first: int) -> list[Any]:
        replay = self._replays.get(first)
        if replay is None:
            replay = self._replays[first] = self._compile(first)
        arrays = iter(replay(*[residuals[p] for p in self.positions], g))
        return [None if i < first else next(arrays) if c is _SLOT
                else (c._data if isinstance(c, Tensor) else c)
                for i, c in enumerate(self.grads)]

    def _compile(self, first: int) -> Callable:
        from .function import Plan, _compiled, live_steps

        plan = self.plan
        skip = sum(c is _SLOT for c in self.grads[:first])
        outputs = plan.outputs[skip:]
        return _compiled(Plan(live_steps(plan.steps, outputs), plan.parameters, outputs,
                              plan.info))


class _Split:
    """The joint plan, split: the forward replay and one backward plan per output."""

    def __init__(self, forward: Callable, n_leaves: int, backward: list[_Backward]) -> None:
        self.forward = forward        # primal arrays -> leaf arrays + residual arrays
        self.n_leaves = n_leaves      # how many of the forward's results are output leaves
        self.backward = backward


@contextlib.contextmanager
def _unwatched() -> Iterator[None]:
    """No tape or accumulator of the caller's watches the block (building the derivative
    plans is not part of the computation being differentiated)."""
    local = dispatch.local
    tapes = getattr(local, "tapes", None)
    accumulators = getattr(local, "accumulators", None)
    local.tapes = []
    local.accumulators = []
    try:
        yield
    finally:
        local.tapes = tapes
        local.accumulators = accumulators


def _variable_key(vref: tuple) -> tuple:
    return ("p", vref[1]) if vref[0] == "p" else ("g", id(vref[1]))


class TracedDerivatives:
    """The derivatives of one :class:`~polytape.function.ConcreteFunction`, and the call
    that records it as one op (see the module docstring)."""

    def __init__(self, concrete: Any) -> None:
        if any(step[0] in ("effect", "write", "host") for step in concrete.steps):
            raise Unsupported("effects")
        self.concrete = concrete
        self.name = concrete.name
        self.tensor_params = [i for i, s in enumerate(concrete.parameters) if s is not None]
        self.variables: list[tuple] = []          # variable references, in the order read
        self._read_index: dict[tuple, int] = {}   # variable key -> primal position
        for step in concrete.steps:
            if step[0] == "read" and _variable_key(step[1]) not in self._read_index:
                self._read_index[_variable_key(step[1])] = (
                    len(self.tensor_params) + len(self.variables))
                self.variables.append(step[1])
        info = concrete.plan.info
        # Outputs that carry a gradient: floating-point results of the plan.
        self.diff = [k for k, (kind, slot, be) in enumerate(concrete.outputs)
                     if kind == "s" and info[slot][1] in be.float_natives]
        if not self.diff:
            raise Unsupported("no floating-point output")
        self.ops = [Op(f"function:{self.name}", vjps=(self._vjp_rule(j),),
                       jvps=(self._jvp_rule(j),), variadic=True, holomorphic=False)
                    for j in range(len(self.diff))]
        self._split: _Split | None = None
        self.broken = False  # the derivative plans could not be built
        self._gradient_functions: dict[tuple[int, int], Any] = {}
        self._jvp_functions: dict[int, Any] = {}

    # -- the inputs ---------------------------------------------------------------------------
    def primals(self, params: list[Any]) -> list[Any]:
        """The recorded op's inputs: the tensor parameters, then each variable the plan
        reads (itself, so that tapes watch it)."""
        out = [params[i] for i in self.tensor_params]
        for vref in self.variables:
            out.append(params[vref[1]] if vref[0] == "p" else vref[1])
        return out

    def pure(self, *primals: Any) -> list[Any]:
        """The plan replayed through polytape's ops on ``primals`` (the values of the
        variables among them, not the variables): the result's leaves."""
        concrete = self.concrete
        env: dict[int, Any] = {}
        for k, i in enumerate(self.tensor_params):
            env[concrete.parameters[i]] = primals[k]
        for step in concrete.steps:
            if step[0] == "read":
                env[step[2]] = primals[self._read_index[_variable_key(step[1])]]
                continue
            _, op, be, refs, attrs, out = step
            ins = tuple(env[r[1]] if r[0] == "s" else
                        (r[1] if isinstance(r[1], Tensor) else wrap(r[1], be)) for r in refs)
            env[out] = dispatch.run(op, be, ins, tuple(t._data for t in ins), attrs)
        return [env[v] if kind == "s" else v for kind, v, _ in concrete.outputs]

    # -- the call -------------------------------------------------------------------------------
    def call(self, params: list[Any]) -> Any:
        """Run the forward plan on ``params`` (tensors and variables) and record one op per
        floating-point output on the caller's tapes and accumulators; returns the result
        as traced. Raises :class:`Unsupported` when the inputs repeat an object."""
        primals = self.primals(params)
        if len({id(p) for p in primals}) != len(primals):
            raise Unsupported("an input given twice")
        split = self._split
        if split is None:
            try:
                split = self._split = self._build_split(primals)
            except Exception:
                self.broken = True
                raise
        arrays = tuple(p._data for p in primals)
        results = split.forward(*arrays)
        concrete = self.concrete
        it = iter(results[:split.n_leaves])
        leaves = [wrap(next(it), be) if kind == "s" else v for kind, v, be in concrete.outputs]
        attrs = {"call": _CallState(results[split.n_leaves:])}
        inputs = tuple(primals)
        for j, k in enumerate(self.diff):
            dispatch.record(self.ops[j], inputs, arrays, leaves[k], attrs)
        if concrete._single:
            return leaves[0]
        return nest.pack_as(concrete.structure, leaves)

    # -- first order: the joint plan, split ------------------------------------------------------
    def _joint(self, *args: Any) -> tuple[list[Any], list[list[Any]]]:
        from .tape import GradientTape

        n = len(args) - len(self.diff)
        primals, cotangents = list(args[:n]), args[n:]
        with GradientTape(persistent=True, watch_accessed_variables=False) as tape:
            for p in primals:
                if p.dtype.is_inexact:
                    tape.watch(p)
            leaves = self.pure(*primals)
        grads = [tape.gradient(leaves[k], primals, output_gradients=ct)
                 for k, ct in zip(self.diff, cotangents)]
        return leaves, grads

    def _build_split(self, primals: list[Any]) -> _Split:
        from .function import Plan, _compiled, trace_function

        concrete = self.concrete
        info = concrete.plan.info
        args = [wrap(p._data, p._backend) for p in primals]
        for k in self.diff:
            _, slot, be = concrete.outputs[k]
            _, dtype, shape = info[slot]
            args.append(wrap(be.kernels["zeros"](shape, dtype), be))
        with _unwatched():
            joint, _ = trace_function(self._joint, tuple(args), {}, list(args),
                                      f"{self.name}:joint")
        n, m = len(primals), len(self.diff)
        n_out = len(concrete.outputs)
        leaf_refs = joint.outputs[:n_out]
        if [r[0] for r in leaf_refs] != [r[0] for r in concrete.outputs]:
            raise Unsupported("the joint trace returned other outputs")
        params = joint.parameters
        owner: dict[int, int] = {params[n + j]: j for j in range(m)}  # slot -> its cotangent
        forward: list[tuple] = []
        backward: list[list[tuple]] = [[] for _ in range(m)]
        for step in joint.steps:
            if step[0] != "op":
                raise Unsupported(f"a {step[0]} step in the joint plan")
            deps = {owner[r[1]] for r in step[3] if r[0] == "s" and r[1] in owner}
            if not deps:
                forward.append(step)
            elif len(deps) == 1:
                j = deps.pop()
                owner[step[5]] = j
                backward[j].append(step)
            else:
                raise Unsupported("a step that reads two cotangents")
        # Forward steps no output needs (a derivative's factor such as cos(x) for sin) run
        # in the backward plans that read them, as TensorFlow's backward function computes
        # them: a call whose outputs nobody differentiates does not pay for them.
        from .function import live_steps

        kept = live_steps(forward, [r for r in leaf_refs if r[0] == "s"])
        later = {id(step) for step in forward} - {id(step) for step in kept}
        if later:
            for j in range(m):
                grad_refs = joint.outputs[n_out + j * n: n_out + (j + 1) * n]
                moved = [step for step in live_steps(forward + backward[j], [
                    r for r in grad_refs if r[0] == "s"]) if id(step) in later]
                backward[j] = moved + backward[j]
                for step in moved:
                    owner[step[5]] = j  # computed in (this) backward plan, not a residual
            forward = kept
        residuals: list[int] = []            # forward slots some backward plan reads
        position: dict[int, int] = {}
        plans = []
        for j in range(m):
            grad_refs = joint.outputs[n_out + j * n: n_out + (j + 1) * n]
            read = [r[1] for step in backward[j] for r in step[3] if r[0] == "s"]
            read += [r[1] for r in grad_refs if r[0] == "s"]
            mine: list[int] = []
            for slot in read:
                if slot in owner or slot in mine:
                    continue
                mine.append(slot)
                if slot not in position:
                    position[slot] = len(residuals)
                    residuals.append(slot)
            plan = Plan(backward[j], tuple(mine) + (params[n + j],),
                        [r for r in grad_refs if r[0] == "s"], joint.plan.info)
            grads = [_SLOT if r[0] == "s" else r[1] for r in grad_refs]
            plans.append(_Backward(plan, tuple(position[s] for s in mine), grads))
        outputs = [r for r in leaf_refs if r[0] == "s"] + [("s", s, None) for s in residuals]
        fplan = Plan(forward, tuple(params[:n]), outputs, joint.plan.info)
        return _Split(_compiled(fplan), sum(r[0] == "s" for r in leaf_refs), plans)

    # -- the rules ----------------------------------------------------------------------------------
    def _vjp_rule(self, j: int) -> Callable[..., Any]:
        def vjp(ns: Any, g: Any, ans: Any, *xs: Any, argnum: int, call: _CallState) -> Any:
            # The first input asked for computes every later input's gradient at once.
            hit = call.vjps.get(j)
            if hit is None or hit[0] is not g or argnum < hit[1]:
                if ns is ops:
                    grads = [None] * argnum + list(self._gradient_function(j, argnum)(*xs, g))
                else:
                    grads = self._split.backward[j](call.residuals, g, argnum)
                call.vjps[j] = hit = (g, argnum, grads)
            return hit[2][argnum]
        return vjp

    def _jvp_rule(self, j: int) -> Callable[..., Any]:
        def jvp(ns: Any, t: Any, ans: Any, *xs: Any, argnum: int, call: _CallState) -> Any:
            hit = call.jvps.get(argnum)
            if hit is None or hit[0] is not t:
                call.jvps[argnum] = hit = (t, list(self._jvp_function(argnum)(*xs, t)))
            return hit[1][j]
        jvp.needs_tensors = True  # it calls a traced function: forward mode passes tensors
        return jvp

    # -- higher order and forward mode: traced functions of the derivatives ----------------------
    def _gradient_function(self, j: int, first: int) -> Any:
        """The traced gradient of output ``j`` with respect to the inputs from ``first`` on."""
        fn = self._gradient_functions.get((j, first))
        if fn is None:
            from .function import Function
            from .tape import GradientTape

            k = self.diff[j]

            def gradient(*args: Any) -> list[Any]:
                primals, cotangent = list(args[:-1]), args[-1]
                with GradientTape(watch_accessed_variables=False) as tape:
                    for p in primals[first:]:
                        if p.dtype.is_inexact:
                            tape.watch(p)
                    leaves = self.pure(*primals)
                return tape.gradient(leaves[k], primals[first:], output_gradients=cotangent)

            fn = self._gradient_functions[(j, first)] = Function(
                gradient, name=f"{self.name}:vjp{j}")
        return fn

    def _jvp_function(self, i: int) -> Any:
        fn = self._jvp_functions.get(i)
        if fn is None:
            from .forward import ForwardAccumulator
            from .function import Function

            def jvp(*args: Any) -> list[Any]:
                primals, tangent = list(args[:-1]), args[-1]
                with ForwardAccumulator(primals[i], tangent) as acc:
                    leaves = self.pure(*primals)
                return [acc.jvp(leaves[k]) for k in self.diff]

            fn = self._jvp_functions[i] = Function(jvp, name=f"{self.name}:jvp{i}")
        return fn


def recorded_call(concrete: Any, params: list[Any]) -> Any:
    """``concrete`` called on ``params`` while a differentiator records: one op per output
    when its plan allows it, else its plan replayed through polytape's ops."""
    derivatives = concrete._derivatives
    if derivatives is None:
        try:
            derivatives = TracedDerivatives(concrete)
        except Unsupported:
            derivatives = False
        concrete._derivatives = derivatives
    if derivatives is False:
        return concrete.run_recorded(params)
    try:
        return derivatives.call(params)
    except Exception as exc:
        if not derivatives.broken:
            if isinstance(exc, Unsupported):
                return concrete.run_recorded(params)
            raise  # the forward plan itself failed: the caller's error
        concrete._derivatives = False
        if not isinstance(exc, Unsupported):
            warnings.warn(f"pt.function {concrete.name}: its derivative plans could not be "
                          f"built ({type(exc).__name__}: {exc}); its ops are recorded one by "
                          "one instead", RuntimeWarning, stacklevel=3)
    return concrete.run_recorded(params)
