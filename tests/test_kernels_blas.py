"""``kernels.blas.gemm``: C ← α op(A) op(B) + β C against NumPy, and what it refuses."""
import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from fastnn.kernels.blas import gemm


@numba.njit
def _gemm(trans_a, trans_b, alpha, a, b, beta, c):
    gemm(trans_a, trans_b, alpha, a, b, beta, c)


def _operands(rng, dtype, trans_a, trans_b, m, k, n):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b, rng.standard_normal((m, n)).astype(dtype)


# Shapes a fit meets: a book mini-batch (10 × 784 × 30), a single sample,
# float32 layers of 32 neurons and more, odd sizes that leave vector remainders.
SHAPES = [(10, 784, 30), (1, 64, 1), (100, 784, 100), (7, 13, 33), (33, 5, 64)]


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_gemm_matches_numpy(dtype, rtol, trans_a, trans_b, m, k, n):
    rng = np.random.default_rng(m * k + n)
    a, b, c = _operands(rng, dtype, trans_a, trans_b, m, k, n)
    expected = -0.25 * ((a.T if trans_a else a) @ (b.T if trans_b else b)) + 0.75 * c
    _gemm(trans_a, trans_b, -0.25, a, b, 0.75, c)
    assert c.dtype == dtype
    np.testing.assert_allclose(c, expected, rtol=rtol, atol=rtol * np.sqrt(k))


def test_beta_zero_ignores_what_c_held():
    rng = np.random.default_rng(0)
    a, b, c = _operands(rng, np.float64, False, False, 4, 3, 5)
    c[:] = np.nan
    _gemm(False, False, 1.0, a, b, 0.0, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-12)


def test_the_book_update_is_one_call():
    # w ← (1 − ηλ/n) w − (η/m) aᵀδ, worked for η = 0.5, λ = 5, n = 100, m = 2.
    rng = np.random.default_rng(1)
    a, delta, w = rng.random((2, 3)), rng.random((2, 4)), rng.random((3, 4))
    expected = (1 - 0.5 * 5 / 100) * w - (0.5 / 2) * a.T @ delta
    _gemm(True, False, -0.5 / 2, a, delta, 1 - 0.5 * 5 / 100, w)
    np.testing.assert_allclose(w, expected, rtol=1e-12)


@pytest.mark.parametrize("bad,why", [
    (lambda a: a.T, "C-contiguous"),                 # Fortran order
    (lambda a: a.reshape(-1), "2-D"),                # rank 1
    (lambda a: a.astype(np.float32), "one dtype"),   # mixed dtypes
])
def test_arrays_of_the_wrong_layout_rank_or_dtype_are_refused_at_typing(bad, why):
    a = np.ones((4, 4))
    with pytest.raises(TypingError, match=why):
        _gemm(False, False, 1.0, bad(a), np.ones((4, 4)), 0.0, np.ones((4, 4)))


def test_a_read_only_output_is_refused_at_typing():
    c = np.ones((2, 2))
    c.flags.writeable = False
    with pytest.raises(TypingError, match="writable"):
        _gemm(False, False, 1.0, np.ones((2, 2)), np.ones((2, 2)), 0.0, c)


def test_integer_arrays_are_refused_at_typing():
    with pytest.raises(TypingError, match="float32 or float64"):
        _gemm(False, False, 1, np.ones((2, 2), np.int64), np.ones((2, 2), np.int64), 0,
              np.ones((2, 2), np.int64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_block_of_ws_rows_is_updated_from_a_block_of_as_columns(dtype):
    # w[10:35] ← 0.5 w[10:35] − a[:, 10:35]ᵀ d: one thread's share of the update.
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 50)).astype(dtype)
    w = rng.standard_normal((50, 30)).astype(dtype)
    d = rng.standard_normal((40, 30)).astype(dtype)
    expected = w.copy()
    expected[10:35] = 0.5 * w[10:35] - a[:, 10:35].T @ d
    _block_update(a, d, w, 10, 35)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(w, expected, rtol=tol, atol=tol * 10)


@numba.njit
def _block_update(a, d, w, i0, i1):
    gemm(True, False, -1.0, a[:, i0:i1], d, 0.5, w[i0:i1])


def test_a_block_of_rows_and_columns_multiplies_into_a_block():
    rng = np.random.default_rng(4)
    a, w = rng.standard_normal((40, 50)), rng.standard_normal((50, 30))
    z = np.zeros((40, 30))
    _block_product(a, w, z)
    expected = np.zeros((40, 30))
    expected[:, 5:20] = a[:, 10:35] @ w[10:35, 5:20]
    np.testing.assert_allclose(z, expected, rtol=1e-12, atol=1e-12)


@numba.njit
def _block_product(a, w, z):
    gemm(False, False, 1.0, a[:, 10:35], w[10:35, 5:20], 0.0, z[:, 5:20])


def test_a_strided_block_is_a_value_error_when_it_runs():
    with pytest.raises(ValueError, match="not evenly spaced runs of adjacent numbers"):
        _gemm(False, False, 1.0, np.ones((4, 8))[:, ::2], np.ones((4, 4)), 0.0, np.ones((4, 4)))
