import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import kernels
from fastnn.kernels import predict

from .conftest import COST_NAMES, codes, twin_networks


@pytest.mark.parametrize("cost", COST_NAMES)
def test_predict_outputs_match_reference_feedforward(digits, cost):
    X, _ = digits
    params, layout, net = twin_networks([64, 25, 10], cost, "tanh", seed=0)
    hidden, out, _ = codes(cost, "tanh")
    ours = kernels.predict_outputs(X, params, layout, hidden, out, False)
    np.testing.assert_allclose(ours, net.feedforward(X), rtol=1e-12, atol=1e-15)


def test_normalised_outputs_are_probabilities(digits):
    X, _ = digits
    params, layout, _ = twin_networks([64, 25, 10], seed=1)
    proba = kernels.predict_outputs(X, params, layout, 0, 0, True)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_predict_outputs_are_identical_for_any_thread_count(digits):
    X, _ = digits
    params, layout, _ = twin_networks([64, 25, 10], seed=2)
    runs = [kernels.predict_outputs(X, params, layout, 0, 0, True, n_threads)
            for n_threads in (1, 2, 3, 8)]
    for run in runs[1:]:
        assert np.array_equal(runs[0], run)


@pytest.mark.parametrize("n, n_threads", [(0, 2), (1, 2), (256, 2), (257, 2), (1797, 2),
                                          (1797, 3), (10_000, 8)])
def test_row_chunks_are_whole_blocks_covering_every_row_once(n, n_threads):
    chunks = predict.row_chunks(n, n_threads)
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    assert all(r0 % predict.BLOCK == 0 and r1 > r0 for r0, r1 in chunks) or n == 0
    assert len(chunks) == max(1, min(n_threads, -(-n // predict.BLOCK)))


def test_threads_share_the_rows_of_a_csr_matrix(digits):
    X, _ = digits
    params, layout, _ = twin_networks([64, 25, 10], seed=3)
    X_csr = sp.csr_matrix(X)
    csr = kernels.CSR(X_csr.data, X_csr.indices, X_csr.indptr)
    one = kernels.predict_outputs(csr, params, layout, 0, 0, False, 1)
    np.testing.assert_array_equal(kernels.predict_outputs(csr, params, layout, 0, 0, False, 3),
                                  one)
    np.testing.assert_allclose(one, kernels.predict_outputs(X, params, layout, 0, 0, False),
                               rtol=1e-12)
