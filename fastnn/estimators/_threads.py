"""How many threads a fit or a prediction uses.

The estimators call ``numba_threads(n_threads)`` and ``blas_threads(1)``
around every kernel call.  Training runs BLAS on one thread (``blas_threads``
says why); its threads share a large layer's products in fixed blocks
(``kernels/split.py``): the caller's thread and plain Python helpers that
enter the epoch once (``kernels/shared.py``; a CSR matrix's first layer runs
on one of them).  Prediction shares its rows between Python threads
(``kernels/predict.py``), each with BLAS on one.  No kernel opens a numba
parallel region; numba's thread setting still counts in the rule below.

**The threads rule** (``n_threads=None``): the smallest of

- numba's own setting for the calling thread (``numba.set_num_threads``,
  ``NUMBA_NUM_THREADS``; joblib's loky workers get ``cores // n_jobs`` there),
- the OpenMP limit of the calling thread (``threadpoolctl.threadpool_limits``,
  ``OMP_NUM_THREADS``; Dask's nanny starts workers with ``OMP_NUM_THREADS=1``),
- the share of an outer parallel level the call runs in, where ``cores`` is
  ``NUMBA_NUM_THREADS`` (loky sets it to ``cores // n_jobs`` in its workers)
  at most ``joblib.cpu_count()`` (which honours affinity and cgroup quotas):

  * in a Dask worker's task, ``cores // t``, with ``t`` the threads of all the
    Dask workers in this process (``Worker(nthreads=...)``).  Workers in other
    processes on the machine are not seen: the nanny's ``OMP_NUM_THREADS=1``
    (the limit above) is what keeps them apart, unless the cluster changes
    ``distributed.nanny.pre-spawn-environ``;
  * in a job of joblib's threading backend, ``cores // k``, with ``k`` the
    threads of the ``multiprocessing.pool.ThreadPool`` that runs it (joblib's
    effective ``n_jobs``);
  * in any other thread that joblib runs as a nested job, 1: the outer level's
    size cannot be known there, and one thread never oversubscribes.

A call in the main thread (a script, a loky worker) has no outer share: its
limits are numba's and OpenMP's, which loky sets in the worker's environment.
An explicit ``n_threads=k`` always wins (capped at ``NUMBA_NUM_THREADS``).

**The threading layer** is numba's default order, ``tbb`` > ``omp`` >
``workqueue``, with TBB made available rather than forced.  TBB is the layer
fastnn wants: of the runtimes a Linux install has, it is the only one that is
both thread-safe (fits launched from several Python threads at once) and
fork-safe (a ``fork()``-ed child can run kernels); GNU OpenMP is only the
former, ``workqueue`` neither.  It is not a Python dependency because no
wheel makes it loadable: pip's ``tbb`` wheel puts ``libtbb.so.12`` in
``<venv>/lib``, which the dynamic loader does not search and numba's
``tbbpool`` has no RUNPATH for (numba#6108), so numba falls back to ``omp``
unless ``LD_LIBRARY_PATH`` names that folder.  Debian's ``libtbb12`` (2021.8;
numba needs >= 2021.6) and conda's ``tbb`` are found as they are: CI installs
``libtbb12`` and the README recommends it.  fastnn never sets
``NUMBA_THREADING_LAYER`` or ``numba.config.THREADING_LAYER`` itself: the
layer is chosen once per process for every numba library in it, so it is the
user's choice, not a library's.

Without TBB fastnn guards the hazards of the other two layers.  ``workqueue``
aborts the whole process when two Python threads launch parallel kernels at
once, so fastnn's kernel calls take turns under that layer.  GNU OpenMP
(``omp``, numba's default on Linux without TBB) cannot run in a process
``fork()``-ed after it started: numba kills such a child with SIGTERM, and a
``multiprocessing.Pool`` then waits forever for its task, so fastnn raises a
clear error in the child first.
"""
import functools
import multiprocessing.pool
import os
import sys
import threading
from contextlib import contextmanager

import numba

# Held around fastnn's kernel calls only under the workqueue layer.  Re-entrant
# because a fit's epoch loop may call a prediction inside its own block.
_WORKQUEUE_TURN = threading.RLock()

_FORK_ERROR = (
    "fastnn cannot run kernels in this process: it was fork()-ed from a process "
    "that had already started numba's 'omp' threading layer (GNU OpenMP), which "
    "does not survive fork() (numba would kill this process and a "
    "multiprocessing pool would wait for it forever).  Start workers with "
    "multiprocessing.get_context('forkserver') or 'spawn', use joblib's default "
    "'loky' backend, or install Intel TBB (Debian: apt-get install libtbb12; "
    "conda install tbb), whose fork-safe layer numba then picks by default."
)
_forked_after_gnu_openmp = False

_openmp_controller = None
_openmp_controller_lock = threading.Lock()


@contextmanager
def numba_threads(n_threads):
    """Run with the rule's number of numba threads in this thread only, then restore.

    Parameters
    ----------
    n_threads : int or None
        Threads asked for; None applies the module's threads rule.

    Yields
    ------
    int
        The number of threads the kernels run with.
    """
    if _forked_after_gnu_openmp:
        raise RuntimeError(_FORK_ERROR)
    # Also starts numba's threading layer, so ``threading_layer()`` is known.
    before = numba.get_num_threads()
    n = effective_n_threads(n_threads, before)
    take_turns = numba.threading_layer() == "workqueue"
    if take_turns:
        _WORKQUEUE_TURN.acquire()
    # numba's thread count is thread-local: this changes nothing for other threads.
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(before)
        if take_turns:
            _WORKQUEUE_TURN.release()


_blas_lock = threading.Lock()
_blas_controller = None
_blas_requests: list = []  # the n of every blas_threads block open now, in any thread
_blas_applied = None       # the limit in force, None when none is
_blas_original = None      # threadpoolctl's limiter holding BLAS's own setting


@contextmanager
def blas_threads(n):
    """BLAS (which does the kernels' matrix products) on at most n threads, then as before.

    Training asks for one: on two, OpenBLAS splits some products differently
    and the model changes in its last bits, while a model must not depend on
    the thread count.  BLAS's setting is process-wide, so blocks open at once
    in several threads (``backend="threading"`` fits) share one limit: the
    smallest any of them asks for, so a prediction on two threads never lifts
    a concurrent fit's one, and BLAS's own setting comes back when the last
    block closes.  threadpoolctl's controller is built once (~4 ms); each
    change of the limit then costs ~30 µs.
    """
    with _blas_lock:
        _blas_requests.append(n)
        _apply_blas_limit()
    try:
        yield
    finally:
        with _blas_lock:
            _blas_requests.remove(n)
            _apply_blas_limit()


def _apply_blas_limit():
    """Make BLAS's limit min(_blas_requests), or its own setting if none; under _blas_lock."""
    global _blas_controller, _blas_applied, _blas_original
    target = min(_blas_requests) if _blas_requests else None
    if target == _blas_applied:
        return
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    if target is None:
        _blas_original.restore_original_limits()
        _blas_original = None
    elif _blas_original is None:
        _blas_original = _blas_controller.limit(limits=target, user_api="blas")
    else:
        _blas_controller.limit(limits=target, user_api="blas")
    _blas_applied = target


def effective_n_threads(n_threads, numba_setting=None):
    """The threads rule of this module's docstring, as a number >= 1."""
    if numba_setting is None:
        numba_setting = numba.get_num_threads()
    if n_threads is not None:
        return max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
    return max(1, min(numba_setting, _openmp_limit(), _outer_share()))


def _outer_share():
    """This thread's share of the cores under an outer parallel level, or a big number."""
    if threading.current_thread() is threading.main_thread():
        # loky workers run tasks in their main thread; their limits are in the
        # environment, which the caller reads.
        return sys.maxsize
    dask_threads = _dask_worker_threads()
    if dask_threads is not None:
        return max(1, _cores() // dask_threads)
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if (getattr(backend, "nesting_level", 0) or 0) < 1:
        return sys.maxsize
    pool_threads = _thread_pool_size()
    return max(1, _cores() // pool_threads) if pool_threads else 1


def _dask_worker_threads():
    """Threads of all the Dask workers in this process, if this thread runs a Dask task."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        worker = distributed.get_worker()
    except ValueError:
        return None
    # A LocalCluster(processes=False) runs several workers in one process.
    workers = [w for w in getattr(type(worker), "_instances", ()) if _is_live(w)] or [worker]
    return sum(max(1, _worker_nthreads(w)) for w in workers)


def _worker_nthreads(worker):
    state = getattr(worker, "state", worker)
    return int(getattr(state, "nthreads", 1) or 1)


def _is_live(worker):
    status = getattr(getattr(worker, "status", None), "name", "running")
    return status in ("init", "starting", "running", "paused", "closing_gracefully")


def _thread_pool_size():
    """Threads of the ``multiprocessing.pool.ThreadPool`` running this thread, or None.

    joblib's threading backend runs its jobs in such a pool and keeps no link
    from a job to its ``n_jobs``; the pool's worker threads are found by the
    task queue they were started with (``Thread._args[0]``), which every
    worker of one pool shares.  Anything unexpected gives None, hence 1 thread.
    """
    worker = multiprocessing.pool.worker
    me = threading.current_thread()
    try:
        if getattr(me, "_target", None) is not worker:
            return None
        queue = me._args[0]
        return sum(1 for thread in threading.enumerate()
                   if getattr(thread, "_target", None) is worker
                   and thread._args[0] is queue)
    except (AttributeError, IndexError, TypeError):
        return None


def _cores():
    """The cores an outer level shares out: numba's pool, at most the usable cores."""
    return max(1, min(numba.config.NUMBA_NUM_THREADS, _usable_cores()))


@functools.cache
def _usable_cores():
    """Cores this process may use (affinity, cgroup quotas), as joblib counts them (~0.3 ms)."""
    from joblib import cpu_count

    return cpu_count()


def _openmp_limit():
    """This thread's OpenMP thread limit (threadpoolctl or OMP_NUM_THREADS), or a big number."""
    controller = _controller()
    limits = [lib.num_threads for lib in getattr(controller, "lib_controllers", [])]
    if limits:
        return min(limits)
    # No OpenMP runtime loaded (tbb or workqueue layer): the variable is all there is.
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else sys.maxsize


def _controller():
    """threadpoolctl's view of the loaded OpenMP runtimes, built once (it costs ~5 ms)."""
    global _openmp_controller
    if _openmp_controller is None:
        with _openmp_controller_lock:
            if _openmp_controller is None:
                try:
                    from threadpoolctl import ThreadpoolController

                    _openmp_controller = ThreadpoolController().select(user_api="openmp")
                except Exception:  # an unknown platform must not stop a fit
                    _openmp_controller = False
    return _openmp_controller


def _note_fork_in_child():
    """Runs in every fork()-ed child: was GNU OpenMP already started in the parent?"""
    global _forked_after_gnu_openmp
    try:
        layer = numba.threading_layer()
    except ValueError:  # the parent never started a layer: the child starts its own
        return
    if layer == "omp":
        from numba.np.ufunc import omppool

        # Intel's and Microsoft's OpenMP runtimes survive fork(); GNU's does not.
        if getattr(omppool, "openmp_vendor", "GNU") == "GNU":
            _forked_after_gnu_openmp = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_fork_in_child)
