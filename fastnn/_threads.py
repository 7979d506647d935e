"""How many numba threads a fit or a prediction uses, and how it splits work.

The estimators call ``numba_threads(n_threads)`` around every kernel call and
``n_chunks`` to choose ``train_epoch``'s serial or parallel path.
"""
from contextlib import contextmanager

import numba

# Below this many samples per mini-batch the two thread launches per
# mini-batch cost about what they save (784-30-10 on 2 cores: at m = 10 the
# serial and 2-thread epochs were within this machine's noise).
PARALLEL_MIN_BATCH = 32


def n_chunks(n_threads, mini_batch_size):
    """``train_epoch``'s n_chunks: 1 (serial) below PARALLEL_MIN_BATCH, else a few per thread."""
    parallel = n_threads > 1 and mini_batch_size >= PARALLEL_MIN_BATCH
    return 4 * n_threads if parallel else 1


@contextmanager
def numba_threads(n_threads):
    """Run with ``n_threads`` numba threads in this thread only, then restore."""
    before = numba.get_num_threads()
    n = before if n_threads is None else min(int(n_threads), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(before)
