"""The hooks a polytape plugin can implement.

A plugin is a module or object with functions decorated by
``polytape.plugins.hookimpl``, published under the entry-point group
``polytape`` (or registered at run time with :func:`polytape.plugins.register`).
Hooks run once, when polytape first needs its registries, never per op
(``polytape_compile_plan`` runs once per ``pt.function`` trace).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("polytape")


@hookspec
def polytape_register_backends(registry):
    """Add backends to ``registry`` with ``registry.add(BackendInfo(...))``.

    ``BackendInfo.factory`` is called lazily, the first time the backend is used,
    so import heavy libraries inside it, not at module level::

        @hookimpl
        def polytape_register_backends(registry):
            registry.add(BackendInfo(name="mychip", factory=make_mychip_backend))

    Names are lowercase identifiers and unique across plugins. The factory returns a
    :class:`polytape.backends.Backend` whose ``kernels`` cover
    :func:`polytape.optable.required_kernels`, or the backend is rejected with the
    list of missing op names. The walk-through is ``docs/writing-a-backend.md``.
    """


@hookspec
def polytape_register_ops(registry):
    """Add ops, or kernels for existing ops on a given backend.

    ``registry.add_op(name, vjp=..., jvp=..., default_kernel=...)`` declares a new
    differentiable op; its default kernel (built from other kernels) lets every
    backend run it, and :func:`polytape.plugins.apply_op` calls it.
    ``registry.add_kernel(backend_name, op_name, fn)`` overrides one backend's
    kernel of an existing op (a fused or faster implementation). See
    ``examples/plugin_ops.py``.
    """


@hookspec
def polytape_conformance_cases(registry):
    """Add cases to the conformance suite with ``registry.add(case)``.

    Each case runs on every backend being certified; see
    :mod:`polytape.conformance` for the case format.
    """


@hookspec(firstresult=True)
def polytape_compile_plan(backend, plan):
    """Compile one ``pt.function`` trace whose ops all run on ``backend``; return the
    compiled replay, or None to leave it to another plugin or to the plain replay.

    ``plan`` is a :class:`polytape.function.Plan`: ``plan.steps`` (op calls, variable
    reads and writes, host steps and effects, in order; an array a write gives a variable
    must never be written into afterwards), ``plan.parameters``, ``plan.outputs``, ``plan.info``
    (each result's array type, dtype and shape when traced) and ``plan.last_use()``.
    The replay takes the parameters' arrays (variables themselves) and returns the
    output slots' arrays, as ``plan.compile()`` -- the plain replay -- does; a compiler
    usually calls ``plan.compile(rewrite=...)`` with its own kernels for some steps
    (``{step index: (function, input to reuse as out= or None)}``). The NumPy backend's
    (``polytape.backends.numpy.plan``) writes elementwise results into dead temporaries.
    Called once per trace, never per call; an exception falls back to the plain replay
    with a warning.
    """
