"""What a certificate was measured on: host, devices, drivers, packages, command line, timing.

A result is only as good as the description of the machine behind it (the Khronos
conformance submissions and MLPerf result reports carry the same kind of block), so
:func:`host_environment` gathers what any run can say, and :func:`backend_environment`
what one backend can say about its device. Probes never fail a run: a value that
cannot be read is left out, not guessed.

A backend adds its own facts (a driver version, firmware, a clock) with a
``conformance_environment`` attribute: a mapping, or a callable taking the device
string and returning one. Its keys are merged over the probed ones under the
backend's ``environment`` entry in the certificate.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from .suite import SUITE_VERSION

__all__ = ["host_environment", "backend_environment", "file_digest", "package_versions",
           "suite_revision", "utc_now"]

# Environment variables that change how many threads the array libraries use.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "CUDA_VISIBLE_DEVICES",
                    "HIP_VISIBLE_DEVICES", "POLYTAPE_BACKEND", "PYTHONHASHSEED")


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def file_digest(path: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` of a file's bytes (``unreadable: ...`` when it cannot be read)."""
    try:
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"


def package_versions() -> dict[str, str]:
    """Every installed distribution and its version, sorted by name."""
    versions: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            versions.setdefault(name, dist.version)
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))


def suite_revision() -> dict[str, Any]:
    """The suite's version and, for a source checkout, the git commit it was run from."""

    out: dict[str, Any] = {"suite_version": SUITE_VERSION}
    try:
        out["polytape"] = importlib.metadata.version("polytape")
    except importlib.metadata.PackageNotFoundError:
        pass
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10)
        if commit.returncode == 0:
            out["commit"] = commit.stdout.strip()
            dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                                   capture_output=True, text=True, timeout=10)
            out["dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass  # not a checkout, or no git: the package version is all there is
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _usable_cores() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def _blas_threads() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: info.get(k) for k in ("internal_api", "num_threads", "version")}
            for info in threadpool_info()]


def host_environment(argv: list[str] | None = None) -> dict[str, Any]:
    """The host: OS, Python, CPU model and cores, memory, threads, packages, command line."""
    env: dict[str, Any] = {
        "hostname": platform.node(),
        "os": platform.platform(),
        "platform": platform.platform(),  # the field's name before the environment block grew
        "machine": platform.machine(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu": {"model": _cpu_model(), "logical_cores": os.cpu_count(),
                "usable_cores": _usable_cores()},
        "memory_bytes": _memory_bytes(),
        "threads": {"blas": _blas_threads(),
                    "variables": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}},
        "command_line": list(sys.argv if argv is None else argv),
        "packages": package_versions(),
    }
    return env


def _torch_facts(device: str) -> dict[str, Any]:
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    facts: dict[str, Any] = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                             "cuda_runtime": getattr(torch.version, "cuda", None),
                             "hip_runtime": getattr(torch.version, "hip", None)}
    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        index = torch.cuda.current_device() if index is None else index
        props = torch.cuda.get_device_properties(index)
        facts.update(device_name=props.name, device_memory_bytes=int(props.total_memory),
                     compute_capability=f"{props.major}.{props.minor}",
                     cudnn=torch.backends.cudnn.version())
    return {k: v for k, v in facts.items() if v is not None}


def _cupy_facts(device: str) -> dict[str, Any]:
    cupy = sys.modules.get("cupy")
    if cupy is None:
        return {}
    facts: dict[str, Any] = {"cupy": cupy.__version__}
    try:
        runtime = cupy.cuda.runtime
        facts["cuda_runtime"] = runtime.runtimeGetVersion()
        facts["cuda_driver"] = runtime.driverGetVersion()
        index = int(device.rpartition(":")[2]) if device.rpartition(":")[2].isdigit() else 0
        props = runtime.getDeviceProperties(index)
        name = props.get("name", b"")
        facts["device_name"] = name.decode() if isinstance(name, bytes) else str(name)
        facts["device_memory_bytes"] = int(props.get("totalGlobalMem", 0)) or None
        facts["compute_capability"] = f"{props.get('major')}.{props.get('minor')}"
    except Exception as exc:  # a driver can fail any way it likes: say how, do not end the run
        facts["probe_error"] = f"{type(exc).__name__}: {exc}"
    return {k: v for k, v in facts.items() if v is not None}


def backend_environment(backend: Any, device: str) -> dict[str, Any]:
    """What ``backend`` on ``device`` can say about itself: device name and memory, runtimes.

    CPU devices are described by the host's CPU; torch and CuPy add their runtime and
    driver versions and, on a GPU, the device's name, memory and compute capability.
    The backend's own ``conformance_environment`` (mapping or ``callable(device)``)
    is merged last.
    """
    device = str(device or "")
    facts: dict[str, Any] = {"device": device}
    library = type(backend).__module__.split(".")
    if device in ("", "cpu") or device.startswith("cpu"):
        facts["device_name"] = _cpu_model()
        facts["device_memory_bytes"] = _memory_bytes()
    if "torch" in library or getattr(backend, "name", "") == "torch":
        facts.update(_torch_facts(device))
    if "cupy" in library or getattr(backend, "name", "") == "cupy":
        facts.update(_cupy_facts(device))
    own = getattr(backend, "conformance_environment", None)
    if own is not None:
        try:
            extra = own(device) if callable(own) else own
            facts.update({str(k): v for k, v in dict(extra).items()})
        except Exception as exc:  # the backend's hook must not end the run
            facts["conformance_environment_error"] = f"{type(exc).__name__}: {exc}"
    return {k: v for k, v in facts.items() if v is not None}
