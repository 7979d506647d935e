"""Data bigger than memory: ``fit`` on a memory-mapped float32 file copies nothing whole.

The fit runs in a subprocess that reports how much *anonymous* memory (RssAnon,
sampled every few milliseconds, and numpy's allocations under tracemalloc) it
added while training.  Peak RSS (VmHWM, ``getrusage``) cannot tell a copy from
the file's own pages: every epoch reads all of X, and the kernel counts the
mapped pages it has read as resident, so VmHWM reaches the file size with or
without a copy.  A copy of X, on the other hand, is anonymous memory.
"""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

FILE_BYTES = 2 * 2 ** 30
N_FEATURES = 1024

CHILD = r"""
import json, sys, threading, time, tracemalloc
import numpy as np
from fastnn import FastNN

def rss_anon():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024

X = np.load(sys.argv[1], mmap_mode="r")
y = np.arange(X.shape[0]) % 2
# The book's mini-batch of 10; the fit gathers each mini-batch's rows from the map.
params = dict(hidden_layer_sizes=(2,), mini_batch_size=10, epochs=1, random_state=0)
# The warm-up compiles the kernels for read-only float32 input, so that
# numba's own memory is not counted as a copy of X.
FastNN(**params).fit(X[:1000], y[:1000]).predict(X[:10])
baseline, peak, done = rss_anon(), [0], threading.Event()

def watch():
    while not done.is_set():
        peak[0] = max(peak[0], rss_anon())
        time.sleep(0.002)

watcher = threading.Thread(target=watch)
watcher.start()
tracemalloc.start()
FastNN(**params).fit(X, y)
traced_peak = tracemalloc.get_traced_memory()[1]
done.set()
watcher.join()
print(json.dumps({"anon_added": max(peak[0], rss_anon()) - baseline,
                  "traced_peak": traced_peak}))
"""


def write_npy(path, n_bytes, n_features):
    """A C-ordered float32 .npy of about ``n_bytes``, written chunk by chunk
    (never held in memory whole, and never mapped by this process)."""
    rows_per_chunk = 2 ** 24 // n_features
    n_chunks = max(1, n_bytes // (rows_per_chunk * n_features * 4))
    chunk = np.random.default_rng(0).random((rows_per_chunk, n_features), dtype=np.float32)
    header = {"descr": "<f4", "fortran_order": False,
              "shape": (rows_per_chunk * n_chunks, n_features)}
    with open(path, "wb") as file:
        np.lib.format.write_array_header_2_0(file, header)
        for _ in range(n_chunks):
            file.write(chunk.data)
    return rows_per_chunk * n_chunks * n_features * 4


@pytest.mark.slow
def test_fit_on_a_memory_mapped_2gb_file_does_not_copy_x(tmp_path):
    if shutil.disk_usage(tmp_path).free < 2 * FILE_BYTES:
        pytest.skip(f"needs {2 * FILE_BYTES / 2 ** 30:.0f} GiB free in {tmp_path}")
    size = write_npy(tmp_path / "X.npy", FILE_BYTES, N_FEATURES)
    run = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "X.npy")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["traced_peak"] < size / 20, report
    assert report["anon_added"] < size / 10, report
