"""``kernels.prefetch``: cache hints that change nothing, refuse what they
cannot address at typing, and never touch memory past an array's end."""
import platform

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit
from numba.core.errors import TypingError

from fastnn.kernels.prefetch import prefetch, prefetch_far
from fastnn.kernels.sparse import CSR
from fastnn.kernels.steps import prefetch_rows


def _hinting(hint):
    @njit
    def hint_every(a, past):
        for i in range(a.size + past):
            hint(a, i)
        return a.sum()

    return hint_every


HINTS = {"prefetch": _hinting(prefetch), "prefetch_far": _hinting(prefetch_far)}


@pytest.mark.parametrize("hint", HINTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("shape", [(7,), (3, 5)])
def test_hints_change_no_value_in_any_dtype_or_rank(hint, dtype, shape):
    a = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
    before = a.copy()
    assert HINTS[hint](a, 0) == before.sum()
    np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("hint", [prefetch, prefetch_far])
def test_an_index_past_the_end_or_negative_is_skipped_not_dereferenced(hint):
    # An empty array's data pointer may be anything: any dereference would be a bug.
    assert _hinting(hint)(np.empty(0), 1_000_000) == 0.0

    @njit
    def negative(a):
        hint(a, -1)
        return a[0]

    assert negative(np.ones(3)) == 1.0


@pytest.mark.parametrize("hint", HINTS)
def test_a_read_only_array_takes_hints(hint):
    a = np.arange(10.0)
    a.flags.writeable = False
    assert HINTS[hint](a, 3) == 45.0


@pytest.mark.parametrize("hint", HINTS)
def test_a_strided_array_is_refused_at_typing(hint):
    with pytest.raises(TypingError, match=f"{hint}: a must be a C-contiguous"):
        HINTS[hint](np.arange(10.0)[::2], 0)


@pytest.mark.parametrize("hint", [prefetch, prefetch_far])
def test_a_float_index_is_refused_at_typing(hint):
    @njit
    def float_index(a):
        hint(a, 1.5)

    with pytest.raises(TypingError, match="i must be an integer"):
        float_index(np.ones(3))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="reads x86 assembly (prefetcht0, prefetcht2)")
def test_the_far_hint_is_a_prefetch_into_l2_and_the_near_one_into_l1():
    @njit
    def both(a):
        prefetch(a, 0)
        prefetch_far(a, 1)

    both(np.ones(4))
    asm = next(iter(both.inspect_asm().values()))
    assert "prefetcht0" in asm and "prefetcht2" in asm


@njit
def _hint_mini_batches(csr, Y, outputs, costs, order, mbs):
    for start in range(0, order.shape[0] + mbs, mbs):
        prefetch_rows(csr, Y, outputs, costs, order, start, mbs)


def test_hinting_csr_mini_batches_changes_nothing_at_empty_and_last_rows():
    """Every line of each row is hinted, and the last: empty rows and the
    matrix's last non-zero are where an off-by-one would read past the end."""
    dense = np.random.default_rng(0).random((9, 40), dtype=np.float32)
    dense[dense < 0.7] = 0.0
    dense[[0, 4]] = 0.0
    X = sp.csr_matrix(dense)
    X.indices = X.indices.astype(np.int64)
    before = X.copy()
    Y, outputs, costs = np.ones((9, 3)), np.zeros((9, 3)), np.zeros(9)
    order = np.array([8, 0, 4, 3, 1, 2, 7, 6, 5], dtype=np.int64)
    _hint_mini_batches(CSR(X.data, X.indices, X.indptr), Y, outputs, costs, order, 2)
    assert (X != before).nnz == 0 and not outputs.any() and not costs.any()
