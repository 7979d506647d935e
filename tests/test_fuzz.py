"""Fuzzed input: whatever ``FastNN`` or ``FastNNRegressor`` is given, it fits or
refuses clearly.

Hypothesis draws shapes, dtypes (float16/32/64, ints, bools, object arrays of
numbers or strings), label and target types, sparse matrices, sample weights
and the hyperparameters of ch. 3 (penalty, init, η schedule, early stopping,
validation split, class weights, activation, cost, dropout, momentum).  The
promises: the only exceptions are ``ValueError`` / ``TypeError`` with a
message (and the documented ``FloatingPointError`` of a diverging η);
``predict_proba`` rows are finite and sum to 1; ``predict`` returns known
classes; the regressor's predictions are finite; numpy never warns about
overflow.  So that these cannot pass by refusing everything, the problems
that should fit are counted, and most of them must.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import UndefinedMetricWarning

from fastnn import FastNN, FastNNRegressor, kernels

FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The same examples on every run, for the count of problems that fit.
COUNTED = settings(FUZZ, max_examples=60, derandomize=True, database=None)
NUMPY_WARNINGS = ("overflow encountered", "invalid value encountered", "divide by zero")

X_DTYPES = ["float16", "float32", "float64", "int8", "int64", "uint8", "bool",
            "object-numbers", "object-strings"]
LABEL_KINDS = ["int", "str", "object-str", "bool", "integral-float", "float"]
TARGET_KINDS = ["float", "columns", "int", "bool", "huge"]

# What a divergence error advises: a smaller eta, a smaller lmbda (an L2 decay
# that flips the weights), or rescaled sample weights (``BaseFastNN._divergence``).
DIVERGENCE_ADVICE = ("try eta <=", "try lmbda <=", "rescale them")


@st.composite
def hyperparameters(draw, regressor=False):
    """Small networks (one or two tiny hidden layers, one to three epochs),
    with every training option ch. 3 adds."""
    params = dict(
        hidden_layer_sizes=tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))),
        epochs=draw(st.integers(1, 3)),
        mini_batch_size=draw(st.integers(1, 12)),
        eta=draw(st.floats(1e-3, 5.0)),
        lmbda=draw(st.floats(0.0, 5.0)),
        penalty=draw(st.sampled_from(sorted(kernels.PENALTIES))),
        momentum=draw(st.sampled_from([0.0, 0.5, 0.9])),
        dropout=draw(st.sampled_from([0.0, 0.3])),
        activation=draw(st.sampled_from(sorted(kernels.HIDDEN_ACTIVATIONS))),
        init=draw(st.sampled_from(["default", "large"])),
        eta_schedule=draw(st.sampled_from(["constant", "halve"])),
        n_iter_no_change=draw(st.sampled_from([None, 1, 2])),
        restore_best=draw(st.booleans()),
        validation_fraction=draw(st.sampled_from([None, None, 0.25, 0.5])),
        on_divergence=draw(st.sampled_from(["raise", "warn"])),
        random_state=draw(st.integers(0, 2 ** 16)),
    )
    if not regressor:
        params["cost"] = draw(st.sampled_from(sorted(kernels.COSTS)))
        params["class_weight"] = draw(st.sampled_from([None, "balanced"]))
    return params


@st.composite
def features(draw, n_samples, dtypes=X_DTYPES):
    """X of shape (n_samples, 1..4) in one of ``dtypes``."""
    kind = draw(st.sampled_from(dtypes))
    shape = (n_samples, draw(st.integers(1, 4)))
    if kind == "object-strings":
        words = st.sampled_from(["0.5", "-1", "2e3", "a", "", "nan"])
        return np.array(draw(hnp.arrays(object, shape, elements=words)), dtype=object)
    if kind == "object-numbers":
        values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-100, 100)))
        return values.astype(object)
    dtype = np.dtype(kind)
    elements = None
    if dtype.kind == "f":
        elements = st.floats(-1e4, 1e4, width=dtype.itemsize * 8, allow_nan=False)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def labels(draw, n_samples, kinds=LABEL_KINDS, min_classes=1):
    """y of length n_samples: ints, strings, bools or floats."""
    kind = draw(st.sampled_from(kinds))
    codes = np.array(draw(st.lists(st.integers(0, 3), min_size=n_samples, max_size=n_samples)))
    if min_classes > 1:
        codes[:min_classes] = np.arange(min_classes)
    if kind == "bool":
        return codes % 2 == 1
    if kind == "int":
        return codes * 7 - 5
    if kind == "integral-float":
        return codes.astype(np.float64) + 1
    if kind == "float":
        return codes + 0.25
    names = np.array(["cat", "dog", "émeu", "ox"])[codes]
    return names.astype(object) if kind == "object-str" else names


@st.composite
def targets(draw, n_samples, kinds=TARGET_KINDS):
    """Regression targets: one column or several, floats, ints or bools."""
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(hnp.arrays(np.int64, n_samples, elements=st.integers(-50, 50)))
    if kind == "bool":
        return draw(hnp.arrays(bool, n_samples))
    scale = 1e300 if kind == "huge" else 10.0
    shape = (n_samples, draw(st.integers(1, 3))) if kind == "columns" else n_samples
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(-scale, scale)))


@st.composite
def sample_weights(draw, n_samples, valid=True):
    """None, or weights ≥ 0 with some zeros (and, unless ``valid``, negative
    or NaN ones)."""
    if draw(st.booleans()):
        return None
    elements = st.sampled_from([0.0, 0.5, 1.0, 3.0]) if valid else st.floats(allow_nan=True)
    return draw(hnp.arrays(np.float64, n_samples, elements=elements))


@st.composite
def any_problem(draw, regressor=False):
    n_samples = draw(st.integers(1, 30))
    y = draw(targets(n_samples) if regressor else labels(n_samples))
    return (draw(features(n_samples)), y, draw(sample_weights(n_samples, valid=False)),
            draw(hyperparameters(regressor)))


@st.composite
def valid_problem(draw, regressor=False):
    """Finite float data, labels of 2–4 classes (or finite targets), weights
    that are not all 0: fit should succeed unless η diverges or the data is
    too small for the validation split."""
    n_samples = draw(st.integers(8, 40))
    X = draw(features(n_samples, dtypes=["float32", "float64", "int64", "bool"]))
    if regressor:
        y = draw(targets(n_samples, kinds=["float", "columns", "int", "bool"]))
    else:
        y = draw(labels(n_samples, kinds=["int", "str", "object-str", "bool", "integral-float"],
                        min_classes=2))
    weights = draw(sample_weights(n_samples))
    if weights is not None:
        weights[0] = 1.0
    return X, y, weights, draw(hyperparameters(regressor))


def fit_or_refuse(X, y, sample_weight, params, estimator=FastNN):
    """The fitted estimator, or None after a clear refusal.  numpy's overflow
    warnings fail the test, and so does any warning but the documented ones:
    a divergence with ``on_divergence="warn"``, and sklearn's R² of a
    one-sample validation split."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for message in NUMPY_WARNINGS:
            warnings.filterwarnings("error", message=message, category=RuntimeWarning)
        fitted = None
        try:
            fitted = estimator(**params).fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            assert str(exc).strip(), f"{type(exc).__name__} without a message"
            event(f"refused: {type(exc).__name__}")
        except FloatingPointError as exc:
            assert params["on_divergence"] == "raise", "on_divergence='warn' must not raise"
            assert any(advice in str(exc) for advice in DIVERGENCE_ADVICE), str(exc)
            event("diverged")
        else:
            event("fitted")
    for warning in caught:
        message = str(warning.message)
        assert (issubclass(warning.category, UndefinedMetricWarning)
                or (params["on_divergence"] == "warn"
                    and any(advice in message for advice in DIVERGENCE_ADVICE))), \
            f"{warning.category.__name__}: {message}"
    return fitted


def strict_predictions(method, X):
    """``method(X)``, with numpy's overflow warnings as errors."""
    with warnings.catch_warnings():
        for message in NUMPY_WARNINGS:
            warnings.filterwarnings("error", message=message, category=RuntimeWarning)
        return method(X)


# -- the classifier ---------------------------------------------------------------

@FUZZ
@given(any_problem())
def test_fit_either_works_or_raises_a_clear_value_or_type_error(problem):
    fit_or_refuse(*problem)


@FUZZ
@given(valid_problem())
def test_predict_proba_rows_are_finite_and_sum_to_one(problem):
    X, *_ = problem
    clf = fit_or_refuse(*problem)
    if clf is None:
        return
    proba = strict_predictions(clf.predict_proba, X)
    assert proba.shape == (len(X), len(clf.classes_))
    assert np.all(np.isfinite(proba))
    tolerance = 1e-5 if proba.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=tolerance)


@FUZZ
@given(valid_problem())
def test_predict_returns_only_the_classes_of_the_training_labels(problem):
    X, y, *_ = problem
    clf = fit_or_refuse(*problem)
    if clf is None:
        return
    assert np.array_equal(clf.classes_, np.unique(y))
    assert np.isin(strict_predictions(clf.predict, X), clf.classes_).all()


@FUZZ
@given(valid_problem())
def test_sparse_input_fits_as_its_dense_form_or_refuses_alike(problem):
    X, y, weights, params = problem
    X = np.asarray(X, dtype=np.float64)
    dense = fit_or_refuse(X, y, weights, params)
    sparse = fit_or_refuse(sp.csr_matrix(X), y, weights, params)
    assert (sparse is None) == (dense is None)
    if dense is None:
        return
    # The same model up to rounding: the two first layers sum in other orders.
    assert sparse.n_iter_ == dense.n_iter_
    scale = max(1.0, max(np.max(np.abs(a)) for a in dense.coefs_ + dense.intercepts_))
    for a, b in zip(sparse.coefs_ + sparse.intercepts_, dense.coefs_ + dense.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * scale)


@FUZZ
@given(valid_problem(), st.integers(1, 6))
def test_predicting_with_another_number_of_features_is_a_value_error(problem, n_features):
    X, *_ = problem
    clf = fit_or_refuse(*problem)
    if clf is None or n_features == X.shape[1]:
        return
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((2, n_features)))


@FUZZ
@given(st.integers(2, 30), st.data())
def test_labels_of_mixed_types_are_a_value_error(n_samples, data):
    X = np.zeros((n_samples, 2))
    y = np.array([1, "one"] * n_samples, dtype=object)[:n_samples]
    with pytest.raises(ValueError, match="label"):
        FastNN(**data.draw(hyperparameters())).fit(X, y)


# -- the regressor ----------------------------------------------------------------

@FUZZ
@given(any_problem(regressor=True))
def test_regressor_fit_either_works_or_raises_a_clear_error(problem):
    fit_or_refuse(*problem, estimator=FastNNRegressor)


@FUZZ
@given(valid_problem(regressor=True))
def test_regressor_predictions_are_finite_and_shaped_like_y(problem):
    X, y, *_ = problem
    reg = fit_or_refuse(*problem, estimator=FastNNRegressor)
    if reg is None:
        return
    try:
        predictions = strict_predictions(reg.predict, X)
    except ValueError as exc:
        # Divergence is judged by the training pass (its costs, as loss_curve_)
        # and by the final weights being finite, not by a second pass over X:
        # weights that grew huge in the last mini-batches can overflow float32
        # on an extreme row.  predict then says so, as documented; never NaN.
        assert "far outside what the model can handle" in str(exc)
        return
    assert predictions.shape == np.shape(y)
    assert np.all(np.isfinite(predictions))


# -- the fuzzing itself -------------------------------------------------------------

@pytest.mark.parametrize("estimator", [FastNN, FastNNRegressor])
def test_most_valid_problems_really_fit(estimator):
    outcomes = []

    @COUNTED
    @given(valid_problem(regressor=estimator is FastNNRegressor))
    def fit(problem):
        outcomes.append(fit_or_refuse(*problem, estimator=estimator) is not None)

    fit()
    assert len(outcomes) >= 50
    assert np.mean(outcomes) >= 0.75, f"only {sum(outcomes)} of {len(outcomes)} fitted"
