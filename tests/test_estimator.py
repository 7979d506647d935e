import io
import pickle
import sys

import numba
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from fastnn import FastNN

from .test_reference import strict_numpy

FAST = dict(epochs=3, random_state=0)


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def test_learns_digits_to_95_percent_on_held_out_data(split):
    X_train, X_test, y_train, y_test = split
    clf = FastNN(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("cost", ["quadratic", "log_likelihood"])
def test_every_cost_learns(split, cost):
    X_train, X_test, y_train, y_test = split
    eta = 3.0 if cost == "quadratic" else 0.1
    clf = FastNN(cost=cost, eta=eta, epochs=10, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.9


def test_same_random_state_gives_an_identical_model(digits):
    X, y = digits
    a = FastNN(**FAST).fit(X, y)
    b = FastNN(**FAST).fit(X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(wa, wb)


@pytest.mark.parametrize("mini_batch_size", [10, 64])
def test_one_and_two_threads_give_bitwise_identical_models(digits, mini_batch_size):
    X, y = digits
    one = FastNN(n_threads=1, mini_batch_size=mini_batch_size, **FAST).fit(X, y)
    two = FastNN(n_threads=2, mini_batch_size=mini_batch_size, **FAST).fit(X, y)
    for w1, w2 in zip(one.coefs_ + one.intercepts_, two.coefs_ + two.intercepts_):
        assert np.array_equal(w1, w2)


def test_n_threads_leaves_numbas_setting_unchanged(digits):
    X, y = digits
    before = numba.get_num_threads()
    FastNN(n_threads=1, **FAST).fit(X, y).predict(X)
    assert numba.get_num_threads() == before


def test_fitted_attributes_have_sklearns_shapes(digits):
    X, y = digits
    clf = FastNN(hidden_layer_sizes=(20, 15), **FAST).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(64, 20), (20, 15), (15, 10)]
    assert [b.shape for b in clf.intercepts_] == [(20,), (15,), (10,)]
    assert clf.n_features_in_ == 64 and clf.n_layers_ == 4 and clf.n_outputs_ == 10
    assert clf.n_iter_ == 3 and clf.out_activation_ == "sigmoid"


def test_string_labels_come_back_as_strings(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    clf = FastNN(**FAST).fit(X, names[y])
    assert set(clf.predict(X[:50])) <= set(names)
    assert list(clf.classes_) == sorted(names)


def test_predict_proba_rows_sum_to_one(digits):
    X, y = digits
    for cost in ("cross_entropy", "log_likelihood"):
        proba = FastNN(cost=cost, **FAST).fit(X, y).predict_proba(X)
        assert proba.shape == (len(X), 10)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)


def test_predict_is_the_argmax_of_predict_proba(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X, y)
    assert np.array_equal(clf.predict(X), clf.classes_[clf.predict_proba(X).argmax(axis=1)])


def test_float32_input_gives_a_float32_model(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X.astype(np.float32), y)
    assert all(w.dtype == np.float32 for w in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == np.float32


def test_integer_input_gives_a_float64_model(digits):
    X, y = digits
    clf = FastNN(**FAST).fit((X * 16).astype(np.int64), y)
    assert clf.coefs_[0].dtype == np.float64


def test_binary_problem_uses_two_output_neurons(digits):
    X, y = digits
    mask = y < 2
    clf = FastNN(**FAST).fit(X[mask], y[mask])
    assert clf.coefs_[-1].shape == (30, 2) and clf.score(X[mask], y[mask]) > 0.95


def test_pickle_round_trip_predicts_identically(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(clf.predict_proba(X), again.predict_proba(X))


def test_estimator_holds_no_numba_dispatcher(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X, y)
    for value in vars(clf).values():
        assert not isinstance(value, numba.core.dispatcher.Dispatcher)


def test_clone_keeps_parameters_and_drops_the_fit(digits):
    X, y = digits
    clf = FastNN(eta=0.1, lmbda=2.0, **FAST).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "coefs_")


def test_works_in_a_pipeline_with_cross_val_score(digits):
    X, y = digits
    scores = cross_val_score(make_pipeline(MinMaxScaler(), FastNN(**FAST)), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_grid_search_over_eta_and_lmbda_in_two_processes(digits):
    X, y = digits
    search = GridSearchCV(FastNN(**FAST), {"eta": [0.1, 0.5], "lmbda": [0.0, 1.0]}, cv=2,
                          n_jobs=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"eta", "lmbda"}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_verbose_prints_one_book_style_line_per_epoch(digits, capsys):
    X, y = digits
    FastNN(verbose=1, **FAST).fit(X[:300], y[:300], eval_set=(X[300:400], y[300:400]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 0: ") and " / 100, " in lines[0]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_2_adds_a_progress_bar_on_a_terminal_stderr(digits, capsys, monkeypatch):
    X, y = digits
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    FastNN(verbose=2, **FAST).fit(X[:300], y[:300])
    assert [line[:8] for line in capsys.readouterr().out.splitlines()] == [
        "Epoch 0:", "Epoch 1:", "Epoch 2:"]
    assert "FastNN: " in terminal.getvalue() and "/3 [" in terminal.getvalue()


def test_verbose_2_in_a_log_prints_the_epoch_lines_without_a_bar(digits, capsys):
    X, y = digits
    FastNN(verbose=2, **FAST).fit(X[:300], y[:300])  # capsys: stderr is not a terminal
    captured = capsys.readouterr()
    assert [line[:8] for line in captured.out.splitlines()] == ["Epoch 0:", "Epoch 1:",
                                                                "Epoch 2:"]
    assert captured.err == ""


# Bad input: a clear ValueError, and a failed fit leaves nothing behind.

@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_rejected(digits, bad_value):
    X, y = digits
    X = X.copy()
    X[3, 5] = bad_value
    with pytest.raises(ValueError, match="NaN|infinity"):
        FastNN(**FAST).fit(X, y)


def test_empty_X_is_rejected():
    with pytest.raises(ValueError, match="0 sample"):
        FastNN(**FAST).fit(np.empty((0, 4)), np.empty(0))


def test_X_and_y_of_different_lengths_are_rejected(digits):
    X, y = digits
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FastNN(**FAST).fit(X, y[:-1])


def test_a_single_class_is_rejected(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="at least 2 classes"):
        FastNN(**FAST).fit(X, np.zeros(len(X)))


def test_three_dimensional_X_is_rejected(digits):
    X, y = digits
    with pytest.raises(ValueError, match="dim 3"):
        FastNN(**FAST).fit(X.reshape(len(X), 8, 8), y)


def test_continuous_y_is_rejected(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="Unknown label type"):
        FastNN(**FAST).fit(X, np.linspace(0, 1, len(X)))


@pytest.mark.parametrize("params", [
    {"cost": "hinge"}, {"activation": "softsign"}, {"eta": 0}, {"eta": -1.0}, {"lmbda": -1},
    {"mini_batch_size": 0}, {"epochs": 0}, {"init": "xavier"}, {"n_threads": 0},
    {"hidden_layer_sizes": (30, 0)},
])
def test_bad_hyperparameters_are_rejected(digits, params):
    X, y = digits
    with pytest.raises(ValueError):
        FastNN(**{**FAST, **params}).fit(X, y)


def test_failed_fit_leaves_no_half_fitted_attributes(digits):
    X, _ = digits
    clf = FastNN(**FAST)
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros(len(X)))
    assert not [k for k in vars(clf) if k.endswith("_")]


def test_failed_refit_keeps_the_previous_model(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError):
        clf.fit(X[:, :10], np.zeros(len(X)))
    assert clf.n_features_in_ == 64
    assert np.array_equal(clf.predict_proba(X), before)


def test_predict_rejects_the_wrong_number_of_features(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :10])


def test_predict_before_fit_raises_not_fitted(digits):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        FastNN().predict(digits[0])


# -- inputs far outside the model's range ---------------------------------------

@pytest.fixture(scope="module")
def relu_model(digits):
    """relu hidden neurons: 1e308 inputs overflow them, and inf − inf is NaN."""
    X, y = digits
    return FastNN(activation="relu", **FAST).fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_inputs_whose_outputs_overflow_are_refused_rather_than_answered_with_nan(
        relu_model, method):
    X = np.full((2, 64), 1e308)
    args = (X, [0, 1]) if method == "score" else (X,)
    with pytest.raises(ValueError, match="far outside what the model can handle"):
        getattr(relu_model, method)(*args)


def test_the_overflow_error_counts_the_rows_and_names_the_largest_input(relu_model, digits):
    X = digits[0][:3].copy()
    X[1] = -1e308
    with pytest.raises(ValueError, match=r"1 of 3 rows .* largest \|x\| in them is 1e\+308"):
        relu_model.predict(X)


def test_a_model_with_nan_weights_refuses_to_predict(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X, y)
    clf.coefs_[1][0, 0] = np.nan
    with pytest.raises(ValueError, match="weights are not finite; refit it with a smaller eta"):
        clf.predict_proba(X)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("value", [1e308, -1e308, 1.0e-320])
def test_predict_proba_of_extreme_inputs_is_finite_and_never_warns(digits, activation, value):
    X, y = digits
    clf = FastNN(activation=activation, **FAST).fit(X, y)
    with strict_numpy():
        proba = clf.predict_proba(np.full((3, 64), value))
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_a_float32_model_refuses_float64_input_beyond_its_range_with_only_a_value_error(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X.astype(np.float32), y)
    with strict_numpy(), pytest.raises(ValueError, match="infinity or a value too large"):
        clf.predict_proba(np.full((2, 64), 1e39))


def test_partial_fit_of_a_float32_model_refuses_float64_input_beyond_its_range(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X.astype(np.float32), y)
    with strict_numpy(), pytest.raises(ValueError, match="infinity or a value too large"):
        clf.partial_fit(np.full((2, 64), 1e39), y[:2])


def test_a_python_int_too_large_for_float64_is_a_value_error(digits):
    X = np.array([[10 ** 400, 0], [0, 1], [1, 0]], dtype=object)
    with pytest.raises(ValueError, match="too large for float64"):
        FastNN(**FAST).fit(X, [0, 1, 0])


def test_float32_inputs_near_the_largest_float32_are_predicted_without_warnings(digits):
    X, y = digits
    clf = FastNN(**FAST).fit(X.astype(np.float32), y)
    extreme = np.full((3, 64), np.finfo(np.float32).max, dtype=np.float32)
    extreme[:, ::2] *= -1  # sklearn's finiteness check sums X: max − max + …
    with strict_numpy():
        proba = clf.predict_proba(extreme)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_sample_weights_near_the_largest_float32_are_checked_without_warnings(digits):
    X, y = digits
    weights = np.full(len(X), np.finfo(np.float32).max)
    weights[::2] *= -1
    with strict_numpy(), pytest.raises(ValueError, match="Negative values"):
        FastNN(**FAST).fit(X.astype(np.float32), y, sample_weight=weights)
