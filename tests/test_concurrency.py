"""Threads and processes: the same models, the threads rule, no crash, no hang.

The threading-layer tests run a short script in a fresh interpreter per layer
(numba picks its layer once per process) with a timeout, so a crash or a hang
fails one test instead of taking the suite down.
"""
import os
import subprocess
import sys
import textwrap
import threading

import numba
import numpy as np
import pytest
import joblib
from joblib import Parallel, delayed
from joblib._parallel_backends import ThreadingBackend
from threadpoolctl import threadpool_limits

from fastnn import FastNN, kernels
from fastnn.estimators import _threads
from fastnn.estimators._threads import effective_n_threads, numba_threads

# 2 threads: the monitors and predictions run their parallel blocks.
PARALLEL = dict(hidden_layer_sizes=(16,), epochs=2, mini_batch_size=32, n_threads=2,
                validation_fraction=0.2)
SCRIPT_TIMEOUT = 240  # a cold numba cache compiles every kernel first
# Four digits fits at once take about a second; the rest is room for a loaded machine.
CONCURRENT_TIMEOUT = 120

# A script for a fresh interpreter; prints one verdict line, or numba kills it.
LAYER_SCRIPT = textwrap.dedent("""
    import multiprocessing, sys
    import numba, numpy as np
    from concurrent.futures import ThreadPoolExecutor
    from sklearn.datasets import load_digits
    from fastnn import FastNN
    from fastnn.estimators import _threads

    try:
        numba.get_num_threads()
    except ValueError as exc:
        print("unavailable:", " ".join(str(exc).split())); sys.exit(0)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    def fit(seed):
        return FastNN(random_state=seed, **{parallel}).fit(X, y)
    def model(clf):
        return [*clf.coefs_, *clf.intercepts_, np.array(clf.loss_curve_)]
    if sys.argv[1] == "threads":
        alone = [model(fit(seed)) for seed in range(4)]
        with ThreadPoolExecutor(4) as pool:
            together = [model(clf) for clf in pool.map(fit, range(4))]
        same = all(len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))
                   for a, b in zip(alone, together))
        print("same" if same else "different")
    else:
        clf = fit(0)
        expected = clf.predict(X)
        with multiprocessing.get_context("fork").Pool(1) as pool:
            try:
                got = pool.apply_async(clf.predict, (X,)).get(timeout=60)
                print("works" if np.array_equal(got, expected) else "wrong")
            except RuntimeError as exc:
                print("refused:", exc)
""").format(parallel=PARALLEL)


def run_layer_script(layer, what):
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
    try:
        done = subprocess.run([sys.executable, "-c", LAYER_SCRIPT, what], env=env,
                              capture_output=True, text=True, timeout=SCRIPT_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} under the {layer} layer hung for {SCRIPT_TIMEOUT} s")
    lines = done.stdout.strip().splitlines()
    verdict = lines[-1] if lines else ""
    if verdict.startswith("unavailable"):
        pytest.skip(f"numba's {layer} layer cannot load here: {verdict}")
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    return verdict


def fit_digits(digits, seed, **params):
    X, y = digits
    return FastNN(random_state=seed, eta=0.5 + seed, **{**PARALLEL, **params}).fit(X, y)


def same_model(a, b):
    return (all(np.array_equal(u, v) for u, v in zip(a.coefs_, b.coefs_))
            and all(np.array_equal(u, v) for u, v in zip(a.intercepts_, b.intercepts_))
            and a.loss_curve_ == b.loss_curve_)


# -- thread safety ------------------------------------------------------------

def in_a_daemon_thread(function, timeout):
    """``function()``'s result, or a failure if it has not returned within ``timeout`` s.

    A deadlocked fit then fails this test instead of hanging the suite: the
    stuck daemon thread is left behind and cannot keep the interpreter alive.
    """
    outcome = {}

    def run():
        try:
            outcome["result"] = function()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"still running after {timeout} s: a deadlock?")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def test_four_threads_fit_the_models_they_fit_one_after_another(digits):
    # One after another first: the kernels are compiled before the clock starts.
    alone = [fit_digits(digits, seed) for seed in range(4)]
    together = in_a_daemon_thread(lambda: Parallel(n_jobs=4, backend="threading")(
        delayed(fit_digits)(digits, seed) for seed in range(4)), timeout=CONCURRENT_TIMEOUT)
    assert all(same_model(a, b) for a, b in zip(alone, together))


def test_four_threads_predict_what_one_thread_predicts(digits):
    X, _ = digits
    models = [fit_digits(digits, seed) for seed in range(4)]
    alone = [m.predict_proba(X) for m in models]
    together = Parallel(n_jobs=4, backend="threading")(
        delayed(m.predict_proba)(X) for m in models)
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["omp", "tbb", "workqueue"])
def test_concurrent_fits_neither_crash_nor_differ_under_any_threading_layer(layer):
    assert run_layer_script(layer, "threads") == "same"


def test_kernels_release_the_gil():
    # Evidence without a clock: every compiled kernel is built with nogil=True,
    # so joblib's threading backend runs fits truly in parallel.
    dispatchers = {name: obj for module in vars(kernels).values()
                   if getattr(module, "__name__", "").startswith(kernels.__name__ + ".")
                   for name, obj in vars(module).items()
                   if isinstance(obj, numba.core.registry.CPUDispatcher)}
    assert {"_epoch", "_evaluate", "predict_rows"} <= dispatchers.keys()
    assert {name for name, d in dispatchers.items() if not d.targetoptions.get("nogil")} == set()


# -- fork safety --------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("layer", ["omp", "tbb", "workqueue"])
def test_a_forked_pool_predicts_or_refuses_clearly_and_never_hangs(layer):
    verdict = run_layer_script(layer, "fork")
    if layer == "omp":
        # GNU OpenMP does not survive fork(): a clear error instead of a dead child.
        assert verdict.startswith("refused:") and "forkserver" in verdict
    else:
        assert verdict == "works"


# -- the threads rule ---------------------------------------------------------

def test_numba_threads_restores_the_callers_setting():
    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_numba_threads_changes_nothing_in_other_threads():
    seen = []
    with numba_threads(1):
        other = threading.Thread(target=lambda: seen.append(numba.get_num_threads()))
        other.start()
        other.join()
    assert seen == [numba.config.NUMBA_NUM_THREADS]


def test_explicit_n_threads_wins_over_every_limit():
    with threadpool_limits(1):
        assert effective_n_threads(2) == min(2, numba.config.NUMBA_NUM_THREADS)


def test_default_threads_honour_threadpoolctl_limits():
    with threadpool_limits(1):
        assert effective_n_threads(None) == 1


def test_default_threads_honour_numbas_own_setting():
    with numba_threads(1):
        assert effective_n_threads(None) == 1


def test_default_threads_in_joblibs_threading_backend_share_the_cores_between_its_jobs():
    cores = min(numba.config.NUMBA_NUM_THREADS, joblib.cpu_count())
    shares = Parallel(n_jobs=2, backend="threading")(
        delayed(effective_n_threads)(None) for _ in range(2))
    assert shares == [max(1, cores // 2)] * 2


def test_default_threads_in_joblibs_threading_backend_grow_with_the_cores_per_job(monkeypatch):
    # 8 cores for 4 jobs: 2 threads each, as many as numba's pool allows here.
    monkeypatch.setattr(_threads, "_cores", lambda: 8)
    shares = Parallel(n_jobs=4, backend="threading")(
        delayed(effective_n_threads)(None) for _ in range(4))
    assert shares == [min(2, numba.config.NUMBA_NUM_THREADS)] * 4


def test_default_threads_are_one_in_a_nested_joblib_job_of_unknown_size(monkeypatch):
    # A thread that joblib's context calls nested, outside any ThreadPool: the
    # outer level's size cannot be found, so one thread, whatever the cores.
    monkeypatch.setattr(_threads, "_cores", lambda: 8)
    seen = []

    def nested_job():
        with joblib.parallel_config(backend=ThreadingBackend(nesting_level=1)):
            seen.append(effective_n_threads(None))

    thread = threading.Thread(target=nested_job)
    thread.start()
    thread.join()
    assert seen == [1]


@pytest.mark.slow
def test_default_threads_are_the_loky_workers_share():
    shares = Parallel(n_jobs=2)(delayed(effective_n_threads)(None) for _ in range(2))
    assert shares == [max(1, joblib.cpu_count() // 2)] * 2
