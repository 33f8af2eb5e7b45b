"""The op table: every op polytape knows, declared once with its derivative rules and facts.

An :class:`Op` carries its name (which is also its kernel's name on every backend), its
derivative rules and the facts callers need about it: ``differentiable`` (ops declared
``differentiable=False`` are never recorded), ``same_dtype`` (its array operands share one
dtype, so Python numbers are converted to it), ``float_only`` (integer inputs compute in
the default float dtype), ``real_only`` (it orders or rounds, or its rules assume real
inputs, so complex inputs raise ``DTypeError``), ``holomorphic`` (see below),
``variadic`` (any number of inputs, one rule called with ``argnum=i``) and an optional
``default_kernel`` composed from other kernels, so a backend need not supply it. Callers
ask ``op.vjp(i)`` / ``op.jvp(i)`` for input ``i``'s rule and never look at how it was
declared. The declarations live in :mod:`polytape.derivatives`.

A rule takes a *namespace* first: ``polytape.ops`` when an outer tape must record the
backward pass (higher-order derivatives), or a backend's raw kernels when nothing records
it (the fast path). One rule serves both; Python operators (``+ - * / ** > ==``) work the
same on polytape tensors and on native arrays, so rules may use them::

    defop("sin", lambda ns, g, ans, x: g * ns.cos(x), elementwise=True, float_only=True)

:func:`defop` writes the JVP itself where it is regular: ``elementwise=True`` (the VJP is
elementwise and linear in ``g``, so the JVP is the VJP with ``t`` in place of ``g``; with
one rule per input, the inputs broadcast together and each VJP is summed back to its
input's shape) and ``linear=True`` (the op is linear in each input, so input ``i``'s JVP is
the op itself with ``t`` in place of input ``i`` and the same attributes). A differentiable
op must have a VJP (an error at declaration otherwise); a JVP it lacks is derived from the
VJP by the double-VJP trick. ``None`` in place of one input's VJP says that input has no
gradient (a condition, a mask). See ``docs/architecture.md`` for how the pieces fit.

Complex inputs (TensorFlow's convention, ``docs/architecture.md``, *The tape*): a rule
computes the op's derivative as if every array were real -- the JVP ``f'(z) t`` and the
VJP its transpose ``f'(z) g``. For a ``holomorphic`` op (the default) the tape conjugates
around the VJP rule on complex arrays, ``conj(vjp(conj(g)))``, which is the adjoint
``g conj(f'(z))`` TensorFlow returns, and the JVP needs nothing. An op that is not
complex-differentiable (``abs``, ``real``, ``imag``, ``conj`` of complex inputs) says
``holomorphic=False`` and its rules give TensorFlow's VJP and the real-linear JVP directly.
"""

from __future__ import annotations

import dis
import inspect
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Op", "OPS", "defop", "required_kernels", "CREATION_KERNELS", "unbroadcast",
           "rule_reads", "UNUSED", "SHAPE", "VALUE"]

Rule = Callable[..., Any]


@dataclass(eq=False, slots=True)
class Op:
    """One entry of the op table.

    ``vjp(i)(ns, g, ans, *inputs, **attrs)`` is the cotangent of input ``i``; ``jvp(i)(ns,
    t, ans, *inputs, **attrs)`` is input ``i``'s contribution to the output tangent when that
    input has tangent ``t`` (contributions of several inputs add up). Both return ``None``
    for an input without a gradient. ``vjps``/``jvps`` hold one rule per input (one in all
    for a ``variadic`` op); a missing JVP is derived from the VJP.
    """

    name: str
    vjps: tuple[Rule | None, ...] = ()
    jvps: tuple[Rule | None, ...] = ()
    default_kernel: Callable[..., Any] | None = None
    differentiable: bool = True
    variadic: bool = False
    same_dtype: bool = False
    float_only: bool = False
    real_only: bool = False
    holomorphic: bool = True
    doc: str = ""
    elementwise: bool = False  # declared elementwise (its kernel broadcasts like NumPy's ufuncs)
    # What each input's VJP reads of (ans, input 0, input 1, ...): UNUSED, SHAPE or VALUE;
    # derived from the rules themselves unless given (see rule_reads).
    reads: tuple[tuple[int, ...] | None, ...] | None = None
    _bound: dict[tuple[bool, int], Rule] = field(default_factory=dict, init=False, repr=False)
    _kept: dict[tuple[bool, ...], tuple[bool, tuple[int, ...]]] = field(
        default_factory=dict, init=False, repr=False)
    # What a call with tensors only keeps (None: variadic, it depends on the count), and a
    # binary op's call with a Python number first or second (the recording hot path's lookups).
    plan_all: tuple[bool, tuple[int, ...]] | None = field(default=None, init=False, repr=False)
    plan_number_x: tuple[bool, tuple[int, ...]] | None = field(default=None, init=False, repr=False)
    plan_x_number: tuple[bool, tuple[int, ...]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.differentiable and not any(v is not None for v in self.vjps):
            raise ValueError(f"op {self.name!r} needs a vjp rule, or differentiable=False")
        if len(self.jvps) > len(self.vjps):
            raise ValueError(f"op {self.name!r} has more jvp rules than vjp rules")
        self.jvps = tuple(j if j is not None or v is None else _jvp_by_double_vjp(v)
                          for v, j in zip(self.vjps, self.jvps + (None,) * len(self.vjps)))
        if self.reads is None:
            self.reads = tuple(None if v is None else rule_reads(v, len(self.vjps), self.variadic)
                               for v in self.vjps)
        if self.vjps and not self.variadic:
            self.plan_all = self.kept((True,) * len(self.vjps))
            if len(self.vjps) == 2:
                self.plan_number_x = self.kept((False, True))
                self.plan_x_number = self.kept((True, False))

    def kept(self, tensors: tuple[bool, ...]) -> tuple[bool, tuple[int, ...]]:
        """What a tape must keep of one call whose inputs are tensors where ``tensors`` is
        true (only a tensor can ever ask for its gradient): ``(ans, dropped)``, whether some
        VJP reads the output, and the tensor inputs whose values no VJP reads (their shapes
        are kept)."""
        plan = self._kept.get(tensors)
        if plan is None:
            n = len(tensors)
            need = [UNUSED] * (n + 1)
            for i, is_tensor in enumerate(tensors):
                if self.variadic:
                    r = self.reads[0] if self.reads else None
                else:  # an input past the declared rules has none (the tape refuses it)
                    r = self.reads[i] if i < len(self.reads) else None
                if not is_tensor or r is None:
                    continue
                if self.variadic:  # one rule: what it reads of "the inputs" holds for each
                    r = (r[0],) + (r[1],) * n
                need = [max(a, b) for a, b in zip(need, r)]
            dropped = tuple(j for j in range(n) if tensors[j] and need[j + 1] < VALUE)
            plan = self._kept[tensors] = (need[0] != UNUSED, dropped)
        return plan

    def vjp(self, i: int) -> Rule | None:
        """Input ``i``'s VJP rule, or ``None`` when that input has no gradient."""
        if self.variadic:
            return self._for_input(self.vjps[0], False, i) if self.vjps else None
        try:
            return self.vjps[i]
        except IndexError:
            if not self.differentiable:
                return None
            raise IndexError(f"op {self.name!r} declares VJP rules for {len(self.vjps)} inputs, "
                             f"not for input {i} (give None for an input without one)") from None

    def jvp(self, i: int) -> Rule | None:
        """Input ``i``'s JVP rule, or ``None`` when that input has no gradient."""
        if self.variadic:
            return self._for_input(self.jvps[0], True, i) if self.jvps else None
        if i >= len(self.jvps):
            self.vjp(i)  # the same error for an input the declaration does not cover
            return None
        return self.jvps[i]

    def _for_input(self, rule: Rule, forward: bool, i: int) -> Rule:
        # A variadic op's one rule, bound to argnum=i (once per input).
        bound = self._bound.get((forward, i))
        if bound is None:
            def bound(ns: Any, g: Any, ans: Any, *xs: Any, **attrs: Any) -> Any:
                return rule(ns, g, ans, *xs, argnum=i, **attrs)
            bound.needs_tensors = getattr(rule, "needs_tensors", False)
            self._bound[(forward, i)] = bound
        return bound

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


OPS: dict[str, Op] = {}

# Kernels a backend supplies that are not ops (they make arrays, they do not transform them).
CREATION_KERNELS = frozenset({"zeros", "ones", "full", "astype"})


# What a rule reads of an argument (Op.reads): nothing, only its shape, or its values.
UNUSED, SHAPE, VALUE = 0, 1, 2
_SHAPE_ATTRIBUTES = frozenset({"shape", "ndim", "size"})


def rule_reads(rule: Rule, n_inputs: int, variadic: bool = False) -> tuple[int, ...]:
    """What ``rule(ns, g, ans, *inputs)`` reads of ``ans`` and of each input, read off its
    code as PyTorch's codegen reads ``derivatives.yaml`` formulas: a parameter the body never
    names is UNUSED, one it names only as ``p.shape``/``p.ndim``/``p.size`` is SHAPE, any
    other use (passing it on, indexing it, a closure over it) is VALUE. A variadic rule's
    ``*inputs`` counts once, for every input. Anything that is not plain Python code (a
    builtin, a ``functools.partial``) reads every value.

    >>> rule_reads(lambda ns, g, ans, x, y: g * y, 2)
    (0, 0, 2)
    """
    width = 1 + (1 if variadic else n_inputs)
    code = getattr(rule, "__code__", None)
    if code is None or not isinstance(rule, types.FunctionType):
        return (VALUE,) * width
    positional = code.co_varnames[:code.co_argcount]
    names: list[str | None] = list(positional[2:2 + width])
    if len(names) < width and code.co_flags & inspect.CO_VARARGS:
        star = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
        names += [star] * (width - len(names))
    names += [None] * (width - len(names))  # more inputs than parameters: never read
    uses = dict.fromkeys((n for n in names if n), UNUSED)
    for name in uses:
        if name in code.co_cellvars:
            uses[name] = VALUE  # a nested function reads it
    instructions = list(dis.get_instructions(code))
    for k, ins in enumerate(instructions):
        if not ins.opname.startswith("LOAD_") or ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            continue
        loaded = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
        for name in loaded:
            if name not in uses:
                continue
            after = instructions[k + 1] if k + 1 < len(instructions) else None
            shape_only = (len(loaded) == 1 and after is not None and after.opname == "LOAD_ATTR"
                          and after.argval in _SHAPE_ATTRIBUTES)
            uses[name] = max(uses[name], SHAPE if shape_only else VALUE)
    return tuple(UNUSED if n is None else uses[n] for n in names)


def defop(name: str, vjp: Rule | Sequence[Rule | None] | None = None,
          jvp: Rule | Sequence[Rule | None] | None = None,
          *, elementwise: bool = False, linear: bool = False,
          default_kernel: Callable[..., Any] | None = None, differentiable: bool = True,
          variadic: bool = False, same_dtype: bool = False, float_only: bool = False,
          real_only: bool = False, holomorphic: bool = True, doc: str = "") -> Op:
    """Declare (or redeclare) op ``name`` and return it.

    ``vjp`` and ``jvp`` are one rule (one input, or a variadic op) or a sequence with one
    rule per input. ``elementwise``/``linear`` generate the JVP (see the module docstring);
    with either, ``jvp`` is not given.
    """
    vjps = _rules(vjp)
    jvps = _rules(jvp)
    reads = tuple(None if v is None else rule_reads(v, len(vjps), variadic) for v in vjps)
    if (elementwise or linear) and jvps:
        raise ValueError(f"op {name!r}: elementwise/linear ops get their jvp generated; "
                         "do not give one")
    if elementwise:
        jvps = vjps
        if len(vjps) > 1:  # inputs broadcast together: sum each cotangent back to its input
            vjps = tuple(None if v is None else _unbroadcasting(v, i) for i, v in enumerate(vjps))
            # ... which also reads each input's shape.
            reads = tuple(None if r is None else r[:i + 1] + (max(r[i + 1], SHAPE),) + r[i + 2:]
                          for i, r in enumerate(reads))
    elif linear:
        jvps = tuple(None if v is None else _op_on_tangent(name, i, variadic)
                     for i, v in enumerate(vjps))
    op = Op(name, vjps, jvps, default_kernel, differentiable, variadic, same_dtype, float_only,
            real_only, holomorphic, doc, elementwise, reads)
    OPS[name] = op
    return op


def required_kernels() -> frozenset[str]:
    """Kernel names every backend must provide: ops without a default kernel, plus creation."""
    return frozenset(n for n, op in OPS.items() if op.default_kernel is None) | CREATION_KERNELS


# -- generated rules ---------------------------------------------------------------------------
def _rules(rule: Rule | Sequence[Rule | None] | None) -> tuple[Rule | None, ...]:
    if rule is None:
        return ()
    return (rule,) if callable(rule) else tuple(rule)


def unbroadcast(ns: Any, g: Any, shape: Any) -> Any:
    """Sum ``g`` over the axes NumPy broadcasting added or stretched, back to ``shape``."""
    gshape, shape = tuple(g.shape), tuple(shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and gshape[lead + i] != 1)
    if axes:
        g = ns.sum(g, axis=axes, keepdims=False)
    return g if tuple(g.shape) == shape else ns.reshape(g, shape)


def _unbroadcasting(rule: Rule, i: int) -> Rule:
    def vjp(ns: Any, g: Any, ans: Any, *xs: Any, **attrs: Any) -> Any:
        gi = rule(ns, g, ans, *xs, **attrs)
        shape = xs[i].shape
        return gi if gi.shape == shape else unbroadcast(ns, gi, shape)
    return vjp


def _op_on_tangent(name: str, i: int, variadic: bool) -> Rule:
    # The op is linear in input i: its JVP is the op with t in place of that input.
    def jvp(ns: Any, t: Any, ans: Any, *xs: Any, argnum: int = i, **attrs: Any) -> Any:
        k = argnum if variadic else i
        return ns.apply_op(name, *xs[:k], t, *xs[k + 1:], **attrs)
    return jvp


def _jvp_by_double_vjp(vjp: Rule) -> Rule:
    """The JVP of a rule that has only a VJP (e.g. ``custom_gradient``): the VJP is linear in
    its cotangent ``u``, so ``J t`` is the gradient of ``<vjp(u), t>`` with respect to ``u``.
    Forward mode runs it on tensors (``ns`` is :mod:`polytape.ops`)."""
    def jvp(ns: Any, t: Any, ans: Any, *xs: Any, **attrs: Any) -> Any:
        from .tape import GradientTape  # a cycle: tape -> dispatch -> optable

        u = ns.zeros_like(ans)
        with GradientTape() as tape:
            tape.watch(u)
            g = vjp(ns, u, ans, *xs, **attrs)
            if g is None:
                return None
            inner = ns.sum(g * t)
        return tape.gradient(inner, u, unconnected_gradients="zero")
    jvp.needs_tensors = True  # forward mode must run it on polytape tensors
    return jvp
