"""Hyperparameter search on a real Dask cluster through joblib's Dask backend.

Each cluster is a ``distributed.LocalCluster`` of two single-threaded worker
processes on loopback: the same code runs against
``distributed.Client("scheduler-address")`` on a real cluster.
"""
import os
import signal
import sys
import threading

import numba
import numpy as np
import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask[distributed] is not installed (pip install 'fastnn[dask]')")

import cloudpickle  # noqa: E402  (comes with distributed)
import dask  # noqa: E402
import joblib  # noqa: E402
from distributed.client import FutureCancelledError  # noqa: E402
from distributed.scheduler import KilledWorker  # noqa: E402
from scipy.stats import loguniform, uniform  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from fastnn import FastNN  # noqa: E402
from fastnn.estimators import _threads  # noqa: E402
from fastnn.estimators._threads import effective_n_threads  # noqa: E402

# Workers unpickle the estimator defined below by value: they need not import tests/.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.slow

GRID = {"fastnn__eta": [0.5, 3.0], "fastnn__lmbda": [0.0, 0.1, 1.0]}
DISTRIBUTIONS = {"fastnn__eta": loguniform(0.1, 5.0), "fastnn__lmbda": uniform(0.0, 1.0)}

# How a search reports lost work: the task's workers all died (KilledWorker), or
# joblib's per-split index arrays, scattered to the dead worker only, are gone
# and the tasks needing them are cancelled (FutureCancelledError).
LOST_WORK = (KilledWorker, FutureCancelledError)


def _cluster():
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address="127.0.0.1:0")


@pytest.fixture(scope="module")
def client():
    with _cluster() as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def fragile_client():
    """A cluster that gives up on a task after a second worker died running it."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with _cluster() as cluster, distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def digits_raw():
    return load_digits(return_X_y=True)


def pipeline(epochs=3, estimator=None):
    estimator = estimator or FastNN(hidden_layer_sizes=(10,), random_state=0)
    return Pipeline([("scale", MinMaxScaler()), ("fastnn", estimator.set_params(epochs=epochs))])


def search(epochs=3, estimator=None, grid=GRID):
    return GridSearchCV(pipeline(epochs, estimator), grid, cv=3)


def randomized_search():
    return RandomizedSearchCV(pipeline(), DISTRIBUTIONS, n_iter=4, cv=3, random_state=0)


def scores(search):
    """cv_results_ without its timing columns (the only ones allowed to differ)."""
    return {k: v for k, v in search.cv_results_.items() if "time" not in k}


def assert_same_results(ours, serial):
    ours, serial = scores(ours), scores(serial)
    assert ours.keys() == serial.keys()
    for key, value in serial.items():
        if key.endswith("_score") or key.startswith("rank"):
            assert np.array_equal(ours[key], value), key
        else:
            assert list(ours[key]) == list(value), key


@pytest.fixture(scope="module")
def serial_search(digits_raw):
    X, y = digits_raw
    return search().fit(X, y)


class _DependencyLog(distributed.diagnostics.plugin.SchedulerPlugin):
    """Records, for every task that reaches memory, the keys it depended on."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.dependencies = {}

    def transition(self, key, start, finish, *args, **kwargs):
        task = self.scheduler.tasks.get(key)
        if finish == "memory" and task is not None and task.run_spec is not None:
            self.dependencies[key] = {dep.key for dep in task.dependencies}


def test_search_on_dask_gives_the_serial_cv_results_to_the_last_digit(client, digits_raw,
                                                                      serial_search):
    X, y = digits_raw
    with joblib.parallel_backend("dask", scatter=[X, y]):
        ours = search().fit(X, y)
    assert_same_results(ours, serial_search)


def test_randomized_search_on_dask_gives_the_serial_cv_results_to_the_last_digit(client,
                                                                                 digits_raw):
    X, y = digits_raw
    serial = randomized_search().fit(X, y)
    with joblib.parallel_backend("dask", scatter=[X, y]):
        ours = randomized_search().fit(X, y)
    assert_same_results(ours, serial)


def test_scattered_data_is_sent_once_and_every_fit_refers_to_it(client, digits_raw):
    X, y = digits_raw
    log = _DependencyLog(client.cluster.scheduler)
    client.cluster.scheduler.add_plugin(log, name="fastnn-dependency-log")
    try:
        with joblib.parallel_backend("dask", scatter=[X, y]):
            backend, _ = joblib.parallel.get_active_backend()
            scattered = {future.key for future in backend.data_futures.values()}
            search().fit(X, y)
    finally:
        client.cluster.scheduler.remove_plugin(name="fastnn-dependency-log")
    fits = [deps for key, deps in log.dependencies.items() if "fit_and_score" in str(key)]
    assert len(scattered) == 2
    assert fits, "no fit task reached the scheduler"
    # Each fit takes X and y as references to the two scattered copies: the
    # arrays travelled once (to each worker), not inside every task.
    assert all(scattered <= deps for deps in fits)


def _default_threads_and_omp_limit():
    return effective_n_threads(None), os.environ.get("OMP_NUM_THREADS")


def _default_threads_and_core_share_without_an_omp_limit():
    """What a task's fit would use if the nanny had set no OpenMP limit, and the expected share."""
    worker = distributed.get_worker()
    cores = min(numba.config.NUMBA_NUM_THREADS, joblib.cpu_count())
    saved = os.environ.pop("OMP_NUM_THREADS", None)
    try:
        with threadpool_limits(limits=cores, user_api="openmp"):
            return effective_n_threads(None), max(1, cores // worker.state.nthreads)
    finally:
        if saved is not None:
            os.environ["OMP_NUM_THREADS"] = saved


def test_a_dask_tasks_default_threads_honour_the_nannys_omp_limit(client):
    futures = [client.submit(_default_threads_and_omp_limit, pure=False) for _ in range(4)]
    assert client.gather(futures) == [(1, "1")] * 4


def test_a_dask_tasks_default_threads_are_its_workers_core_share(client):
    # One thread per worker, 2 workers on this machine's cores: the share is
    # all of them (2 on 2 cores), which a rule of "1 in any task" would miss.
    futures = [client.submit(_default_threads_and_core_share_without_an_omp_limit, pure=False)
               for _ in range(2)]
    used, expected = zip(*client.gather(futures))
    assert used == expected


def test_dask_workers_sharing_one_process_share_its_cores(monkeypatch):
    # Two worker threads in this very process, no nanny: each task's fits get
    # half the cores, where a rule blind to the workers would give them all.
    cores = min(numba.config.NUMBA_NUM_THREADS, joblib.cpu_count())
    # The module's nannies set their workers' OMP_NUM_THREADS=1 here too.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    if in_a_new_thread(_threads._openmp_limit) < cores:
        pytest.skip("an OpenMP runtime caps new threads here, the share cannot show")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as in_process:
        futures = [in_process.submit(effective_n_threads, None, pure=False) for _ in range(2)]
        assert in_process.gather(futures) == [max(1, cores // 2)] * 2


def in_a_new_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def _on_a_dask_worker():
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


class _DiesOnWorker(FastNN):
    """FastNN whose fit kills the Dask worker process it runs in, when ``eta == 3``."""

    def fit(self, X, y, **kwargs):
        if self.eta == 3.0 and _on_a_dask_worker():
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, **kwargs)


# The Variable and Event a waiting fit signals with, and the Event that lets it go
# (names on the fragile cluster, which this module starts afresh).
BUSY, GO_ON = "fastnn-busy-worker", "fastnn-go-on"
# How long a waiting fit waits if the test never lets it go (it then fits anyway).
RELEASE_TIMEOUT = 120


class _WaitsOnWorker(FastNN):
    """FastNN whose fit, when ``eta == 3`` on a Dask worker, says so and waits to be let go.

    It names its worker process in the Variable ``BUSY``, sets the Event
    ``BUSY`` and waits for the Event ``GO_ON``: the test can then kill a
    worker that is certainly busy with a fit, however slow the machine.
    """

    def fit(self, X, y, **kwargs):
        if self.eta == 3.0 and _on_a_dask_worker():
            distributed.Variable(BUSY).set(os.getpid())
            distributed.Event(BUSY).set()
            distributed.Event(GO_ON).wait(timeout=RELEASE_TIMEOUT)
        return super().fit(X, y, **kwargs)


def test_a_fit_that_keeps_killing_its_worker_fails_the_whole_search(fragile_client,
                                                                    digits_raw):
    X, y = digits_raw
    grid_search = search(estimator=_DiesOnWorker(hidden_layer_sizes=(10,), random_state=0))
    with joblib.parallel_backend("dask", scatter=[X, y]):
        with pytest.raises(LOST_WORK):
            grid_search.fit(X, y)
    # No partial cv_results_ masquerading as a finished search.
    assert not hasattr(grid_search, "cv_results_")


def test_a_worker_killed_mid_search_fails_the_search_or_leaves_complete_results(
        fragile_client, digits_raw):
    X, y = digits_raw
    serial = search(epochs=30).fit(X, y)
    fragile_client.wait_for_workers(2)
    started = distributed.Event(BUSY, client=fragile_client)
    release = distributed.Event(GO_ON, client=fragile_client)
    killed = []

    def kill_the_busy_worker():
        try:
            if started.wait(timeout=RELEASE_TIMEOUT):
                pid = distributed.Variable(BUSY, client=fragile_client).get(timeout=10)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        finally:
            # The other waiting fits, and the killed one's retry, go on.
            release.set()

    waiting = _WaitsOnWorker(hidden_layer_sizes=(10,), random_state=0)
    grid_search = search(epochs=30, estimator=waiting)
    killer = threading.Thread(target=kill_the_busy_worker)
    with joblib.parallel_backend("dask", scatter=[X, y]):
        killer.start()
        try:
            grid_search.fit(X, y)
        except LOST_WORK:
            assert not hasattr(grid_search, "cv_results_")
        else:
            # Dask re-ran the lost fits elsewhere: every score must be there.
            assert_same_results(grid_search, serial)
        finally:
            killer.join()
    assert killed, "no fit signalled that it had started on a worker"
