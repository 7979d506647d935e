"""How many numba threads a fit or a prediction uses, and how it splits work.

The estimators call ``numba_threads(n_threads)`` around every kernel call and
``n_chunks`` to choose ``train_epoch``'s serial or parallel path.

**The threads rule** (``n_threads=None``): inside a worker thread of an outer
parallel level (joblib's threading backend, a Dask worker's task) one thread,
because that level already runs one job per core or per worker slot;
everywhere else the smallest of

- numba's own setting for the calling thread (``numba.set_num_threads``,
  ``NUMBA_NUM_THREADS``; joblib's loky workers get ``cores // n_jobs`` there),
- the OpenMP limit of the calling thread (``threadpoolctl.threadpool_limits``,
  ``OMP_NUM_THREADS``; Dask's nanny starts workers with ``OMP_NUM_THREADS=1``).

An explicit ``n_threads=k`` always wins (capped at ``NUMBA_NUM_THREADS``).

**The threading layer** is numba's to choose and the user's to override
(``NUMBA_THREADING_LAYER``): fastnn never sets it, because that would change
every other numba library in the process.  It guards instead against the two
hazards of the layers it may be given.  ``workqueue`` aborts the whole process
when two Python threads launch parallel kernels at once, so fastnn's kernel
calls take turns under that layer.  GNU OpenMP (``omp``, numba's default on
Linux without TBB) cannot run in a process ``fork()``-ed after it started:
numba kills such a child with SIGTERM, and a ``multiprocessing.Pool`` then
waits forever for its task, so fastnn raises a clear error in the child first.
"""
import os
import sys
import threading
from contextlib import contextmanager

import numba

# Below this many samples per mini-batch the two thread launches per
# mini-batch cost about what they save (784-30-10 on 2 cores: at m = 10 the
# serial and 2-thread epochs were within this machine's noise).
PARALLEL_MIN_BATCH = 32

# Held around fastnn's kernel calls only under the workqueue layer.  Re-entrant
# because a fit's epoch loop may call a prediction inside its own block.
_WORKQUEUE_TURN = threading.RLock()

_FORK_ERROR = (
    "fastnn cannot run kernels in this process: it was fork()-ed from a process "
    "that had already started numba's 'omp' threading layer (GNU OpenMP), which "
    "does not survive fork() (numba would kill this process and a "
    "multiprocessing pool would wait for it forever).  Start workers with "
    "multiprocessing.get_context('forkserver') or 'spawn', use joblib's default "
    "'loky' backend, or run the parent with the fork-safe TBB layer "
    "(NUMBA_THREADING_LAYER=tbb, needs Intel TBB)."
)
_forked_after_gnu_openmp = False

_openmp_controller = None
_openmp_controller_lock = threading.Lock()


def n_chunks(n_threads, mini_batch_size):
    """``train_epoch``'s n_chunks: 1 (serial) below PARALLEL_MIN_BATCH, else one per thread.

    One piece per thread, not more: every piece of a sweep walks all the rows
    of w for its columns, so extra pieces only repeat that walk.
    """
    parallel = n_threads > 1 and mini_batch_size >= PARALLEL_MIN_BATCH
    return n_threads if parallel else 1


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


def effective_n_threads(n_threads, numba_setting=None):
    """The threads rule of this module's docstring, as a number >= 1."""
    if numba_setting is None:
        numba_setting = numba.get_num_threads()
    if n_threads is not None:
        return max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
    if _in_outer_worker_thread():
        return 1
    return max(1, min(numba_setting, _openmp_limit()))


def _in_outer_worker_thread():
    """True in a joblib threading-backend worker or in a Dask worker's task."""
    if threading.current_thread() is threading.main_thread():
        # loky workers run tasks in their main thread; their limits are in the
        # environment, which the caller reads.
        return False
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if getattr(backend, "nesting_level", 0) >= 1:
        return True
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            distributed.get_worker()
            return True
        except ValueError:
            pass
    return False


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
