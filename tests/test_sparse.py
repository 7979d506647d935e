"""scipy.sparse in, everywhere: the estimators take CSR as it is, convert
CSC/COO/sparse arrays once, densify nothing, and train the model dense
input trains; dense input with few non-zeros goes through the sparse layer,
sparse input with many through BLAS, one mini-batch densified at a time."""
import numpy as np
import pytest
import scipy.sparse as sp

from fastnn import FastNN, FastNNRegressor, kernels
from fastnn.estimators import _sparse

FAST = dict(epochs=3, random_state=0)
FORMATS = {
    "csr_matrix": sp.csr_matrix, "csc_matrix": sp.csc_matrix, "coo_matrix": sp.coo_matrix,
    "csr_array": sp.csr_array, "coo_array": sp.coo_array,
}


@pytest.fixture(scope="module")
def data(digits):
    """600 digits with their bottom five rows of pixels blanked: 19 % non-zeros,
    so that sparse input takes the sparse layer (below ``SPARSE_BELOW``)."""
    X, y = digits
    X = X[:600].copy()
    X[:, 24:] = 0.0
    return X, y[:600]


def _params(model):
    return np.concatenate([a.ravel() for a in model.coefs_ + model.intercepts_])


@pytest.fixture(scope="module")
def dense_model(data):
    return FastNN(**FAST).fit(*data)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_sparse_format_trains_the_dense_model(data, dense_model, fmt):
    X, y = data
    model = FastNN(**FAST).fit(FORMATS[fmt](X), y)
    np.testing.assert_allclose(_params(model), _params(dense_model), rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.history_["train_cost"], dense_model.history_["train_cost"],
                               rtol=1e-12)


def test_predict_proba_and_score_take_sparse_input(data, dense_model):
    X, y = data
    Xs = sp.csr_matrix(X)
    np.testing.assert_allclose(dense_model.predict_proba(Xs), dense_model.predict_proba(X),
                               rtol=1e-12)
    np.testing.assert_array_equal(dense_model.predict(sp.csc_matrix(X)), dense_model.predict(X))
    assert dense_model.score(Xs, y) == dense_model.score(X, y)


def test_eval_set_validation_fraction_and_sample_weight_take_sparse_input(data):
    X, y = data
    weights = np.random.default_rng(0).random(len(y)) + 0.5
    fits = []
    for make in (np.asarray, sp.csr_matrix):
        model = FastNN(**FAST, validation_fraction=0.2).fit(make(X[:500]), y[:500], weights[:500])
        model2 = FastNN(**FAST).fit(make(X[:500]), y[:500], eval_set=(make(X[500:]), y[500:]))
        fits.append((model.history_["eval_accuracy"], model2.history_["eval_cost"]))
    np.testing.assert_allclose(fits[1][0], fits[0][0])
    np.testing.assert_allclose(fits[1][1], fits[0][1], rtol=1e-12)


def test_partial_fit_and_warm_start_take_sparse_input(data, dense_model):
    X, y = data
    Xs = sp.csr_matrix(X)
    model = FastNN(random_state=0)
    for _ in range(3):
        model.partial_fit(Xs, y, classes=np.arange(10))
    np.testing.assert_allclose(_params(model), _params(dense_model), rtol=0, atol=1e-12)
    warm = FastNN(epochs=1, random_state=0, warm_start=True)
    for _ in range(3):
        warm.fit(Xs, y)
    np.testing.assert_allclose(_params(warm), _params(dense_model), rtol=0, atol=1e-12)


def test_float32_sparse_input_trains_a_float32_model(data):
    X, y = data
    model = FastNN(**FAST).fit(sp.csr_matrix(X.astype(np.float32)), y)
    assert model.coefs_[0].dtype == np.float32
    assert model.predict_proba(sp.csr_matrix(X)).dtype == np.float32


def test_the_regressor_takes_sparse_input(data):
    X, _ = data
    Y = X[:, 20:23]
    dense = FastNNRegressor(**FAST).fit(X, Y)
    sparse = FastNNRegressor(**FAST).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-10)


def test_unsorted_and_duplicate_indices_train_as_their_canonical_matrix(data, dense_model):
    X, y = data
    A = sp.csr_matrix(X)
    # Each row lists its non-zeros twice, halved, in reverse column order.
    counts = np.diff(A.indptr)
    indptr = np.r_[0, np.cumsum(2 * counts)]
    indices = np.concatenate([np.tile(A.indices[a:b][::-1], 2)
                              for a, b in zip(A.indptr[:-1], A.indptr[1:])])
    values = np.concatenate([np.tile(A.data[a:b][::-1] / 2, 2)
                             for a, b in zip(A.indptr[:-1], A.indptr[1:])])
    messy = sp.csr_matrix((values, indices, indptr), shape=X.shape)
    assert not messy.has_canonical_format
    model = FastNN(**FAST).fit(messy, y)
    np.testing.assert_allclose(_params(model), _params(dense_model), rtol=0, atol=1e-12)


def test_int64_indices_are_taken_as_int32_when_they_fit(data, dense_model):
    X, y = data
    A = sp.csr_matrix(X)
    wide = A.copy()
    # scipy's constructor would pick int32 again: set the arrays themselves.
    wide.indices, wide.indptr = A.indices.astype(np.int64), A.indptr.astype(np.int64)
    assert _sparse.canonical(wide).indices.dtype == np.int32
    model = FastNN(**FAST).fit(wide, y)
    np.testing.assert_allclose(_params(model), _params(dense_model), rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_in_sparse_data_are_refused(data, bad):
    X, y = data
    A = sp.csr_matrix(X)
    A.data[5] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        FastNN(**FAST).fit(A, y)


def test_empty_rows_are_samples_with_all_inputs_zero(data):
    X, y = data
    X = X.copy()
    X[::7] = 0.0
    dense = FastNN(**FAST).fit(X, y)
    sparse = FastNN(**FAST).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(_params(sparse), _params(dense), rtol=0, atol=1e-12)


def test_dense_input_with_few_non_zeros_trains_through_the_sparse_layer(data, epoch_calls,
                                                                         monkeypatch):
    X, y = data
    X = X.copy()
    X[:, 16:] = 0.0  # 12 % non-zeros
    FastNN(epochs=1, random_state=0).fit(X, y)
    assert epoch_calls[-1][0] is None and epoch_calls[-1][1] is not None
    through_sparse = FastNN(**FAST).fit(X, y)
    monkeypatch.setattr(_sparse, "SPARSE_BELOW", 0.0)
    FastNN(epochs=1, random_state=0).fit(X, y)
    assert epoch_calls[-1][1] is None
    through_dense = FastNN(**FAST).fit(X, y)
    np.testing.assert_allclose(_params(through_sparse), _params(through_dense), rtol=0,
                               atol=1e-12)


def test_the_dense_or_sparse_choice_reads_a_bounded_sample_of_rows(digits, epoch_calls,
                                                                   monkeypatch):
    X, y = digits
    X = X[:40].copy()
    X[::2] = 0.0  # half the rows empty,
    X[1::2] += 1 / 16  # the other half with every pixel non-zero: 50 % in all
    monkeypatch.setattr(_sparse, "DENSITY_ROWS", 20)  # every second row: the empty ones
    FastNN(epochs=1, random_state=0).fit(X, y[:40])
    assert epoch_calls[-1][1] is not None
    monkeypatch.setattr(_sparse, "DENSITY_ROWS", 40)  # every row
    FastNN(epochs=1, random_state=0).fit(X, y[:40])
    assert epoch_calls[-1][1] is None


def test_nothing_is_densified(tmp_path):
    # 2,000 × 2,000,000: 32 GB dense, 6,000 non-zeros here.
    rng = np.random.default_rng(0)
    n, d = 2_000, 2_000_000
    rows = np.repeat(np.arange(n), 3)
    X = sp.csr_matrix((rng.random(3 * n), (rows, rng.integers(0, d, 3 * n))), shape=(n, d))
    y = rng.integers(0, 2, n)
    model = FastNN(hidden_layer_sizes=(2,), epochs=1, random_state=0,
                   validation_fraction=0.1).fit(X, y)
    assert model.predict_proba(X).shape == (n, 2)
    assert model.score(sp.csc_matrix(X), y) > 0.0


def test_a_sparse_fit_resumes_from_its_checkpoint_to_the_uninterrupted_model(tmp_path, data):
    from .test_checkpoints import _interrupted_checkpoint

    X, y = data
    Xs = sp.csr_matrix(X)
    _interrupted_checkpoint(tmp_path, Xs, y)
    resumed = FastNN.resume(tmp_path, Xs, y)
    whole = FastNN(epochs=4, random_state=0).fit(Xs, y)
    np.testing.assert_array_equal(_params(resumed), _params(whole))


def test_the_checkpoint_fingerprint_covers_the_sparse_structure(tmp_path, data):
    from .test_checkpoints import _interrupted_checkpoint

    X, y = data
    Xs = sp.csr_matrix(X)
    _interrupted_checkpoint(tmp_path, Xs, y)
    moved = Xs.copy()
    moved.indices = (moved.indices + 1) % X.shape[1]  # same values, other columns
    moved.sort_indices()
    with pytest.raises(ValueError, match="other data"):
        FastNN.resume(tmp_path, moved, y)


@pytest.mark.slow
def test_a_fit_on_10_million_non_zeros_adds_at_most_1_5x_data_plus_model_to_the_peak_rss():
    # 200,000 × 100,000 at 0.05 %: 160 GB dense.  A fresh process, kernels
    # loaded before the peak is reset (bench/sparse.py, which reports it).
    from bench.sparse import measure_memory

    memory = measure_memory(n=200_000, n_features=100_000, density=0.0005)
    assert memory["nnz"] == 10_000_000
    assert memory["ratio"] <= 1.5, memory


def test_sparse_input_with_many_non_zeros_trains_the_bits_of_its_dense_form(digits, epoch_calls):
    X, y = digits  # 51 % non-zeros
    dense = FastNN(**FAST, n_threads=1).fit(X, y)
    sparse = FastNN(**FAST, n_threads=1).fit(sp.csr_matrix(X), y)
    X_in, csr_in, rows_in = epoch_calls[-1][:3]
    assert X_in is None and csr_in is None and isinstance(rows_in, kernels.DenseRows)
    assert np.array_equal(_params(sparse), _params(dense))


def test_sparse_input_with_few_non_zeros_takes_the_sparse_layer(data, epoch_calls):
    X, y = data
    FastNN(epochs=1, random_state=0).fit(sp.csr_matrix(X), y)
    X_in, csr_in, rows_in = epoch_calls[-1][:3]
    assert X_in is None and isinstance(csr_in, kernels.CSR) and rows_in is None
