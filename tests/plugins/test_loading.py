"""Plugin loading (docs/architecture.md, "Plugins"): every entry point loads in isolation.

Each broken plugin is installed as a real entry point (a dist-info on the path of a
fresh interpreter) and must cost exactly one warning naming it and the reason,
while ``import polytape``, the NumPy backend and every healthy plugin keep working.
"""

from __future__ import annotations

import math

import pytest

import polytape as pt
from polytape.backends.numpy.backend import NumpyBackend
from polytape.plugins import BackendInfo, hookimpl
from polytape.plugins.manager import get_plugin_system, hook_problems

# A healthy third-party backend: the NumPy kernels under another name (a test double
# standing in for a real library; it exercises only the plugin machinery).
TWIN = '''
from polytape.backends.numpy.backend import NumpyBackend
from polytape.plugins import BackendInfo, hookimpl

class TwinBackend(NumpyBackend):
    name = "twin"

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="twin", factory=TwinBackend))
'''

RAISES_ON_IMPORT = '''
raise ImportError("libmychip.so: cannot open shared object file")
'''

PASSES_A_DICT = '''
from polytape.plugins import hookimpl

@hookimpl
def polytape_register_backends(registry):
    registry.add({"name": "dicty", "factory": object})
'''

UPPERCASE_NAME = '''
from polytape.plugins import BackendInfo, hookimpl

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="MyChip", factory=lambda: None))
'''

FAILS_HALFWAY = '''
from polytape.backends.numpy.backend import NumpyBackend
from polytape.plugins import BackendInfo, hookimpl

class Early(NumpyBackend):
    name = "halfway_ok"

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="halfway_ok", factory=Early))
    raise RuntimeError("second backend's driver is missing")
'''

MISSING_KERNELS = '''
from polytape.backends.numpy.backend import NumpyBackend
from polytape.plugins import BackendInfo, hookimpl

class Holey(NumpyBackend):
    name = "holey"
    def __init__(self):
        super().__init__()
        self.kernels = {k: f for k, f in self.kernels.items() if k not in ("sin", "matmul")}

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="holey", factory=Holey))
'''

DECLARES_MISSING_KERNELS = '''
from polytape.optable import required_kernels
from polytape.plugins import BackendInfo, hookimpl

def factory():
    raise AssertionError("the factory of a rejected backend must never run")

@hookimpl
def polytape_register_backends(registry):
    names = required_kernels() - {"cos", "exp"}
    registry.add(BackendInfo(name="declared", factory=factory, kernels=names))
'''

DUPLICATE_OF_TWIN = '''
from polytape.backends.numpy.backend import NumpyBackend
from polytape.plugins import BackendInfo, hookimpl

class Other(NumpyBackend):
    name = "twin"

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="twin", factory=Other))
'''

TYPO_HOOK = '''
from polytape.backends.numpy.backend import NumpyBackend
from polytape.plugins import BackendInfo, hookimpl

@hookimpl
def polytape_register_backend(registry):
    registry.add(BackendInfo(name="typo", factory=NumpyBackend))
'''

FACTORY_RAISES = '''
from polytape.plugins import BackendInfo, hookimpl

def factory():
    raise RuntimeError("driver crashed")

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="crashy", factory=factory))
'''

NOT_A_BACKEND = '''
from polytape.plugins import BackendInfo, hookimpl

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="notbe", factory=object))
'''

UNAVAILABLE_LIBRARY = '''
from polytape.plugins import BackendInfo, hookimpl

def factory():
    import polytape_no_such_library  # noqa: F401

@hookimpl
def polytape_register_backends(registry):
    registry.add(BackendInfo(name="absent", factory=factory))
'''

BROKEN = {  # plugin (entry-point) name -> (module source, words its warning must contain)
    "raiser": (RAISES_ON_IMPORT, ["could not be imported", "ImportError", "libmychip.so"]),
    "dicty": (PASSES_A_DICT, ["registry.add", "expected polytape.plugins.BackendInfo"]),
    "upper": (UPPERCASE_NAME, ["'MyChip'", "lowercase"]),
    "halfway": (FAILS_HALFWAY, ["polytape_register_backends failed", "driver is missing"]),
    "holey": (MISSING_KERNELS, ["'holey' is rejected", "missing kernels for required ops: matmul, sin"]),
    "declared": (DECLARES_MISSING_KERNELS, ["'declared' is rejected",
                                            "missing kernels for required ops: cos, exp"]),
    "typo": (TYPO_HOOK, ["'polytape_register_backend' that is not a polytape hook",
                         "did you mean polytape_register_backends"]),
    "crashy": (FACTORY_RAISES, ["'crashy' is rejected", "RuntimeError: driver crashed"]),
    "notbe": (NOT_A_BACKEND, ["'notbe' is rejected", "not a subclass of polytape.backends.Backend"]),
}

CHECK_EVERYTHING_WORKS = '''
system = pt.plugins.get_plugin_system() if hasattr(pt, "plugins") else None
import polytape.plugins
system = polytape.plugins.get_plugin_system()
report["backends"] = {s.name: [s.available, s.reason, s.plugin] for s in pt.list_backends()}
for name in ("numpy", "twin"):
    with pt.use_backend(name):
        x = pt.Variable([0.5, 2.0])
        with pt.GradientTape() as tape:
            y = pt.sum(pt.sin(x) * x)
        report["grad_" + name] = tape.gradient(y, x).numpy().tolist()
        report["backend_" + name] = y.backend
system.pm.check_pending()
report["check_pending"] = "ok"
report["failures"] = sorted(system.failures)
report["plugins"] = sorted(n for n, p in system.pm.list_name_plugin() if p is not None)  # None: blocked
'''


def _sin_x_grad(values: list[float]) -> list[float]:
    return [math.sin(v) + v * math.cos(v) for v in values]


def test_each_broken_plugin_costs_one_warning_and_nothing_else(install, run_polytape):
    install("polytape-twin", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    for name, (source, _) in BROKEN.items():
        install(f"polytape-{name}", {name: f"{name}_plugin"}, {f"{name}_plugin": source}, "0.3")
    install("polytape-absent", {"absent": "absent_plugin"}, {"absent_plugin": UNAVAILABLE_LIBRARY})

    r = run_polytape(CHECK_EVERYTHING_WORKS)

    expected = _sin_x_grad([0.5, 2.0])
    assert r["grad_numpy"] == pytest.approx(expected, rel=1e-6)
    assert r["grad_twin"] == pytest.approx(expected, rel=1e-6)
    assert r["backend_twin"] == "twin"
    for name, (_, words) in BROKEN.items():
        mine = [w for w in r["warnings"] if f"polytape plugin {name!r}" in w]
        assert len(mine) == 1, (name, r["warnings"])
        for word in words:
            assert word in mine[0], (name, word, mine[0])
        assert f"polytape-{name} 0.3" in mine[0] or name in ("holey", "crashy", "notbe"), mine[0]
    assert len(r["warnings"]) == len(BROKEN), r["warnings"]
    # Plugins that failed while loading are gone, with everything they had added.
    for gone in ("dicty", "MyChip", "halfway_ok", "declared", "typo"):
        assert gone not in r["backends"]
    for name in ("raiser", "dicty", "upper", "halfway", "declared", "typo"):
        assert name not in r["plugins"]
    # Backends that fail when built stay listed, unavailable, with the reason.
    assert r["backends"]["holey"][0] is False
    assert "missing kernels for required ops: matmul, sin" in r["backends"]["holey"][1]
    assert r["backends"]["crashy"][:1] == [False] and "driver crashed" in r["backends"]["crashy"][1]
    assert r["backends"]["absent"][0] is False
    assert "polytape_no_such_library" in r["backends"]["absent"][1]
    assert r["backends"]["twin"] == [True, "", "twin"]
    assert r["check_pending"] == "ok"


def test_a_duplicate_backend_name_names_both_plugins(install, run_polytape):
    install("polytape-twin", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    install("polytape-dup", {"dup": "dup_plugin"}, {"dup_plugin": DUPLICATE_OF_TWIN})
    r = run_polytape('''
        report["twin"] = [s.plugin for s in pt.list_backends() if s.name == "twin"]
    ''')
    assert len(r["warnings"]) == 1, r["warnings"]
    message = r["warnings"][0]
    assert "backend 'twin' is registered twice" in message
    assert "plugin 'twin'" in message and "plugin 'dup'" in message
    assert "POLYTAPE_DISABLE_PLUGINS=" in message
    assert len(r["twin"]) == 1 and r["twin"][0] in ("twin", "dup")


def test_a_plugin_cannot_take_a_built_in_backend_name(install, run_polytape):
    install("polytape-fake-numpy", {"fakenp": "fakenp_plugin"},
            {"fakenp_plugin": DUPLICATE_OF_TWIN.replace('"twin"', '"numpy"')})
    r = run_polytape('''
        report["numpy_plugin"] = [s.plugin for s in pt.list_backends() if s.name == "numpy"]
    ''')
    assert r["numpy_plugin"] == ["numpy"]
    assert len(r["warnings"]) == 1
    assert "'numpy' is registered twice" in r["warnings"][0] and "'fakenp'" in r["warnings"][0]


def test_disabled_plugins_are_never_imported(install, run_polytape):
    install("polytape-twin", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    install("polytape-raiser", {"raiser": "raiser_plugin"}, {"raiser_plugin": RAISES_ON_IMPORT})
    r = run_polytape('''
        import sys, polytape.plugins
        system = polytape.plugins.get_plugin_system()
        report["backends"] = [s.name for s in pt.list_backends()]
        report["disabled"] = sorted(system.disabled)
        report["imported"] = "raiser_plugin" in sys.modules
        # Blocking is pluggy's: every listed name is blocked, installed or not.
        report["blocked"] = {n: system.pm.is_blocked(n) for n in ("raiser", "numpy", "nothing", "twin")}
    ''', POLYTAPE_DISABLE_PLUGINS=" raiser , numpy,torch,cupy,nothing")
    assert r["warnings"] == []
    assert r["imported"] is False
    assert {"numpy", "raiser"} <= set(r["disabled"]) and "nothing" not in r["disabled"]
    assert r["blocked"] == {"raiser": True, "numpy": True, "nothing": True, "twin": False}
    assert "numpy" not in r["backends"] and "twin" in r["backends"]


def test_a_blocked_name_cannot_be_registered_at_run_time(run_polytape):
    r = run_polytape('''
        import polytape.plugins
        from polytape.plugins import hookimpl

        class Plugin:
            @hookimpl
            def polytape_register_backends(self, registry):
                raise AssertionError("a blocked plugin's hooks never run")

        try:
            polytape.plugins.register(Plugin(), name="blocked_one")
        except pt.PluginError as exc:
            report["error"] = str(exc)
        report["registered"] = polytape.plugins.get_plugin_system().pm.get_plugin("blocked_one") is not None
    ''', POLYTAPE_DISABLE_PLUGINS="torch,cupy,blocked_one")
    assert r["error"] == "plugin 'blocked_one' is disabled by POLYTAPE_DISABLE_PLUGINS"
    assert r["registered"] is False


def test_strict_mode_turns_a_broken_plugin_into_an_error(install, run_polytape):
    install("polytape-raiser", {"raiser": "raiser_plugin"}, {"raiser_plugin": RAISES_ON_IMPORT})
    r = run_polytape('''
        report["imported"] = True          # import polytape itself never loads plugins
        try:
            pt.constant(1.0)
        except pt.PluginError as exc:
            report["error"] = str(exc)
    ''', POLYTAPE_STRICT_PLUGINS="1")
    assert r["imported"] is True
    assert "polytape plugin 'raiser'" in r["error"] and "libmychip.so" in r["error"]
    assert r["warnings"] == []


def test_strict_mode_rejects_a_backend_missing_kernels_when_it_is_built(install, run_polytape):
    install("polytape-holey", {"holey": "holey_plugin"}, {"holey_plugin": MISSING_KERNELS})
    r = run_polytape('''
        report["numpy"] = float(pt.constant(2.0) * 3)      # loading plugins is fine...
        try:
            pt.list_backends()                             # ...building "holey" is not
        except pt.PluginError as exc:
            report["error"] = str(exc)
    ''', POLYTAPE_STRICT_PLUGINS="1")
    assert r["numpy"] == 6.0
    assert "'holey' is rejected: missing kernels for required ops: matmul, sin" in r["error"]


def test_strict_mode_rejects_a_misspelled_hook(install, run_polytape):
    install("polytape-typo", {"typo": "typo_plugin"}, {"typo_plugin": TYPO_HOOK})
    r = run_polytape('''
        try:
            pt.list_backends()
        except pt.PluginError as exc:
            report["error"] = str(exc)
    ''', POLYTAPE_STRICT_PLUGINS="1")
    assert "did you mean polytape_register_backends" in r["error"]


def test_check_pending_catches_a_misspelled_hook_registered_behind_our_back(install, run_polytape):
    # pluggy's own check, which polytape runs after loading, on a plugin that skipped ours.
    r = run_polytape('''
        import pluggy, types, polytape.plugins
        from polytape.plugins import hookimpl
        system = polytape.plugins.get_plugin_system()
        plugin = types.SimpleNamespace(polytape_register_backend=hookimpl(lambda registry: None))
        system.pm.register(plugin, name="sneaky")
        try:
            system.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            report["error"] = str(exc)
    ''')
    assert "unknown hook 'polytape_register_backend'" in r["error"]


def test_tracing_shows_loading_and_every_hook_call(install, run_polytape):
    install("polytape-twin", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    r = run_polytape('''
        pt.list_backends()
    ''', POLYTAPE_TRACE_PLUGINS="1")
    err = r["_stderr"]
    assert "polytape plugins: loading twin = twin_plugin (polytape-twin 1.0)" in err
    assert "polytape plugins: loading numpy = polytape.backends.numpy.plugin" in err
    # pluggy's tracer: the call, its arguments and its result, for each plugin's hook.
    assert err.count("polytape_register_backends [hook]") >= 2
    assert "registry: <polytape.plugins.registry.BackendRegistry" in err
    assert "finish polytape_register_backends" in err


def test_no_trace_without_the_variable(install, run_polytape):
    install("polytape-twin", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    r = run_polytape("pt.list_backends()")
    assert "polytape_register_backends" not in r["_stderr"]


# -- run-time registration (no packaging): fails loudly, keeps nothing -------------------------
class _HalfwayPlugin:
    """Registers a backend, then fails: nothing it added may survive."""

    @hookimpl
    def polytape_register_backends(self, registry):
        class Early(NumpyBackend):
            name = "rt_halfway"

        registry.add(BackendInfo(name="rt_halfway", factory=Early))
        raise RuntimeError("boom")


def test_runtime_register_raises_and_keeps_nothing():
    system = get_plugin_system()
    before = set(system.backends.names())
    with pytest.raises(pt.PluginError, match="boom"):
        pt.plugins.register(_HalfwayPlugin(), name="rt_halfway_plugin")
    assert set(system.backends.names()) == before
    assert system.pm.get_plugin("rt_halfway_plugin") is None


def test_runtime_register_rejects_an_undecorated_hook():
    class Forgetful:
        def polytape_register_backends(self, registry):  # no @hookimpl: pluggy would skip it
            raise AssertionError("never called")

    with pytest.raises(pt.PluginError, match="not decorated with @polytape.plugins.hookimpl"):
        pt.plugins.register(Forgetful(), name="forgetful")
    assert get_plugin_system().pm.get_plugin("forgetful") is None


def test_runtime_register_and_unregister_a_working_backend():
    class Mirror(NumpyBackend):
        name = "mirror"

    class Plugin:
        @hookimpl
        def polytape_register_backends(self, registry):
            registry.add(BackendInfo(name="mirror", factory=Mirror, description="test double"))

    name = pt.plugins.register(Plugin(), name="mirror_plugin")
    try:
        status = next(s for s in pt.list_backends() if s.name == "mirror")
        assert (status.available, status.plugin, status.source) == (True, "mirror_plugin", "<runtime>")
        x = pt.constant([1.0, 2.0], backend="mirror")
        assert x.backend == "mirror" and (x * x).numpy().tolist() == [1.0, 4.0]
        with pytest.raises(pt.PluginError, match="registered twice"):
            pt.plugins.register(Plugin(), name="mirror_again")
    finally:
        pt.plugins.unregister(name)
    assert "mirror" not in [s.name for s in pt.list_backends()]
    with pytest.raises(pt.BackendNotFoundError, match="no backend named 'mirror'"):
        pt.constant(1.0, backend="mirror")


def test_hook_problems_lists_every_mistake():
    class Plugin:
        @hookimpl
        def polytape_register_op(self, registry):
            pass

        def polytape_conformance_cases(self, registry):
            pass

    problems = " | ".join(hook_problems(Plugin()))
    assert problems.count(" | ") == 1
    assert "'polytape_register_op' that is not a polytape hook; did you mean polytape_register_ops?" \
        in problems
    assert "polytape_conformance_cases is not decorated" in problems
    assert hook_problems(object()) == [
        "implements no polytape hook (expected one of polytape_register_backends, ...)"]


REENTRANT = '''
import polytape.plugins

# A plugin that (oddly) asks for the plugin system while it is being imported.
SEEN_DURING_IMPORT = polytape.plugins.get_plugin_system()
'''


def test_loading_is_once_per_process_across_threads_and_reentrant_imports(install, run_polytape):
    install("polytape-twin", {"twin": "twin_plugin"}, {"twin_plugin": TWIN})
    install("polytape-reentrant", {"reentrant": "reentrant_plugin"},
            {"reentrant_plugin": REENTRANT + TWIN.replace('"twin"', '"twin2"')})
    r = run_polytape('''
        import sys, threading, polytape.plugins
        systems = []
        threads = [threading.Thread(target=lambda: systems.append(
            polytape.plugins.get_plugin_system())) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report["distinct"] = len({id(s) for s in systems})
        report["same_as_import"] = sys.modules["reentrant_plugin"].SEEN_DURING_IMPORT is systems[0]
        report["backends"] = systems[0].backends.names()
    ''')
    assert r["distinct"] == 1 and r["same_as_import"] is True
    assert {"numpy", "twin", "twin2"} <= set(r["backends"])
    assert r["warnings"] == []
