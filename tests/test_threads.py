"""Which threads a fit uses: BLAS on one thread for training, numba's for prediction."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from threadpoolctl import ThreadpoolController

from fastnn import FastNN, kernels
from fastnn.estimators import _threads


def _blas_threads():
    return sorted({lib["num_threads"] for lib in
                   ThreadpoolController().select(user_api="blas").info()})


def test_a_fit_trains_with_blas_on_one_thread_and_restores_it(monkeypatch):
    # With two, OpenBLAS splits some products differently and the model would
    # change in its last bits with the thread count.
    seen = []
    train_epoch = kernels.train_epoch

    def spy(*args):
        seen.append(_blas_threads())
        return train_epoch(*args)

    monkeypatch.setattr(kernels, "train_epoch", spy)
    before = _blas_threads()
    X, y = load_digits(return_X_y=True)
    FastNN(hidden_layer_sizes=(16,), epochs=2, mini_batch_size=64, n_threads=2,
           random_state=0).fit(X / 16, y)
    assert seen == [[1], [1]]
    assert _blas_threads() == before


def test_blas_threads_restores_the_previous_limit():
    before = _blas_threads()
    with _threads.blas_threads(1):
        assert _blas_threads() == [1]
    assert _blas_threads() == before


def test_any_thread_count_predicts_bitwise_the_same_outputs():
    X, y = load_digits(return_X_y=True)
    X = np.repeat(X / 16, 3, axis=0)  # several blocks of rows
    clf = FastNN(hidden_layer_sizes=(16,), epochs=1, random_state=0).fit(X, np.repeat(y, 3))
    outputs = []
    for n_threads in (1, 2, 3):
        clf.set_params(n_threads=n_threads)
        outputs.append(clf.predict_proba(X))
    assert np.array_equal(outputs[0], outputs[1])
    assert np.array_equal(outputs[0], outputs[2])


@pytest.mark.parametrize("first", ["fit", "prediction"])
def test_a_two_thread_prediction_never_lifts_a_concurrent_fits_one_thread(first):
    # Blocks of concurrent fits and predictions open and close in any order.
    before = _blas_threads()
    blocks = {"fit": _threads.blas_threads(1), "prediction": _threads.blas_threads(2)}
    second = "prediction" if first == "fit" else "fit"
    blocks[first].__enter__()
    assert _blas_threads() == ([1] if first == "fit" else [2])
    blocks[second].__enter__()
    assert _blas_threads() == [1]
    blocks["prediction"].__exit__(None, None, None)
    assert _blas_threads() == [1]
    blocks["fit"].__exit__(None, None, None)
    assert _blas_threads() == before
