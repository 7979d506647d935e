"""The narrow vector path: kernels built for AVX2 and OpenBLAS's AVX2 kernels, forced
on whatever CPU runs the tests, still train the reference's model."""
import json
import os
import platform
import subprocess
import sys

import pytest

SCRIPT = """
import json
import numpy as np
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info
from fastnn import kernels
from fastnn.estimators._params import initial_parameters, pack
from fastnn.estimators._threads import blas_threads
from fastnn.reference import Network

X, y = load_digits(return_X_y=True)
X = np.ascontiguousarray(X[:300] / 16)
Y = np.eye(10)[y[:300]]
sizes = np.array([64, 40, 10])
weights, biases = initial_parameters(sizes, "default", np.random.default_rng(0), np.float64)
params, layout = pack(weights, biases), kernels.make_layout(sizes)[0]
orders = [np.random.default_rng(e).permutation(300) for e in range(2)]
codes = kernels.Codes(0, 0, 1, 0)
with blas_threads(1):
    for order in orders:
        kernels.train_epoch(X, Y, np.ones(300), order, params, np.zeros(0), layout, codes,
                            kernels.Hyper(0.3, 5.0, 0.0, 0.0), np.uint64(0), 300, 10,
                            np.empty((300, 10)), np.empty(300))
net = Network(weights, biases)
net.SGD(X, Y, 2, 10, 0.3, 5.0, orders=orders)
blas = [i.get("architecture") for i in threadpool_info() if "scipy_openblas-" in i["filepath"]
        or i["filepath"].endswith("libscipy_openblas.so")]
print(json.dumps({"diff": float(np.abs(params - pack(net.weights, net.biases)).max()),
                  "blas": blas}))
"""


@pytest.mark.slow
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="AVX2 and its OpenBLAS kernels are x86-64's")
def test_kernels_forced_to_avx2_match_the_reference_to_1e9(tmp_path):
    env = {**os.environ, "NUMBA_CPU_NAME": "haswell", "OPENBLAS_CORETYPE": "Haswell",
           "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["blas"] in ([], ["Haswell"])  # [] : threadpoolctl could not tell
    assert result["diff"] < 1e-9
