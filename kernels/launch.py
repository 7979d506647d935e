"""What opening a parallel region costs: a probe for deciding whether threads pay.

The cost depends on numba's threading layer and on how busy the machine is
far more than on the work: idle OpenMP workers spin and start in about a
microsecond, TBB's and workqueue's sleep and are woken, and a worker that
another process has pushed off its core makes every region wait for it
(``fastnn._threads.region_cost`` measures it).
"""
from numba import prange

from ._jit import jit


@jit(parallel=True)
def _region(counts):
    for t in prange(counts.shape[0]):
        counts[t] += 1


@jit()
def empty_regions(counts, k):
    """Open k parallel regions of counts.shape[0] iterations that only count, one
    after another from compiled code, as an epoch opens them."""
    for _ in range(k):
        _region(counts)
