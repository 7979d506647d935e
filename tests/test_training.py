"""The ch. 3 toolkit and the sklearn training contract of the estimators:
monitoring, early stopping, η schedule, momentum, L1, dropout, sample and
class weights, partial_fit, warm_start, pickle (divergence and Ctrl-C:
test_interrupts.py)."""
import pickle

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from fastnn import FastNN
from fastnn.estimators._params import make_rng, pack
from fastnn.reference import Network

from .conftest import one_hot

FAST = dict(epochs=3, random_state=0)


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _same_model(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_,
                                                     b.coefs_ + b.intercepts_))


def _reference_twin(clf, X, y, **sgd):
    """The reference network trained as ``clf`` would be, and its history."""
    sizes = [X.shape[1], *clf.hidden_layer_sizes, 10]
    rng = make_rng(clf.random_state)
    net = Network.random(sizes, rng, cost=clf.cost, activation=clf.activation)
    history = net.SGD(X, one_hot(y, 10), clf.epochs, clf.mini_batch_size, clf.eta, clf.lmbda,
                      rng=rng, momentum=clf.momentum, penalty=clf.penalty, dropout=clf.dropout,
                      **sgd)
    return net, history


# -- monitoring ---------------------------------------------------------------

def test_history_matches_the_reference_monitors(split):
    X_train, X_test, y_train, y_test = split
    clf = FastNN(epochs=4, lmbda=2.0, momentum=0.3, random_state=1)
    clf.fit(X_train, y_train, eval_set=(X_test, y_test))
    net, history = _reference_twin(clf, X_train, y_train,
                                   evaluation_data=(X_test, one_hot(y_test, 10)))
    for key in ("train_cost", "train_accuracy", "eval_cost", "eval_accuracy"):
        np.testing.assert_allclose(clf.history_[key], history[key], rtol=1e-9)
    np.testing.assert_allclose(pack(clf.coefs_, clf.intercepts_),
                               pack(net.weights, net.biases), atol=1e-9)


def test_loss_curve_is_the_training_cost_with_its_l2_term(digits):
    X, y = digits
    plain = FastNN(**FAST).fit(X, y)
    assert plain.loss_curve_ == plain.history_["train_cost"]
    assert len(plain.loss_curve_) == plain.n_iter_ == 3
    assert plain.history_["eval_cost"] == [] and plain.history_["eval_accuracy"] == []


def test_validation_fraction_holds_out_a_stratified_share(digits):
    X, y = digits
    clf = FastNN(validation_fraction=0.2, verbose=0, **FAST).fit(X, y)
    assert len(clf.history_["eval_accuracy"]) == 3
    assert 0 < clf.history_["eval_accuracy"][-1] <= 1


def test_verbose_prints_count_and_cost_per_epoch(digits, capsys):
    X, y = digits
    FastNN(verbose=1, **FAST).fit(X[:300], y[:300], eval_set=(X[300:400], y[300:400]))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 0: ") and " / 100, cost " in lines[0]
    assert lines[0].endswith(" s")


# -- early stopping and the η schedule ----------------------------------------

def test_early_stopping_stops_and_keeps_the_best_epoch(split):
    X_train, X_test, y_train, y_test = split
    clf = FastNN(epochs=200, eta=3.0, n_iter_no_change=3, random_state=0)
    clf.fit(X_train[:300], y_train[:300], eval_set=(X_test, y_test))
    assert clf.n_iter_ < 200
    best = int(np.argmax(clf.history_["eval_accuracy"]))
    assert clf.best_epoch_ == best and clf.n_iter_ == best + 1 + 3
    assert clf.score(X_test, y_test) == pytest.approx(clf.history_["eval_accuracy"][best])


@pytest.mark.parametrize("schedule", ["constant", "halve"])
def test_early_stopping_and_schedule_match_the_reference(split, schedule):
    X_train, X_test, y_train, y_test = split
    clf = FastNN(epochs=60, eta=2.0, n_iter_no_change=2, eta_schedule=schedule,
                 random_state=3)
    clf.fit(X_train[:400], y_train[:400], eval_set=(X_test, y_test))
    net, history = _reference_twin(clf, X_train[:400], y_train[:400],
                                   evaluation_data=(X_test, one_hot(y_test, 10)),
                                   n_iter_no_change=2, eta_schedule=schedule)
    assert clf.n_iter_ == len(history["train_cost"])
    assert clf.eta_ == history["eta"]
    np.testing.assert_allclose(pack(clf.coefs_, clf.intercepts_),
                               pack(net.weights, net.biases), atol=1e-9)


def test_halving_schedule_stops_below_eta0_over_128(split):
    X_train, X_test, y_train, y_test = split
    clf = FastNN(epochs=1000, eta=1.0, eta_schedule="halve", n_iter_no_change=1,
                 random_state=0).fit(X_train[:200], y_train[:200], eval_set=(X_test, y_test))
    assert clf.n_iter_ < 1000
    assert clf.eta_ < 1.0 / 128 <= 2 * clf.eta_


# -- momentum, L1, dropout ----------------------------------------------------

def test_momentum_converges_faster_on_an_ill_conditioned_problem():
    # Two inputs on scales 1 and 0.05: the cost surface is a long narrow valley.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2)) * [1.0, 0.05]
    y = (X[:, 0] + 20 * X[:, 1] > 0).astype(int)
    settings = dict(hidden_layer_sizes=(5,), eta=0.5, epochs=20, random_state=0)
    # The cost of the final weights (eval_set), not loss_curve_'s during the epoch.
    plain = FastNN(**settings).fit(X, y, eval_set=(X, y))
    fast = FastNN(momentum=0.9, **settings).fit(X, y, eval_set=(X, y))
    assert fast.history_["eval_cost"][-1] < 0.5 * plain.history_["eval_cost"][-1]


def test_l1_leaves_more_weights_near_zero_than_l2(split):
    X_train, _, y_train, _ = split
    settings = dict(hidden_layer_sizes=(30,), lmbda=5.0, epochs=30, random_state=0)
    l1 = FastNN(penalty="l1", **settings).fit(X_train, y_train)
    l2 = FastNN(penalty="l2", **settings).fit(X_train, y_train)
    small = [np.mean(np.abs(clf.coefs_[0]) < 0.01) for clf in (l1, l2)]
    assert small[0] > 2 * small[1]


def test_dropout_reduces_the_train_test_cost_gap_on_1000_digits(split):
    # Measured over seeds 0-2 (mean eval − train cost): 0.196 without dropout,
    # 0.136 with p = 0.5.  The accuracy gap does not move measurably here: the
    # digits' test error is already near its ~2 % floor either way.
    X_train, X_test, y_train, y_test = split
    gaps = {}
    for p in (0.0, 0.5):
        gap = []
        for seed in (0, 1, 2):
            clf = FastNN(hidden_layer_sizes=(100,), dropout=p, epochs=60, eta=0.5,
                         random_state=seed)
            clf.fit(X_train[:1000], y_train[:1000], eval_set=(X_test, y_test))
            gap.append(clf.history_["eval_cost"][-1] - clf.history_["train_cost"][-1])
        gaps[p] = np.mean(gap)
    assert gaps[0.5] < 0.85 * gaps[0.0]


def test_dropout_models_are_identical_for_one_and_two_threads(digits):
    X, y = digits
    one = FastNN(dropout=0.3, n_threads=1, mini_batch_size=50, **FAST).fit(X, y)
    two = FastNN(dropout=0.3, n_threads=2, mini_batch_size=50, **FAST).fit(X, y)
    assert _same_model(one, two)


# -- sample and class weights -------------------------------------------------

def test_zero_sample_weight_is_the_same_as_an_absent_sample(digits):
    X, y = digits
    weights = np.ones(len(X))
    weights[::7] = 0
    a = FastNN(**FAST).fit(X, y, sample_weight=weights)
    b = FastNN(**FAST).fit(X[weights > 0], y[weights > 0])
    assert _same_model(a, b)


def test_unit_sample_weights_change_nothing(digits):
    X, y = digits
    a = FastNN(**FAST).fit(X, y, sample_weight=np.ones(len(X)))
    assert _same_model(a, FastNN(**FAST).fit(X, y))


def test_sample_weights_match_the_reference(digits):
    X, y = digits
    weights = np.random.default_rng(0).random(len(X)) + 0.5
    clf = FastNN(**FAST).fit(X, y, sample_weight=weights)
    net, history = _reference_twin(clf, X, y, sample_weight=weights)
    np.testing.assert_allclose(clf.history_["train_cost"], history["train_cost"], rtol=1e-9)
    np.testing.assert_allclose(pack(clf.coefs_, clf.intercepts_),
                               pack(net.weights, net.biases), atol=1e-9)


def test_balanced_class_weight_is_the_sample_weight_it_implies(digits):
    X, y = digits
    X, y = X[y < 3][:300], y[y < 3][:300]
    X, y = np.concatenate([X, X[y == 0]]), np.concatenate([y, y[y == 0]])  # unbalance
    counts = np.bincount(y)
    implied = (len(y) / (3 * counts))[y]
    a = FastNN(class_weight="balanced", **FAST).fit(X, y)
    b = FastNN(**FAST).fit(X, y, sample_weight=implied)
    assert _same_model(a, b)


def test_class_weight_dict_multiplies_sample_weight(digits):
    X, y = digits
    a = FastNN(class_weight={0: 2.0}, **FAST).fit(X, y, sample_weight=np.full(len(X), 0.5))
    b = FastNN(**FAST).fit(X, y, sample_weight=np.where(y == 0, 1.0, 0.5))
    assert _same_model(a, b)


@pytest.mark.parametrize("bad", [-1.0, np.nan])
def test_negative_or_nan_sample_weight_is_refused(digits, bad):
    X, y = digits
    weights = np.ones(len(X))
    weights[3] = bad
    with pytest.raises(ValueError, match="sample_weight|Negative|finite|NaN"):
        FastNN(**FAST).fit(X, y, sample_weight=weights)


def test_all_zero_sample_weights_are_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="weight"):
        FastNN(**FAST).fit(X, y, sample_weight=np.zeros(len(X)))


# -- partial_fit, warm_start, pickle ------------------------------------------

def test_k_partial_fits_equal_fit_with_k_epochs(digits):
    X, y = digits
    clf = FastNN(random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.arange(10))
    assert clf.n_iter_ == 3
    assert _same_model(clf, FastNN(**FAST).fit(X, y))


def test_partial_fit_needs_classes_on_the_first_call(digits):
    X, y = digits
    with pytest.raises(ValueError, match="classes"):
        FastNN().partial_fit(X, y)


def test_partial_fit_refuses_a_label_it_was_not_told_about(digits):
    X, y = digits
    clf = FastNN(random_state=0).partial_fit(X[y < 5], y[y < 5], classes=np.arange(5))
    with pytest.raises(ValueError, match="labels"):
        clf.partial_fit(X, y)


def test_warm_start_continues_exactly_where_fit_stopped(digits):
    X, y = digits
    clf = FastNN(epochs=2, warm_start=True, momentum=0.5, random_state=0).fit(X, y)
    clf.set_params(epochs=3).fit(X, y)
    whole = FastNN(epochs=5, momentum=0.5, random_state=0).fit(X, y)
    assert clf.n_iter_ == 5 and _same_model(clf, whole)
    assert clf.history_ == whole.history_


def test_warm_start_refuses_new_hidden_layer_sizes(digits):
    X, y = digits
    clf = FastNN(warm_start=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        clf.set_params(hidden_layer_sizes=(12,)).fit(X, y)


def test_pickle_round_trip_predicts_and_continues_identically(digits):
    X, y = digits
    clf = FastNN(epochs=2, warm_start=True, momentum=0.5, dropout=0.2, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert _same_model(copy.fit(X, y), clf.fit(X, y))


def test_a_randomstate_seeds_like_sklearns_estimators(digits):
    X, y = digits
    a = FastNN(epochs=2, random_state=np.random.RandomState(0)).fit(X, y)
    b = FastNN(epochs=2, random_state=np.random.RandomState(0)).fit(X, y)
    assert _same_model(a, b)
