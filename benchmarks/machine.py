"""What machine and libraries a benchmark run measured (goes into results.json and RESULTS.md)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import Any

__all__ = ["describe"]

_BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS")


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return platform.processor()
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _numpy_blas() -> Any:
    try:  # threadpoolctl says which BLAS kernel (core type) actually runs; optional
        import numpy as np
        from threadpoolctl import threadpool_info

        np.ones((2, 2)) @ np.ones((2, 2))
        return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                       "threading_layer")} for i in threadpool_info()]
    except ImportError:
        pass
    try:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version"),
                "note": "install threadpoolctl to see the kernel that runs"}
    except Exception as exc:  # show_config's layout differs across NumPy versions
        return f"unknown ({exc})"


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    info = {"version": torch.__version__, "threads": torch.get_num_threads(),
            "mkl": torch.backends.mkl.is_available()}
    for part in torch.__config__.show().replace(",", "\n").splitlines():
        part = part.strip()
        if part.startswith(("BLAS_INFO", "LAPACK_INFO")):
            key, _, value = part.partition("=")
            info[key.lower()] = value
    return info


def describe() -> dict[str, Any]:
    """nproc, CPU model, Python, NumPy (and its BLAS), torch, the BLAS environment variables."""
    import numpy as np

    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    return {
        "nproc": nproc,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "torch": _torch(),
        "blas_env": {k: os.environ.get(k) for k in _BLAS_ENV},
    }
