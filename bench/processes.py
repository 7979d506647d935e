"""Measurements that need a fresh interpreter: cold start and peak memory.

Each runs ``sys.executable -c CHILD`` and reads one JSON line the child prints.
The data are written once to ``.npy`` files in a temporary folder, so that the
child spends no time making or decoding them.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# Stage times inside the child, from its first line of Python.
COLD_CHILD = """
import json, time
t0 = time.perf_counter()
import numpy as np
t1 = time.perf_counter()
from fastnn import FastNN
t2 = time.perf_counter()
X, y = np.load({x!r}), np.load({y!r})
t3 = time.perf_counter()
FastNN(epochs=1, random_state=0).fit(X, y)
t4 = time.perf_counter()
# Not in the wall time's spirit, but it splits the first fit: the second one
# pays no cache loading, so fit − fit_again is loading the compiled kernels.
FastNN(epochs=1, random_state=0).fit(X, y)
t5 = time.perf_counter()
print(json.dumps(dict(numpy=t1 - t0, fastnn=t2 - t1, data=t3 - t2, fit=t4 - t3, fit_again=t5 - t4)))
"""

MEMORY_CHILD = """
import json
import numpy as np
from fastnn import FastNN

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

imports = status("VmRSS")
X, y = np.load({x!r}), np.load({y!r})
# Load the compiled kernels on a sliver of the data, so their code is baseline, not fit.
FastNN(epochs=1, random_state=0).fit(X[:200], y[:200])
kernels = status("VmRSS") - (X.nbytes + y.nbytes)
loaded = status("VmRSS")
hwm_before = status("VmHWM")
clf = FastNN(epochs=1, random_state=0).fit(X, y)
model = sum(w.nbytes for w in clf.coefs_) + sum(b.nbytes for b in clf.intercepts_)
print(json.dumps(dict(imports=imports, kernels=kernels, loaded=loaded, hwm_before=hwm_before,
                      peak=status("VmHWM"), X=X.nbytes, y=y.nbytes, model=model)))
"""


def _run_child(code, env=None, timeout=900):
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                           else f"exit code {proc.returncode}")
    stages = json.loads(proc.stdout.strip().splitlines()[-1])
    # The wall time ends with the first fit: the second (``fit_again``) is a measurement aid.
    return wall - stages.get("fit_again", 0.0), stages


def _save(folder, X, y):
    x_path, y_path = os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy")
    np.save(x_path, X)
    np.save(y_path, y)
    return x_path, y_path


def cold_start(X, y, repeats=3, compile_too=True):
    """Wall seconds of a fresh ``python -c`` fitting 1 epoch on (X, y), warm cache; and cold.

    Returns a dict: ``warm`` (median wall of ``repeats`` runs after one warming
    run, with the stage times of the median run) and, with ``compile_too``,
    ``cold`` (one run with ``NUMBA_CACHE_DIR`` set to an empty temporary folder).
    """
    result = {"n": X.shape[0], "dtype": str(X.dtype)}
    with tempfile.TemporaryDirectory(prefix="fastnn-bench-") as folder:
        code = COLD_CHILD.format(**dict(zip("xy", _save(folder, X, y))))
        try:
            _run_child(code)  # fills the cache if the kernels changed since the last run
            runs = sorted((_run_child(code) for _ in range(repeats)), key=lambda r: r[0])
            wall, stages = runs[len(runs) // 2]
            result["warm"] = dict(wall=wall, walls=[r[0] for r in runs], **stages)
            if compile_too:
                with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
                    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                    wall, stages = _run_child(code, env=env)
                    result["cold"] = dict(wall=wall, **stages)
        except (RuntimeError, subprocess.SubprocessError) as error:
            result["error"] = str(error)
    return result


def memory(X, y):
    """Peak RSS of a fresh interpreter fitting 1 epoch on (X, y); bytes, see MEMORY_CHILD."""
    with tempfile.TemporaryDirectory(prefix="fastnn-bench-") as folder:
        code = MEMORY_CHILD.format(**dict(zip("xy", _save(folder, X, y))))
        try:
            return _run_child(code)[1]
        except (RuntimeError, subprocess.SubprocessError) as error:
            return {"error": str(error)}


def import_times(top=8):
    """The slowest packages under ``import fastnn`` (``python -X importtime``, cumulative µs).

    Nested imports are inside their parent's time: the rows overlap.
    """
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fastnn"],
                          capture_output=True, text=True, timeout=300)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].strip()
            # Whole packages (numba, sklearn, scipy, …) and fastnn's own modules.
            if "." not in name or name.startswith("fastnn."):
                rows.append((int(parts[1]), name))
    rows.sort(reverse=True)
    return rows[:top]


def median(values):
    return statistics.median(values) if values else float("nan")
