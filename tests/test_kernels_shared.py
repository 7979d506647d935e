"""``kernels.shared``: the epoch on several threads entered once, pieces taken
in order by whichever thread is free — the reference's model, and bitwise
the one-thread model, however the pieces fall."""
import numpy as np
import pytest
from numba import njit

from fastnn import kernels
from fastnn.estimators import _threads
from fastnn.kernels import shared

from .conftest import as_csr, one_hot, train, twin_networks
from .test_kernels_sgd import FEATURES, _run_features

# A layer whose products threads share (``split.shared``) at m = 64.
SIZES = [64, 1000, 10]


@pytest.fixture(scope="module")
def data(digits):
    """250 digits: three mini-batches of 64 and a last one of 58."""
    X, y = digits
    return np.ascontiguousarray(X[:250]), one_hot(y[:250], 10)


def _epochs(X, Y, n_threads, options=None, epochs=2, sizes=SIZES):
    options = dict(options or {})
    weights = (np.random.default_rng(9).random(len(Y)) + 0.5) if options.pop("weighted",
                                                                           False) else None
    params, layout, _ = twin_networks(sizes, seed=3)
    velocity = np.zeros_like(params)
    outputs = np.empty((len(Y), sizes[-1]))
    costs = np.empty(len(Y))
    for epoch in range(epochs):
        order = np.random.default_rng(epoch).permutation(len(Y))
        codes = kernels.Codes(kernels.HIDDEN_ACTIVATIONS["sigmoid"],
                              kernels.OUTPUT_ACTIVATIONS["sigmoid"],
                              kernels.COSTS["cross_entropy"],
                              kernels.PENALTIES[options.get("penalty", "l2")])
        hyper = kernels.Hyper(0.3, options.get("lmbda", 1.0), options.get("momentum", 0.0),
                              options.get("dropout", 0.0))
        with _threads.blas_threads(1):
            assert kernels.train_epoch(
                X, Y, np.ones(len(Y)) if weights is None else weights, order, params, velocity,
                layout, codes, hyper, kernels.epoch_key(5, epoch), len(Y), 64, outputs, costs,
                n_threads)
    return params, outputs, costs


def test_shared_epochs_with_every_option_match_the_reference_to_1e9(data):
    # Momentum, L1, dropout and sample weights at once: one compiled variant.
    X, Y = data
    ours, theirs = _run_features(X, Y, SIZES, FEATURES["everything"], mini_batch_size=64,
                                 n_threads=2)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


def test_a_shared_epoch_trains_the_bits_of_one_thread_with_every_option_and_a_short_last_batch(
        data):
    X, Y = data
    options = FEATURES["everything"]
    one = _epochs(X, Y, 1, options=options)
    two = _epochs(X, Y, 2, options=options)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


class _LateThread:
    """A helper thread that starts only when it is joined: after the caller's
    thread has taken every piece."""

    def __init__(self, target, name, daemon):
        self.target = target

    def start(self):
        pass

    def join(self):
        self.target()


def test_a_helper_that_starts_late_finds_the_epoch_done_and_the_bits_are_the_same(data,
                                                                                  monkeypatch):
    X, Y = data
    one = _epochs(X, Y, 1)
    monkeypatch.setattr(shared.threading, "Thread", _LateThread)
    alone = _epochs(X, Y, 2)
    for a, b in zip(one, alone):
        np.testing.assert_array_equal(a, b)


def test_a_shared_epoch_that_produces_nan_stops_and_reports_it(data):
    X, Y = data
    params, layout, _ = twin_networks(SIZES, seed=3)
    params[-1] = np.nan  # an output bias: every δ^L becomes NaN
    assert not train(X, Y, np.arange(len(Y)), params, layout, mini_batch_size=64, n_threads=2)


def test_dense_rows_on_two_threads_train_the_bits_of_the_array_on_one(data):
    X, Y = data
    rows = kernels.DenseRows(*as_csr(X))
    runs = []
    for inputs, n_threads in ((X, 1), (rows, 2)):
        params, layout, _ = twin_networks(SIZES, seed=3)
        assert train(inputs, Y, np.random.default_rng(1).permutation(len(Y)), params, layout,
                     lmbda=1.0, mini_batch_size=64, n_threads=n_threads)
        runs.append(params)
    np.testing.assert_array_equal(*runs)


def test_the_plan_cuts_only_the_products_threads_share():
    sizes = np.array(SIZES, dtype=np.int64)
    # gather, forward of both layers, the output pass, BP2 to layer 1, the
    # update of layer 2, the update of layer 1.
    steps = shared.plan(sizes, 64, 1_000_000, 0, 8, 0)
    assert len(steps) == 7 and steps[0] == 2 and steps[1] > 1 and steps[6] > 1
    assert list(steps[2:6]) == [1, 1, 1, 1]
    assert shared.plan(sizes, 64, 1_000_000, 1, 8, 0)[6] == 1  # momentum: updates whole
    assert list(shared.plan(sizes, 10, 1_000_000, 0, 8, 0)) == [1] * 7  # too small to share


# Two layers: the gather, the forward pass of each, the output pass, BP2 to
# layer 1, the update of layer 2, the update of layer 1.
STEPS = np.array([2, 3, 1, 1, 1, 1, 4], dtype=np.int64)
GATHER, FORWARD_0, OUTPUT, BP2, UPDATE_2, UPDATE_1 = 0, 1, 3, 4, 5, 6


def test_the_schedule_takes_each_piece_once_and_the_next_gather_after_the_output_pass():
    last = np.ones_like(STEPS)  # a short last mini-batch: every step whole
    batch_of, step_of, piece_of = shared.schedule(STEPS, last, 2, 3)
    pieces = list(zip(batch_of, step_of, piece_of))
    expected = {(b, step, k) for b in range(3) for step in range(len(STEPS))
                for k in range(STEPS[step] if b < 2 else 1)}
    assert len(pieces) == len(expected) and set(pieces) == expected
    order = [(b, step) for b, step, k in pieces if k == 0]
    assert order[:2] == [(0, GATHER), (0, FORWARD_0)]
    for b in range(2):
        assert order.index((b + 1, GATHER)) == order.index((b, OUTPUT)) + 1
        assert order.index((b, BP2)) == order.index((b + 1, GATHER)) + 1


@njit
def _ready(counters, b, step, steps, steps_last, n_full):
    return shared._ready(counters, b, step, steps, steps_last, n_full)


@njit
def _counter(b, step):
    return shared._counter(b, step)


def _done(counters, b, step):
    """Mark every piece of ``step`` of full mini-batch b done, as ``_work`` counts them."""
    counters[_counter(b, step)] += STEPS[step]


def test_a_gather_waits_for_the_mini_batch_two_before_and_the_forward_pass_for_the_one_before():
    counters = np.zeros(shared.DONE + len(STEPS), dtype=np.int64)
    ready = lambda b, step: _ready(counters, b, step, STEPS, STEPS, 4)  # noqa: E731
    assert ready(0, GATHER) and ready(1, GATHER) and not ready(0, FORWARD_0)
    _done(counters, 1, GATHER)  # mini-batch 1's gather, done first, does not count as 0's
    assert not ready(0, FORWARD_0) and not ready(1, FORWARD_0)
    _done(counters, 0, GATHER)
    assert ready(0, FORWARD_0) and not ready(1, FORWARD_0) and not ready(2, GATHER)
    for step in range(FORWARD_0, len(STEPS)):
        _done(counters, 0, step)
    assert ready(1, FORWARD_0) and ready(2, GATHER) and not ready(3, GATHER)


def test_the_next_forward_pass_waits_for_every_block_of_the_updates():
    counters = np.zeros(shared.DONE + len(STEPS), dtype=np.int64)
    for b in (0, 1):
        _done(counters, b, GATHER)
    for step in range(FORWARD_0, UPDATE_1):
        _done(counters, 0, step)
    counters[_counter(0, UPDATE_1)] += STEPS[UPDATE_1] - 1  # all blocks but one
    assert not _ready(counters, 1, FORWARD_0, STEPS, STEPS, 4)
    counters[_counter(0, UPDATE_1)] += 1
    assert _ready(counters, 1, FORWARD_0, STEPS, STEPS, 4)


def test_a_short_last_mini_batch_waits_for_its_own_pieces_only():
    # Two full mini-batches, then a short one whose steps are whole.
    last = np.ones_like(STEPS)
    counters = np.zeros(shared.DONE + len(STEPS), dtype=np.int64)
    for b in (0, 1):
        _done(counters, b, GATHER)
        for step in range(FORWARD_0, len(STEPS)):
            _done(counters, b, step)
    ready = lambda step: _ready(counters, 2, step, STEPS, last, 2)  # noqa: E731
    assert ready(GATHER) and not ready(FORWARD_0)
    counters[_counter(2, GATHER)] += 1
    assert ready(FORWARD_0) and not ready(FORWARD_0 + 1)
    counters[_counter(2, FORWARD_0)] += 1
    assert ready(FORWARD_0 + 1)


def test_the_updates_wait_only_for_bp2_and_every_other_step_for_the_one_before_it():
    counters = np.zeros(shared.DONE + len(STEPS), dtype=np.int64)
    ready = lambda step: _ready(counters, 0, step, STEPS, STEPS, 4)  # noqa: E731
    _done(counters, 0, GATHER)
    for step in range(FORWARD_0, BP2 + 1):
        assert ready(step) and not ready(step + 1) and not ready(UPDATE_1)
        _done(counters, 0, step)
    assert ready(UPDATE_2) and ready(UPDATE_1)


def test_four_threads_train_the_bits_of_one(data):
    # More threads than this machine's cores, if it has 2: more interleavings.
    X, Y = data
    options = FEATURES["everything"]
    for a, b in zip(_epochs(X, Y, 1, options=options), _epochs(X, Y, 4, options=options)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sizes, n, options", [
    ([64, 600, 300, 10], 250, {}),  # two BP2 steps; three updates, two in blocks, at once
    ([64, 1000, 10], 192, {"penalty": "l1", "dropout": 0.3}),  # n % m = 0; L1 by blocks
    ([64, 1000, 10], 128, {}),  # two full mini-batches: each x buffer once
    ([64, 1000, 10], 50, {}),  # one mini-batch, short
    ([4000, 10], 250, {"momentum": 0.5}),  # one layer: no BP2, the update after the output
    ([64, 100, 1000, 10], 250, {"sparse": True}),  # CSR: w¹ sparse and whole, w² shared
    ([64, 100, 1000, 10], 250, {"sparse": True, "lmbda": 820.0}),  # w¹'s scale folded
    ([64, 100, 1000, 10], 250, {"sparse": True, **FEATURES["everything"]}),
], ids=["three-layers", "even-split", "two-batches", "one-short-batch", "one-layer", "csr",
        "csr-folded", "csr-everything"])
def test_shared_epochs_train_the_bits_of_one_thread_for_any_depth_and_size(sizes, n, options,
                                                                           digits, monkeypatch):
    X, y = digits
    options = dict(options)
    if sizes[0] != X.shape[1]:
        X = np.random.default_rng(4).random((len(y), sizes[0])) * (X.mean(axis=1)[:, None] > 0.3)
    X, Y = np.ascontiguousarray(X[:n]), one_hot(y[:n], sizes[-1])
    if options.pop("sparse", False):
        X = as_csr(X)
    calls = []
    epoch = kernels.sgd._epoch_on_threads
    monkeypatch.setattr(kernels.sgd, "_epoch_on_threads",
                        lambda *args: calls.append(args) or epoch(*args))
    one = _epochs(X, Y, 1, options=options, sizes=sizes)
    assert not calls
    for n_threads in (2, 3):
        for a, b in zip(one, _epochs(X, Y, n_threads, options=options, sizes=sizes)):
            np.testing.assert_array_equal(a, b)
    assert len(calls) == 4  # two epochs on each thread count, all shared


def test_a_helper_that_cannot_start_stops_the_epoch_and_the_others_are_joined(data,
                                                                              monkeypatch):
    X, Y = data
    real = shared.threading.Thread

    class SecondFails(real):
        def start(self):
            if self.name.endswith("-2"):
                raise RuntimeError("can't start new thread")
            super().start()

    monkeypatch.setattr(shared.threading, "Thread", SecondFails)
    params, layout, _ = twin_networks(SIZES, seed=3)
    with pytest.raises(RuntimeError, match="can't start"):
        train(X, Y, np.arange(len(Y)), params, layout, mini_batch_size=64, n_threads=3)
    assert not [t for t in shared.threading.enumerate() if t.name.startswith("fastnn-epoch")]


def test_an_error_in_a_helper_thread_reaches_the_caller(data,
                                                                               monkeypatch):
    X, Y = data
    work = shared._work

    def failing(*args):
        if shared.threading.current_thread() is not shared.threading.main_thread():
            raise RuntimeError("helper failed")
        return work(*args)

    monkeypatch.setattr(shared, "_work", failing)
    params, layout, _ = twin_networks(SIZES, seed=3)
    with pytest.raises(RuntimeError, match="helper failed"):
        train(X, Y, np.arange(len(Y)), params, layout, mini_batch_size=64, n_threads=2)
