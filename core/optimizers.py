"""Optimizers with Keras 3's update rules: SGD, Adam, AdamW, Nadam, RMSprop, Adagrad.

Each optimizer's ``_update_step`` is the Keras 3 formula (same defaults: learning
rates, ``epsilon=1e-7``, bias correction, Nadam's momentum-cache schedule). The
state an optimizer keeps for a variable (its *slots*: momentum, velocity, ...)
is a non-trainable :class:`~polytape.Variable` on the same backend and device
as that variable, created the first time the variable is updated.

Updates run on the backend's kernels, not on recorded ops, so an update made
inside a ``GradientTape`` block is never recorded, and every update *replaces*
a variable's array rather than writing into it (a tape may still hold the old
array for its backward pass).

Inside a ``pt.function`` trace, ``apply_gradients`` checks its pairs, clips and
creates slots once, at trace time, and its update rule becomes kernel steps of the
plan (reads of each variable and its slots, the update's kernels, writes back); one
small effect step per call advances the step counter and the learning-rate schedule
and hands the plan that step's scalars (the learning rate, Adam's bias correction,
Nadam's momentum schedule), so a replay runs kernels and those few Python lines only.

An optimizer pickles with its state (slots and step count), so a compiled model
resumes training where it stopped; a learning rate given as a lambda cannot be
pickled (use a :class:`LearningRateSchedule` or a module-level function).

>>> import polytape as pt
>>> w = pt.Variable(1.0)
>>> opt = pt.optimizers.SGD(learning_rate=0.1)
>>> with pt.GradientTape() as tape:
...     loss = w * w
>>> _ = opt.apply_gradients([(tape.gradient(loss, w), w)])
>>> round(float(w), 6)      # 1 - 0.1 * 2
0.8
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import tracing
from .creation import constant
from .dtypes import float32, float64, int64
from .errors import (
    BackendMismatchError,
    DTypeError,
    InvalidArgumentError,
    NotProvidedError,
    ShapeError,
)
from .namespaces import kernel_namespace
from .tape import GradientTape
from .tensor import Tensor, Variable
from .traced_kernels import TracedKernels

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Nadam", "RMSprop", "Adagrad", "get",
           "LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay",
           "PiecewiseConstantDecay", "schedules"]


# -- learning-rate schedules ---------------------------------------------------------------------
class LearningRateSchedule:
    """A learning rate that depends on the optimizer's step (``iterations``, from 0).

    Subclasses implement ``__call__(step) -> float``. An optimizer evaluates its
    schedule once per ``apply_gradients`` call, before that step's update.
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as Keras gives them."""
        return {}


class _DecaySchedule(LearningRateSchedule):
    """What Keras' decay schedules share: a rate, a decay period, and an optional staircase."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None) -> None:
        if decay_steps <= 0:
            raise InvalidArgumentError(
                f"{type(self).__name__}: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)
        self.name = name or type(self).__name__

    def _periods(self, step: int) -> float:
        """Decay periods elapsed at ``step`` (whole periods with ``staircase``)."""
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecaySchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (Keras' ExponentialDecay).

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``, so the
    rate drops in steps.

    >>> import polytape as pt
    >>> s = pt.optimizers.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(s(20), 6)
    0.025
    """

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate * self.decay_rate ** self._periods(step)


class InverseTimeDecay(_DecaySchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (Keras' InverseTimeDecay)."""

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._periods(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]`` (Keras' PiecewiseConstantDecay).

    >>> import polytape as pt
    >>> s = pt.optimizers.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [s(0), s(10), s(11), s(21)]
    [1.0, 1.0, 0.5, 0.1]
    """

    def __init__(self, boundaries: list[int], values: list[float],
                 name: str = "PiecewiseConstant") -> None:
        if len(values) != len(boundaries) + 1:
            raise InvalidArgumentError(
                f"PiecewiseConstantDecay: needs one more value than boundaries, got "
                f"{len(boundaries)} boundaries and {len(values)} values")
        self.boundaries = list(boundaries)
        self.values = [float(v) for v in values]
        self.name = name

    def __call__(self, step: int) -> float:
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


schedules = SimpleNamespace(
    LearningRateSchedule=LearningRateSchedule, ExponentialDecay=ExponentialDecay,
    InverseTimeDecay=InverseTimeDecay, PiecewiseConstantDecay=PiecewiseConstantDecay)
schedules.__doc__ = "Keras' ``optimizers.schedules`` namespace: the learning-rate schedules."


# -- the base optimizer -------------------------------------------------------------------------
class Optimizer:
    """Base class: gradient checks, slots, clipping, weight decay, the step counter.

    Subclasses set their hyperparameters, list their slot names in
    :meth:`_slot_names`, give the scalars that change from step to step in
    :meth:`_coefficients` and implement :meth:`_update_step`, which computes the new
    values of a variable and its slots with ``ns`` (the variable's backend kernels
    eagerly, :class:`~polytape.traced_kernels.TracedKernels` inside a trace), and must
    therefore use nothing but ``ns``'s functions on its operands.

    Common arguments (Keras 3's): ``learning_rate`` (a float, a
    :class:`LearningRateSchedule`, or a callable with no arguments),
    ``weight_decay`` (decoupled: ``w -= w * weight_decay * lr`` before each update),
    ``clipnorm`` (clip each gradient's L2 norm), ``clipvalue`` (clip each entry),
    ``global_clipnorm`` (clip the norm of all gradients together); at most one of
    the three clipping options.
    """

    def __init__(self, learning_rate: Any, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if kwargs:
            # The error every unprovided argument raises (polytape.errors.NotProvidedError).
            hint = " (Keras 3 spells it `learning_rate`)" if "lr" in kwargs else ""
            raise NotProvidedError(f"polytape does not provide {type(self).__name__}("
                                   f"{', '.join(sorted(kwargs))}=...){hint}: argument(s) not "
                                   f"recognized: {kwargs}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise InvalidArgumentError(
                f"{type(self).__name__}: give at most one of clipnorm, clipvalue, global_clipnorm")
        self._check_learning_rate(learning_rate)
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.name = name or type(self).__name__.lower()
        self._iterations = 0
        # id(variable) -> (variable, {slot name: slot Variable}); the variable is kept so
        # that its id cannot be reused by another object while the optimizer lives.
        self._slots: dict[int, tuple[Variable, dict[str, Variable]]] = {}
        self._constants: dict[tuple, Any] = {}

    # -- hyperparameters ------------------------------------------------------------------------
    def _check_learning_rate(self, lr: Any) -> None:
        if isinstance(lr, LearningRateSchedule) or callable(lr):
            return
        try:
            value = float(lr)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"{type(self).__name__}: learning_rate must be a number, a "
                f"LearningRateSchedule or a callable, got {lr!r}") from None
        if not value >= 0:
            raise InvalidArgumentError(
                f"{type(self).__name__}: learning_rate must be >= 0, got {value}")

    def _current_learning_rate(self) -> float:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        return float(lr)

    @property
    def learning_rate(self) -> Tensor:
        """The learning rate the next step uses (a float32 scalar tensor); assignable."""
        return constant(self._current_learning_rate(), dtype=float32)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(self._learning_rate, LearningRateSchedule) and \
                not isinstance(value, LearningRateSchedule):
            raise TypeError("this optimizer was created with a LearningRateSchedule, so its "
                            "learning rate cannot be set to a number; create it with a float")
        self._check_learning_rate(value)
        self._learning_rate = value

    @property
    def iterations(self) -> Tensor:
        """How many updates were applied (an int64 scalar tensor, as in Keras)."""
        return constant(self._iterations, dtype=int64)

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self._iterations = int(value)

    @property
    def variables(self) -> list[Variable]:
        """The optimizer's state: every slot variable, in creation order."""
        return [s for _, slots in self._slots.values() for s in slots.values()]

    def get_slot(self, var: Variable, name: str) -> Variable:
        """The slot ``name`` (``"momentum"``, ``"velocity"``, ...) kept for ``var``."""
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var:
            raise InvalidArgumentError(f"{type(self).__name__} has no state for variable "
                                       f"{var.name!r} (it has not updated it yet)")
        if name not in entry[1]:
            raise InvalidArgumentError(f"{type(self).__name__} has no slot {name!r}; its "
                                       f"slots are {list(entry[1])}")
        return entry[1][name]

    def get_slot_names(self) -> list[str]:
        """The names of the slots this optimizer keeps per variable."""
        return list(self._slot_names())

    # -- what subclasses provide --------------------------------------------------------------
    def _slot_names(self) -> tuple[str, ...]:
        return ()

    def _slot_initial_value(self, name: str) -> float:
        return 0.0

    _n_coefficients = 1  # how many scalars _coefficients gives

    def _coefficients(self, lr: float, step: int) -> tuple[float, ...]:
        """The scalars step ``step`` (from 1) updates every variable with, learning rate
        ``lr`` (as many as ``_n_coefficients`` says): called once per ``apply_gradients``
        call, after :meth:`_before_updates`."""
        return (lr,)

    def _update_step(self, ns: Any, g: Any, var: Variable, w: Any, slots: dict[str, Any],
                     k: tuple[Any, ...]) -> tuple[Any, dict[str, Any]]:
        """``(new value of var, {slot name: new value})`` from gradient ``g``, the variable's
        value ``w`` and its slots' values ``slots``, computed with ``ns`` only; ``k`` are
        :meth:`_coefficients` (as Python floats eagerly, as 0-d tensors inside a trace) and
        ``var`` is for :meth:`_const` only."""
        raise NotImplementedError

    def _before_updates(self, step: int) -> None:
        """Per-call state updates that precede the per-variable ones (Nadam's schedule)."""

    def _advance(self) -> tuple[float, ...]:
        """Count one step and give its scalars: ``weight_decay * lr`` first when there is a
        weight decay, then :meth:`_coefficients`."""
        lr = self._current_learning_rate()
        step = self._iterations + 1
        self._before_updates(step)
        k = self._coefficients(lr, step)
        self._iterations = step
        return (self.weight_decay * lr, *k) if self.weight_decay else k

    # -- applying gradients ------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> Any:
        """Update each variable from its gradient; returns the number of updates so far.

        ``grads_and_vars`` is an iterable of ``(gradient, variable)`` pairs, as
        ``zip(grads, model.trainable_variables)`` gives. A ``None`` gradient skips
        its variable with a warning naming it (as Keras does); all ``None`` is an
        error. Every pair is checked (shape, backend, dtype) before any variable
        changes, so a bad pair leaves all variables and all state as they were.

        Inside a ``pt.function`` trace the update becomes kernel steps of the plan (see the
        module's docstring) and the count is returned as an int64 scalar tensor.
        """
        trace = tracing.current() if tracing.active else None
        if trace is not None:
            return self._apply_traced(trace, list(grads_and_vars))
        checked = self._checked_pairs(grads_and_vars, None)
        variables = [v for _, v in checked]
        arrays = self._clip([g for g, _ in checked], variables)
        slots = [self._slots_of(var) for var in variables]
        coefficients = self._advance()
        decay = bool(self.weight_decay)
        k = coefficients[1:] if decay else coefficients
        for g, var, var_slots in zip(arrays, variables, slots):
            ns = kernel_namespace(var._backend)
            w = var._data
            if decay:
                w = ns.subtract(w, ns.multiply(w, coefficients[0]))
            # Arrays, not Variable.assign: the kernels keep dtype and shape, and assignment
            # replaces the arrays (a tape may hold the old ones), never writes into them.
            w, new_slots = self._update_step(ns, g, var, w,
                                             {n: s._data for n, s in var_slots.items()}, k)
            for name, value in new_slots.items():
                var_slots[name]._data = value
            var._data = w
        return self._iterations

    def _checked_pairs(self, grads_and_vars: Iterable[Any], ns_of: Any) -> list[tuple[Any, Variable]]:
        """The pairs with a gradient, as ``(gradient value, variable)``, after every check
        (``ns_of``: a traced namespace per backend inside a trace, else None)."""
        checked: list[tuple[Any, Variable]] = []
        missing: list[str] = []
        for pair in grads_and_vars:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise InvalidArgumentError(
                    f"apply_gradients expects (gradient, variable) pairs, got {pair!r}")
            g, var = pair
            if not isinstance(var, Variable):
                raise InvalidArgumentError(
                    f"apply_gradients: the second item of each pair must be a pt.Variable, got "
                    f"{type(var).__name__}")
            if g is None:
                missing.append(var.name)
                continue
            checked.append((self._gradient_array(g, var, ns_of), var))
        if not checked:
            names = ", ".join(repr(n) for n in missing)
            raise InvalidArgumentError(
                f"No gradients provided for any variable ({names}): every gradient is None. "
                "Check that the loss depends on the variables and was computed inside the tape")
        seen: set[int] = set()
        for _, var in checked:
            if id(var) in seen:
                raise InvalidArgumentError(
                    f"apply_gradients: variable {var.name!r} appears in more than one pair")
            seen.add(id(var))
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing "
                          "the loss; they were not updated. If using `model.compile()`, did "
                          "you forget to provide a `loss` argument?", UserWarning, stacklevel=3)
        return checked

    # -- inside a pt.function trace ------------------------------------------------------------
    def _apply_traced(self, trace: Any, pairs: list[Any]) -> Tensor:
        """``apply_gradients`` while ``trace`` runs: checks, clipping decisions and slots now;
        the update as kernel steps; the step's scalars from one host step per call."""
        namespaces: dict[int, TracedKernels] = {}

        def ns_of(be: Any) -> TracedKernels:
            ns = namespaces.get(id(be))
            if ns is None:
                ns = namespaces[id(be)] = TracedKernels(trace, be)
            return ns

        checked = self._checked_pairs(pairs, ns_of)
        variables = [v for _, v in checked]
        if self.global_clipnorm and len({id(v._backend) for v in variables}) > 1:
            # One norm over arrays of several backends: not a plan of one backend's kernels.
            return trace.effect(Optimizer._apply_untraced, (self, pairs), {})
        grads = self._clip_traced(ns_of, [g for g, _ in checked], variables)
        slots = [self._slots_of(var) for var in variables]
        # The step's scalars, once per distinct (backend, dtype, device) of the variables:
        # a host step, so that the counter and the schedule advance on every replay.
        kinds: dict[tuple, int] = {}
        groups: list[tuple] = []
        for var in variables:
            key = (var._backend, var.dtype, var.device)
            if key not in kinds:
                kinds[key] = len(groups)
                groups.append(key)
        host = _StepScalars(self, groups)
        scalars = trace.host(host, host.backends)
        count, scalars = scalars[0], scalars[1:]
        width = len(scalars) // len(groups)
        decay = bool(self.weight_decay)
        for g, var, var_slots in zip(grads, variables, slots):
            ns = ns_of(var._backend)
            group = kinds[(var._backend, var.dtype, var.device)]
            k = tuple(scalars[group * width:(group + 1) * width])
            w: Any = var
            if decay:
                w = ns.subtract(w, ns.multiply(w, k[0]))
                k = k[1:]
            w, new_slots = self._update_step(ns, g, var, w, dict(var_slots), k)
            for name, value in new_slots.items():
                trace.write(var_slots[name], value)
            trace.write(var, w)
        return count

    def _apply_untraced(self, pairs: list[Any]) -> int:
        """``apply_gradients`` run eagerly (an effect step of a plan, called on each replay)."""
        return Optimizer.apply_gradients(self, pairs)

    def _clipped_values(self, ns_of: Any, grads: list[Any], variables: list[Variable]) -> list[Any]:
        """Each gradient clipped to [-clipvalue, clipvalue], in the namespace ``ns_of`` gives
        for its variable's backend (kernels eagerly, traced kernels in a trace)."""
        c = self.clipvalue
        out = []
        for g, v in zip(grads, variables):
            ns = ns_of(v._backend)
            out.append(ns.minimum(ns.maximum(g, -c), c))
        return out

    def _clip_traced(self, ns_of: Any, grads: list[Any], variables: list[Variable]) -> list[Any]:
        """:meth:`_clip` as traced kernels: the norms in float64, as the eager path's Python
        floats, and the scale applied only where the norm exceeds the limit."""
        if self.clipvalue is not None and self.clipvalue > 0:
            return self._clipped_values(ns_of, grads, variables)
        if self.clipnorm is not None and self.clipnorm > 0:
            return [self._scaled_traced(ns_of(v._backend), g, v, self.clipnorm,
                                        self._norm_traced(ns_of(v._backend), g, v))
                    for g, v in zip(grads, variables)]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            ns = ns_of(variables[0]._backend)
            total = None
            for g, v in zip(grads, variables):
                norm = self._norm_traced(ns, g, v)
                square = ns.multiply(norm, norm)
                total = square if total is None else ns.add(total, square)
            total = ns.sqrt(total)
            return [self._scaled_traced(ns, g, v, self.global_clipnorm, total)
                    for g, v in zip(grads, variables)]
        return grads

    @staticmethod
    def _wide(var: Variable) -> Any:
        """The native dtype the traced norms are computed in (float64 where there is one)."""
        be = var._backend
        return be.native_dtypes.get(float64, var._data.dtype)

    def _norm_traced(self, ns: Any, g: Any, var: Variable) -> Any:
        s = ns.sum(ns.square(g), axis=None, keepdims=False)
        return ns.sqrt(ns.astype(s, dtype=self._wide(var)))

    def _scaled_traced(self, ns: Any, g: Any, var: Variable, limit: float, norm: Any) -> Any:
        # limit / max(norm, limit): exactly 1 where the eager path leaves g alone, the eager
        # path's limit / norm elsewhere, and no division by a zero norm.
        scale = ns.divide(limit, ns.maximum(norm, limit))
        return ns.multiply(g, ns.astype(scale, dtype=var._data.dtype))

    def minimize(self, loss: Any, var_list: Any, tape: Any = None) -> int:
        """Compute the gradients of ``loss`` for ``var_list`` and apply them.

        ``loss`` is a callable with no arguments returning the loss (evaluated
        under a fresh tape), or a tensor computed under ``tape``. ``var_list`` is
        a list of variables or a callable returning one. Returns the number of
        updates so far (an int, as :meth:`apply_gradients` does).

        >>> import polytape as pt
        >>> v = pt.Variable(10.0)
        >>> _ = pt.optimizers.SGD(learning_rate=0.1).minimize(lambda: v * v / 2.0, [v])
        >>> round(float(v), 5)
        9.0
        """
        if tape is None:
            if not callable(loss):
                raise InvalidArgumentError(
                    "minimize: a tensor loss needs the tape that recorded it (tape=...); "
                    "or pass a callable that computes the loss")
            with GradientTape() as tape:
                if not callable(var_list):
                    tape.watch(list(var_list))
                loss_value = loss()
        else:
            loss_value = loss() if callable(loss) else loss
        variables = list(var_list() if callable(var_list) else var_list)
        grads = tape.gradient(loss_value, variables)
        return self.apply_gradients(zip(grads, variables))

    # -- internals ---------------------------------------------------------------------------------
    def _gradient_array(self, g: Any, var: Variable, ns_of: Any = None) -> Any:
        if not var.dtype.is_floating:
            raise DTypeError(f"{type(self).__name__} can only update floating-point variables; "
                             f"{var.name!r} is {var.dtype}")
        if isinstance(g, Tensor):
            if g._backend is not var._backend:
                raise BackendMismatchError(
                    f"apply_gradients: the gradient of {var.name!r} lives on backend "
                    f"{g.backend!r}, the variable on {var.backend!r}; move it with "
                    f"pt.to_backend(grad, {var.backend!r})")
            if not g.dtype.is_floating:
                raise DTypeError(f"apply_gradients: the gradient of {var.name!r} is {g.dtype}; "
                                 "gradients must be floating point")
            if tuple(g._data.shape) != tuple(var._data.shape):
                raise ShapeError(f"apply_gradients: the gradient of {var.name!r} has shape "
                                 f"{tuple(g._data.shape)}, the variable {var.shape}")
            if ns_of is not None:  # inside a trace: the gradient stays the traced tensor
                if g._data.dtype != var._data.dtype:
                    g = ns_of(var._backend).astype(g, dtype=var._data.dtype)
                return g
            arr = g._data
            if arr.dtype != var._data.dtype:
                arr = var._backend.kernels["astype"](arr, var._data.dtype)
            return arr
        t = constant(g, dtype=var.dtype, backend=var._backend)
        if tuple(t._data.shape) != tuple(var._data.shape):
            raise ShapeError(f"apply_gradients: the gradient of {var.name!r} has shape "
                             f"{tuple(t._data.shape)}, the variable {var.shape}")
        return t if ns_of is not None else t._data

    def _clip(self, grads: list[Any], variables: list[Variable]) -> list[Any]:
        if self.clipnorm is not None and self.clipnorm > 0:
            return [self._scaled(g, v, self.clipnorm, self._norm(g, v)) for g, v in zip(grads, variables)]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            total = math.sqrt(sum(self._norm(g, v) ** 2 for g, v in zip(grads, variables)))
            return [self._scaled(g, v, self.global_clipnorm, total) for g, v in zip(grads, variables)]
        if self.clipvalue is not None and self.clipvalue > 0:
            return self._clipped_values(kernel_namespace, grads, variables)
        return grads

    @staticmethod
    def _norm(g: Any, var: Variable) -> float:
        ns = kernel_namespace(var._backend)
        s = ns.sum(ns.square(g), axis=None, keepdims=False)
        return math.sqrt(float(var._backend.to_numpy(s)))

    @staticmethod
    def _scaled(g: Any, var: Variable, limit: float, norm: float) -> Any:
        if norm <= limit:
            return g
        return kernel_namespace(var._backend).multiply(g, limit / norm)

    def _slots_of(self, var: Variable) -> dict[str, Variable]:
        entry = self._slots.get(id(var))
        if entry is not None and entry[0] is var:
            return entry[1]
        slots = {}
        for name in self._slot_names():
            # Made on the host and moved, so the slot lands on the variable's device too.
            init = constant(np.full(var.shape, self._slot_initial_value(name)), dtype=var.dtype,
                            backend=var._backend, device=var.device)
            slots[name] = Variable(init, trainable=False, name=f"{var.name}/{name}")
        self._slots[id(var)] = (var, slots)
        return slots

    def _const(self, var: Variable, value: float) -> Any:
        """``value`` as a native scalar of ``var``'s dtype and device, made once.

        Hyperparameters (``1 - beta_1``, ``epsilon``, ...) are reused every step;
        converting a Python number costs more than the arithmetic on some backends.
        """
        key = (id(var._backend), var._data.dtype, var.device, value)
        arr = self._constants.get(key)
        if arr is None:
            arr = self._constants[key] = var._backend.asarray(value, var.dtype, var.device)
        return arr

    def get_config(self) -> dict[str, Any]:
        """The hyperparameters, as a dict (Keras' ``get_config``)."""
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr if not isinstance(lr, (int, float)) else float(lr),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    def __repr__(self) -> str:
        return f"<polytape.optimizers.{type(self).__name__} {self.name!r} iterations={self._iterations}>"

    # -- pickling ------------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # Slots are keyed by id(variable), which unpickling changes; the constants are a cache of
        # native arrays keyed by the backend object's id, so they are made again when needed.
        state["_slots"] = list(self._slots.values())
        state["_constants"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["_slots"] = {id(var): (var, slots) for var, slots in state["_slots"]}
        self.__dict__.update(state)


class _StepScalars:
    """What a traced ``apply_gradients`` runs on every call (a host step of the plan):
    advance the optimizer one step and give its count (int64), then the step's scalars
    (:meth:`Optimizer._advance`) as 0-d arrays of each group's ``(backend, dtype, device)``,
    rounded from Python floats as the eager namespace rounds them."""

    def __init__(self, optimizer: Optimizer, groups: list[tuple]) -> None:
        self.optimizer = optimizer
        self.groups = [(be, dtype, device, be.kernels["getitem"]) for be, dtype, device in groups]
        n = optimizer._n_coefficients + bool(optimizer.weight_decay)
        be0, _, device0 = groups[0]
        self.count = (be0, device0)
        self.backends = [be0] + [be for be, _, _ in groups for _ in range(n)]
        self.indices = range(n)

    def __call__(self) -> list[Any]:
        opt = self.optimizer
        n = len(self.indices)
        k = opt._advance() if opt._n_coefficients + bool(opt.weight_decay) == n else ()
        if len(k) != n:
            raise InvalidArgumentError(
                f"{type(opt).__name__}: this pt.function traced a step with {len(self.indices)} "
                f"per-step scalars and the optimizer now gives {len(k)}: weight_decay was "
                "switched on or off after tracing (trace again with a new pt.function), or a "
                "subclass's _coefficients disagrees with its _n_coefficients")
        be0, device0 = self.count
        out = [be0.asarray(opt._iterations, int64, device0)]
        for be, dtype, device, getitem in self.groups:
            # One conversion for all of them: a 1-d array, then its 0-d elements.
            arr = be.asarray(k, dtype, device)
            out.extend(getitem(arr, index=i) for i in self.indices)
        return out


# -- the optimizers ---------------------------------------------------------------------------
class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum; Keras 3's rule and defaults.

    Without momentum: ``w -= lr * g``. With momentum ``mu``:
    ``m = mu * m - lr * g``, then ``w += m`` (or ``w += mu * m - lr * g`` with
    ``nesterov=True``). Defaults: ``learning_rate=0.01``, ``momentum=0.0``.
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) \
                or not 0.0 <= momentum <= 1.0:
            raise InvalidArgumentError(f"SGD: momentum must be a float in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0 else ()

    def _update_step(self, ns, g, var, w, slots, k):
        (lr,) = k
        if self.momentum == 0:
            return ns.subtract(w, ns.multiply(g, lr)), {}
        mu = self._const(var, self.momentum)
        lr_g = ns.multiply(g, lr)
        new_m = ns.subtract(ns.multiply(slots["momentum"], mu), lr_g)
        if self.nesterov:
            delta = ns.subtract(ns.multiply(new_m, mu), lr_g)
        else:
            delta = new_m
        return ns.add(w, delta), {"momentum": new_m}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba) with Keras 3's rule and defaults; ``amsgrad=True`` for AMSGrad.

    ``m += (g - m) * (1 - beta_1)``, ``v += (g**2 - v) * (1 - beta_2)``,
    ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
    ``w -= alpha * m / (sqrt(v) + epsilon)`` (with AMSGrad, ``v`` is the running max).
    Defaults: ``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``, ``epsilon=1e-7``.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def _coefficients(self, lr, step):
        return (lr * math.sqrt(1.0 - self.beta_2 ** step) / (1.0 - self.beta_1 ** step),)

    def _update_step(self, ns, g, var, w, slots, k):
        (alpha,) = k
        m, v = slots["momentum"], slots["velocity"]
        new_m = ns.add(m, ns.multiply(ns.subtract(g, m), self._const(var, 1.0 - self.beta_1)))
        new_v = ns.add(v, ns.multiply(ns.subtract(ns.square(g), v),
                                      self._const(var, 1.0 - self.beta_2)))
        new = {"momentum": new_m, "velocity": new_v}
        if self.amsgrad:
            new_v = new["velocity_hat"] = ns.maximum(slots["velocity_hat"], new_v)
        update = ns.divide(ns.multiply(new_m, alpha),
                           ns.add(ns.sqrt(new_v), self._const(var, self.epsilon)))
        return ns.subtract(w, update), new

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3's AdamW; ``weight_decay=0.004`` by default)."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any) -> None:
        if weight_decay is None:
            raise InvalidArgumentError("AdamW: weight_decay must be a float, not None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2015), with Keras 3's momentum-cache schedule.

    Per step ``t``: ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``; a running product
    ``u_product`` of the ``u`` values is advanced once per ``apply_gradients``
    call; then per variable ``m`` and ``v`` update as in Adam and
    ``m_hat = u_{t+1} m / (1 - u_product * u_{t+1}) + (1 - u_t) g / (1 - u_product)``,
    ``v_hat = v / (1 - beta_2**t)``, ``w -= lr * m_hat / (sqrt(v_hat) + epsilon)``.
    Defaults: ``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``, ``epsilon=1e-7``.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self._u_product = 1.0

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def _u(self, step: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** step)

    def _before_updates(self, step: int) -> None:
        self._u_product *= self._u(step)

    _n_coefficients = 3

    def _coefficients(self, lr, step):
        # lr * m_hat's two step-dependent coefficients (lr folded in), and v_hat's divisor;
        # _before_updates has advanced u_product to this step's.
        u_t, u_next = self._u(step), self._u(step + 1)
        u_product = self._u_product
        return (lr * u_next / (1.0 - u_product * u_next), lr * (1.0 - u_t) / (1.0 - u_product),
                1.0 - self.beta_2 ** step)

    def _update_step(self, ns, g, var, w, slots, k):
        m_coefficient, g_coefficient, v_divisor = k
        m, v = slots["momentum"], slots["velocity"]
        new_m = ns.add(m, ns.multiply(ns.subtract(g, m), self._const(var, 1.0 - self.beta_1)))
        new_v = ns.add(v, ns.multiply(ns.subtract(ns.square(g), v),
                                      self._const(var, 1.0 - self.beta_2)))
        lr_m_hat = ns.add(ns.multiply(new_m, m_coefficient), ns.multiply(g, g_coefficient))
        v_hat = ns.divide(new_v, v_divisor)
        update = ns.divide(lr_m_hat, ns.add(ns.sqrt(v_hat), self._const(var, self.epsilon)))
        return ns.subtract(w, update), {"momentum": new_m, "velocity": new_v}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop with Keras 3's rule and defaults (plain momentum, optional centering).

    ``v = rho * v + (1 - rho) * g**2``; centered: ``a = rho * a + (1 - rho) * g`` and
    the denominator is ``sqrt(v - a**2 + epsilon)``, else ``sqrt(v + epsilon)``;
    ``inc = lr * g / denominator``; with momentum ``mu``: ``p = mu * p + inc``,
    ``w -= p``, else ``w -= inc``. Defaults: ``learning_rate=0.001``, ``rho=0.9``,
    ``momentum=0.0``, ``epsilon=1e-7``, ``centered=False``.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def _slot_names(self) -> tuple[str, ...]:
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return tuple(names)

    def _update_step(self, ns, g, var, w, slots, k):
        (lr,) = k
        rho, one_minus_rho = self._const(var, self.rho), self._const(var, 1.0 - self.rho)
        eps = self._const(var, self.epsilon)
        new_v = ns.add(ns.multiply(slots["velocity"], rho), ns.multiply(ns.square(g), one_minus_rho))
        new = {"velocity": new_v}
        if self.centered:
            new_a = ns.add(ns.multiply(slots["average_gradient"], rho), ns.multiply(g, one_minus_rho))
            new["average_gradient"] = new_a
            denominator = ns.add(ns.subtract(new_v, ns.square(new_a)), eps)
        else:
            denominator = ns.add(new_v, eps)
        increment = ns.divide(ns.multiply(g, lr), ns.sqrt(denominator))
        if self.momentum > 0:
            increment = new["momentum"] = ns.add(
                ns.multiply(slots["momentum"], self._const(var, self.momentum)), increment)
        return ns.subtract(w, increment), new

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad with Keras 3's rule and defaults.

    ``acc += g**2``, ``w -= lr * g / sqrt(acc + epsilon)``. Defaults:
    ``learning_rate=0.001``, ``initial_accumulator_value=0.1``, ``epsilon=1e-7``.
    """

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        if initial_accumulator_value < 0:
            raise InvalidArgumentError(f"Adagrad: initial_accumulator_value must be >= 0, got "
                                       f"{initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def _slot_initial_value(self, name: str) -> float:
        return self.initial_accumulator_value

    def _update_step(self, ns, g, var, w, slots, k):
        (lr,) = k
        new_acc = ns.add(slots["accumulator"], ns.square(g))
        update = ns.divide(ns.multiply(g, lr), ns.sqrt(ns.add(new_acc, self._const(var, self.epsilon))))
        return ns.subtract(w, update), {"accumulator": new_acc}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_BY_NAME: dict[str, Callable[[], Optimizer]] = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "nadam": Nadam, "rmsprop": RMSprop,
    "adagrad": Adagrad,
}


def get(identifier: str | Optimizer) -> Optimizer:
    """An optimizer from a name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"nadam"``,
    ``"rmsprop"``, ``"adagrad"``; with default hyperparameters) or the instance itself.

    >>> import polytape as pt
    >>> type(pt.optimizers.get("adam")).__name__
    'Adam'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is not None:
            return cls()
    raise InvalidArgumentError(f"unknown optimizer {identifier!r}; polytape has "
                               f"{sorted(_BY_NAME)} or an Optimizer instance")
