"""Fuzzed input: whatever ``FastNN`` is given, it fits or refuses clearly.

Hypothesis draws shapes, dtypes (float16/32/64, ints, bools, object arrays of
numbers or strings), label types, sparse matrices and small hyperparameters.
The promises: the only exceptions are ``ValueError`` / ``TypeError`` with a
message (and the documented ``FloatingPointError`` of a diverging η);
``predict_proba`` rows are finite and sum to 1; ``predict`` returns known
classes; numpy never warns about overflow.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastnn import FastNN, kernels

FUZZ = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NUMPY_WARNINGS = ("overflow encountered", "invalid value encountered", "divide by zero")

X_DTYPES = ["float16", "float32", "float64", "int8", "int64", "uint8", "bool",
            "object-numbers", "object-strings"]
LABEL_KINDS = ["int", "str", "object-str", "bool", "integral-float", "float"]


@st.composite
def hyperparameters(draw):
    """Small networks: one or two tiny hidden layers, one or two epochs."""
    return dict(
        hidden_layer_sizes=tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))),
        epochs=draw(st.integers(1, 2)),
        mini_batch_size=draw(st.integers(1, 12)),
        eta=draw(st.floats(1e-3, 5.0)),
        lmbda=draw(st.floats(0.0, 5.0)),
        momentum=draw(st.sampled_from([0.0, 0.5, 0.9])),
        dropout=draw(st.sampled_from([0.0, 0.3])),
        cost=draw(st.sampled_from(sorted(kernels.COSTS))),
        activation=draw(st.sampled_from(sorted(kernels.HIDDEN_ACTIVATIONS))),
        on_divergence=draw(st.sampled_from(["raise", "warn"])),
        random_state=draw(st.integers(0, 2 ** 16)),
    )


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
def any_problem(draw):
    n_samples = draw(st.integers(1, 30))
    return draw(features(n_samples)), draw(labels(n_samples)), draw(hyperparameters())


@st.composite
def valid_problem(draw):
    """Finite float data and labels of 2–4 classes: fit must succeed."""
    n_samples = draw(st.integers(4, 30))
    X = draw(features(n_samples, dtypes=["float32", "float64", "int64", "bool"]))
    y = draw(labels(n_samples, kinds=["int", "str", "object-str", "bool", "integral-float"],
                    min_classes=2))
    return X, y, draw(hyperparameters())


def fit_or_refuse(X, y, params):
    """The fitted estimator, or None after a clear refusal."""
    with warnings.catch_warnings():
        for message in NUMPY_WARNINGS:
            warnings.filterwarnings("error", message=message, category=RuntimeWarning)
        try:
            return FastNN(**params).fit(X, y)
        except (ValueError, TypeError) as exc:
            assert str(exc).strip(), f"{type(exc).__name__} without a message"
        except FloatingPointError as exc:
            assert params["on_divergence"] == "raise" and "eta" in str(exc)
    return None


@FUZZ
@given(any_problem())
def test_fit_either_works_or_raises_a_clear_value_or_type_error(problem):
    fit_or_refuse(*problem)


@FUZZ
@given(valid_problem())
def test_predict_proba_rows_are_finite_and_sum_to_one(problem):
    X, y, params = problem
    clf = fit_or_refuse(X, y, params)
    if clf is None:
        return
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(clf.classes_))
    assert np.all(np.isfinite(proba))
    tolerance = 1e-5 if proba.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=tolerance)


@FUZZ
@given(valid_problem())
def test_predict_returns_only_the_classes_of_the_training_labels(problem):
    X, y, params = problem
    clf = fit_or_refuse(X, y, params)
    if clf is None:
        return
    assert np.array_equal(clf.classes_, np.unique(y))
    assert np.isin(clf.predict(X), clf.classes_).all()


@FUZZ
@given(valid_problem(), st.sampled_from(["fit", "predict"]))
def test_sparse_input_is_refused_with_a_type_error_that_says_to_densify(problem, where):
    X, y, params = problem
    X = np.asarray(X, dtype=np.float64)
    clf = FastNN(**params)
    if where == "predict":
        clf = fit_or_refuse(X, y, params)
        if clf is None:
            return
    with pytest.raises(TypeError, match="dense data is required"):
        clf.fit(sp.csr_matrix(X), y) if where == "fit" else clf.predict(sp.csr_matrix(X))


@FUZZ
@given(valid_problem(), st.integers(1, 6))
def test_predicting_with_another_number_of_features_is_a_value_error(problem, n_features):
    X, y, params = problem
    clf = fit_or_refuse(X, y, params)
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
