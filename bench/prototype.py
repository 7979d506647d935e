"""A measured sketch of what would close the speed gap: a mini-batch-blocked epoch.

Not part of fastnn.  fastnn's epoch (``kernels/sgd.py``) handles one sample at a
time: the forward pass reads the first layer's weight rows of the sample's
nonzero pixels, and the update writes those rows again, so every sample
streams ~3 × ½ × |w¹| through the cache.  Here the loops are turned inside
out, input row outermost: row i of w¹ is loaded ONCE per mini-batch and used
by all m samples, for the forward pass (z_s += x_si w_i) and for the update
(w_i ← decay·w_i − scale·Σ_s x_si δ_s).  Each weight still sees the same
operations in the same order (decay, then samples in mini-batch order), so the
result keeps fastnn's determinism; ``python -m bench.prototype`` checks it
against ``kernels.train_epoch`` and times both.

One hidden layer, sigmoid units, cross-entropy, float64 or float32.
"""
import math
import sys
import time

import numpy as np
from numba import njit, prange

FASTMATH = {"nsz", "arcp", "contract"}  # fastnn's set (kernels/_jit.py)


@njit(fastmath=FASTMATH, cache=True)
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(fastmath=FASTMATH, cache=True)
def blocked_epoch(X, Y, order, W1, b1, W2, b2, eta, lmbda, n_train, m_max):
    n, n_in = X.shape
    n_hid, n_out = W1.shape[1], W2.shape[1]
    dt = W1.dtype
    AT = np.empty((n_in, m_max), dtype=dt)        # the mini-batch, transposed: row i = pixel i
    A1 = np.empty((m_max, n_hid), dtype=dt)
    D1 = np.empty((m_max, n_hid), dtype=dt)
    D2 = np.empty((m_max, n_out), dtype=dt)
    decay = dt.type(1.0 - eta * lmbda / n_train)
    for start in range(0, order.shape[0], m_max):
        m = min(m_max, order.shape[0] - start)
        scale = dt.type(eta / m)
        for s in range(m):
            row = order[start + s]
            for i in range(n_in):
                AT[i, s] = X[row, i]
            for j in range(n_hid):
                A1[s, j] = b1[j]
        # Forward, layer 1: w¹ row i read once, used by every sample of the batch.
        for i in range(n_in):
            w = W1[i]
            for s in range(m):
                a = AT[i, s]
                if a != 0.0:
                    for j in range(n_hid):
                        A1[s, j] += a * w[j]
        for s in range(m):
            for j in range(n_hid):
                A1[s, j] = _sigmoid(A1[s, j])
            for k in range(n_out):
                z = b2[k]
                for j in range(n_hid):
                    z += A1[s, j] * W2[j, k]
                D2[s, k] = _sigmoid(z) - Y[order[start + s], k]   # cross-entropy: δ^L = a − y
            for j in range(n_hid):
                t = 0.0
                for k in range(n_out):
                    t += W2[j, k] * D2[s, k]
                D1[s, j] = t * A1[s, j] * (1.0 - A1[s, j])
        # Update, rows outermost: decay, then the samples in mini-batch order.
        for j in range(n_hid):
            w = W2[j]
            for k in range(n_out):
                w[k] *= decay
            for s in range(m):
                c = scale * A1[s, j]
                for k in range(n_out):
                    w[k] -= c * D2[s, k]
        for i in range(n_in):
            w = W1[i]
            for j in range(n_hid):
                w[j] *= decay
            for s in range(m):
                a = AT[i, s]
                if a != 0.0:
                    c = scale * a
                    for j in range(n_hid):
                        w[j] -= c * D1[s, j]
        for k in range(n_out):
            t = 0.0
            for s in range(m):
                t += D2[s, k]
            b2[k] -= scale * t
        for j in range(n_hid):
            t = 0.0
            for s in range(m):
                t += D1[s, j]
            b1[j] -= scale * t


@njit(parallel=True, cache=True)
def _empty_region(out):
    for c in prange(out.shape[0]):
        out[c] += 1.0


@njit(cache=True)
def _regions(out, calls):
    for _ in range(calls):
        _empty_region(out)


def fork_join_seconds(n_threads, calls=2000):
    """Seconds per empty numba parallel region (the fixed cost of one ``prange``)."""
    from fastnn._threads import numba_threads

    out = np.zeros(8)
    with numba_threads(n_threads):
        _regions(out, 10)
        started = time.perf_counter()
        _regions(out, calls)
        return (time.perf_counter() - started) / calls


def compare(X, Y, sizes, m, dtype, rounds=3):
    """(fastnn s, blocked s, max |Δparam|) for one epoch; medians of interleaved rounds."""
    from fastnn import kernels
    from fastnn._params import initial_parameters, pack

    from .implementations import _train_epoch_call

    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    order = np.random.default_rng(1).permutation(len(X))
    weights, biases = initial_parameters(np.asarray(sizes), "default", np.random.default_rng(0),
                                         dtype)
    params = pack(weights, biases)
    layout = kernels.make_layout(np.asarray(sizes, dtype=np.int64))[0]
    fast = _train_epoch_call(X, Y, order, params, layout, 0.5, 5.0, m, 1)  # serial, as m < 32
    W1, W2 = (w.copy() for w in weights)
    b1, b2 = (b.copy() for b in biases)
    # Parity: one epoch each from the same weights (this also compiles both).
    fast()
    blocked_epoch(X, Y, order, W1, b1, W2, b2, 0.5, 5.0, len(X), m)
    diff = float(np.max(np.abs(pack([W1, W2], [b1, b2]) - params)))
    times = {"fastnn": [], "blocked": []}
    for _ in range(rounds):
        for key in ("fastnn", "blocked"):
            started = time.perf_counter()
            if key == "fastnn":
                fast()
            else:
                blocked_epoch(X, Y, order, W1, b1, W2, b2, 0.5, 5.0, len(X), m)
            times[key].append(time.perf_counter() - started)
    return float(np.median(times["fastnn"])), float(np.median(times["blocked"])), diff


def main():
    from .implementations import load_data

    X, Y, _, why = load_data()
    print(why)
    for threads in (1, 2):
        print(f"empty parallel region, {threads} threads: "
              f"{np.median([fork_join_seconds(threads) for _ in range(5)]) * 1e6:.1f} µs")
    print("| shape | m | dtype | fastnn epoch | blocked epoch | speed-up | max abs Δ params |")
    print("|---|---|---|---|---|---|---|")
    for sizes in ([784, 30, 10], [784, 100, 10]):
        for m in (10, 100):
            for dtype in (np.float64, np.float32):
                t_fast, t_blocked, diff = compare(X, Y, sizes, m, dtype)
                print(f"| {'-'.join(map(str, sizes))} | {m} | {np.dtype(dtype).name} | "
                      f"{t_fast:.3f} s | {t_blocked:.3f} s | {t_fast / t_blocked:.2f}× | "
                      f"{diff:.1e} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def thread_scaling(sizes=(784, 30, 10), m=100, rounds=5):
    """fastnn-f64 epoch seconds on 1 and on all threads, interleaved medians (a quick probe)."""
    from .implementations import ALL_THREADS, IMPLEMENTATIONS, load_data

    X, Y, _, _ = load_data()
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    order = np.random.default_rng(1).permutation(len(X))
    runs = {t: IMPLEMENTATIONS["fastnn-f64"](X, Y, list(sizes), order, 0.5, 5.0, m, n_threads=t)
            for t in sorted({1, ALL_THREADS})}
    times = {t: [] for t in runs}
    for run in runs.values():
        run()
    for _ in range(rounds):
        for t, run in runs.items():
            started = time.perf_counter()
            run()
            times[t].append(time.perf_counter() - started)
    return {t: float(np.median(v)) for t, v in times.items()}
