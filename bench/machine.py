"""What this machine is, and what it can do at best: facts and a BLAS peak.

The peak is a large square matmul (``2 n³`` FLOPs) in float64 and float32,
timed in the same interleaved rounds as the epochs, on 1 and on all threads.
It is what "share of peak" in the report is measured against.
"""
import os
import platform
import subprocess

import numpy as np

from .implementations import ALL_THREADS, blas_threads

MATMUL_N = 2048


def matmul_flops(n=MATMUL_N):
    return 2.0 * n ** 3


def matmul_job(dtype, n_threads, n=MATMUL_N):
    """A callable doing one n × n @ n × n product in ``dtype`` with ``n_threads`` BLAS threads."""
    rng = np.random.default_rng(0)
    A = rng.random((n, n)).astype(dtype)
    B = rng.random((n, n)).astype(dtype)
    C = np.empty((n, n), dtype=dtype)

    def run():
        with blas_threads(n_threads):
            np.matmul(A, B, out=C)
    return run


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def blas_name():
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return (f"{pool.get('internal_api')} {pool.get('version')} "
                    f"({pool.get('architecture')}, {pool.get('num_threads')} threads)")
    return "unknown"


def load_average():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def facts():
    """Machine and software facts, as (label, value) pairs."""
    import numba
    import sklearn

    try:
        import torch
        torch_version = f"{torch.__version__} ({torch.get_num_threads()} threads by default)"
    except ImportError:
        torch_version = "not installed"
    flags = _cpu_flags()
    simd = ", ".join(f for f in ("avx2", "fma", "avx512f") if f in flags) or "unknown"
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = numba.config.THREADING_LAYER
    return [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} logical cores ({simd})"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("NumPy", f"{np.__version__}, BLAS: {blas_name()}"),
        ("Numba", f"{numba.__version__}, threading layer {layer}, "
                  f"{numba.config.NUMBA_NUM_THREADS} threads"),
        ("scikit-learn", sklearn.__version__),
        ("PyTorch", torch_version),
        ("all threads", str(ALL_THREADS)),
    ]


def git_state(root):
    """(commit, short status of kernels/ and fastnn/) of the checkout that was measured."""
    def run(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = run("rev-parse", "--short", "HEAD") or "unknown"
    dirty = run("status", "--porcelain", "--", "kernels", "fastnn")
    return commit, ("uncommitted changes in kernels/ or fastnn/" if dirty else "clean")
