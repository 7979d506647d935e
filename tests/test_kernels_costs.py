import warnings

import numpy as np
import pytest

from fastnn import kernels, reference
from fastnn.kernels import costs
from fastnn.kernels.activations import IDENTITY, RELU, SIGMOID, SOFTMAX, TANH

from .conftest import COST_NAMES, codes


def one_cost(z, y, cost, out_act):
    """C of one sample, through the kernel's block of samples."""
    out = np.empty(1)
    costs.fn(z[None], y[None], np.zeros(1, dtype=np.int64), cost, out_act, out,
             costs.other_codes(SIGMOID, out_act, cost))
    return out[0]


@pytest.mark.parametrize("cost", COST_NAMES)
def test_cost_matches_reference(cost):
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2, size=(1, 6))
    y = np.eye(6)[[2]]
    _, out, code = codes(cost, "sigmoid")
    expected = reference.COSTS[cost].fn(z, y, kernels.OUTPUT_OF_COST[cost])
    assert one_cost(z[0], y[0], code, out) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("cost", COST_NAMES)
def test_cost_is_finite_without_warnings_for_saturated_outputs(cost):
    z = np.array([-1e4, 1e4, -800.0, 800.0])
    y = np.array([1.0, 0.0, 0.0, 0.0])
    _, out, code = codes(cost, "sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = one_cost(z, y, code, out)
        ref = reference.COSTS[cost].fn(z[None, :], y[None, :], kernels.OUTPUT_OF_COST[cost])
    assert np.isfinite(ours) and ours == pytest.approx(ref, rel=1e-12)


def test_cross_entropy_of_a_confidently_wrong_neuron_grows_linearly():
    # −ln σ(−1e4) = softplus(1e4) = 1e4: the cost stays finite and exact.
    assert one_cost(np.array([-1e4]), np.array([1.0]), costs.CROSS_ENTROPY, 0) == 1e4


@pytest.mark.parametrize("cost", COST_NAMES)
def test_output_delta_matches_reference(cost):
    rng = np.random.default_rng(2)
    a = rng.random(5)
    if cost == "log_likelihood":
        a /= a.sum()
    y = np.eye(5)[1]
    _, out_code, code = codes(cost, "sigmoid")
    d = np.empty((1, 5))
    costs.delta(a[None], y[None], np.zeros(1, dtype=np.int64), code, out_code, d,
                costs.other_codes(SIGMOID, out_code, code))
    expected = reference.COSTS[cost].delta(a, y, kernels.OUTPUT_OF_COST[cost])
    np.testing.assert_allclose(d[0], expected, rtol=1e-15)


@pytest.mark.parametrize("cost", COST_NAMES)
def test_cost_and_delta_of_a_block_take_each_sample_from_its_row_of_y(cost):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 5))
    Y = np.eye(5)[[0, 3, 1, 4, 2, 2]]
    rows = np.array([5, 0, 3, 1])
    _, out, code = codes(cost, "sigmoid")
    block_costs = np.empty(4)
    others = costs.other_codes(SIGMOID, out, code)
    costs.fn(z, Y, rows, code, out, block_costs, others)
    d = np.empty((4, 5))
    costs.delta(z, Y, rows, code, out, d, others)
    for s, r in enumerate(rows):
        assert block_costs[s] == one_cost(z[s], Y[r], code, out)
        one = np.empty((1, 5))
        costs.delta(z[s:s + 1], Y[r:r + 1], np.zeros(1, dtype=np.int64), code, out, one, others)
        np.testing.assert_array_equal(d[s], one[0])


def block_and_single_costs(z, Y, rows):
    block_costs = np.empty(z.shape[0])
    costs.fn(z, Y, rows, costs.CROSS_ENTROPY, 0, block_costs, None)
    single = [one_cost(z[s], Y[r], costs.CROSS_ENTROPY, 0) for s, r in enumerate(rows)]
    return block_costs, np.array(single)


def test_cross_entropy_of_a_long_block_is_each_samples_own():
    rng = np.random.default_rng(4)
    z = rng.normal(scale=3, size=(250, 10))
    Y = np.eye(10)[rng.integers(0, 10, 300)]
    rows = rng.permutation(300)[:250]
    block_costs, single = block_and_single_costs(z, Y, rows)
    np.testing.assert_array_equal(block_costs, single)
    expected = [reference.COSTS["cross_entropy"].fn(z[s:s + 1], Y[r:r + 1], "sigmoid")
                for s, r in enumerate(rows)]
    np.testing.assert_allclose(block_costs, expected, rtol=1e-13)


def test_cross_entropy_of_more_outputs_than_the_stack_holds_matches_reference():
    rng = np.random.default_rng(5)
    n = costs.STACK_LANES + 300
    z = rng.normal(scale=3, size=(3, n))
    Y = (rng.random((3, n)) < 0.01).astype(float)
    block_costs, _ = block_and_single_costs(z, Y, np.arange(3))
    expected = [reference.COSTS["cross_entropy"].fn(z[s:s + 1], Y[s:s + 1], "sigmoid")
                for s in range(3)]
    np.testing.assert_allclose(block_costs, expected, rtol=1e-12)


def test_cross_entropy_of_float32_outputs_is_computed_from_their_exact_float64_values():
    rng = np.random.default_rng(6)
    z = rng.normal(scale=3, size=(40, 10)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 40)]
    rows = np.arange(40)
    ours, _ = block_and_single_costs(z, Y, rows)
    wide, _ = block_and_single_costs(z.astype(np.float64), Y.astype(np.float64), rows)
    np.testing.assert_array_equal(ours, wide)


def test_only_the_books_default_network_leaves_the_other_codes_out():
    assert costs.other_codes(SIGMOID, SIGMOID, costs.CROSS_ENTROPY) is None
    # z^L as it is (the epoch's forward pass) and prediction, which has no cost.
    assert costs.other_codes(SIGMOID, IDENTITY) is None
    for hidden, out, cost in [(TANH, SIGMOID, costs.CROSS_ENTROPY),
                              (RELU, SIGMOID, costs.CROSS_ENTROPY),
                              (SIGMOID, SOFTMAX, costs.LOG_LIKELIHOOD),
                              (SIGMOID, SIGMOID, costs.QUADRATIC),
                              (SIGMOID, IDENTITY, costs.QUADRATIC)]:
        assert costs.other_codes(hidden, out, cost) is not None


def test_cross_entropy_is_the_same_with_the_other_costs_compiled_in():
    rng = np.random.default_rng(7)
    z = rng.normal(scale=3, size=(20, 10))
    Y = np.eye(10)[rng.integers(0, 10, 20)]
    rows = np.arange(20)
    default, every = np.empty(20), np.empty(20)
    costs.fn(z, Y, rows, costs.CROSS_ENTROPY, SIGMOID, default, None)
    costs.fn(z, Y, rows, costs.CROSS_ENTROPY, SIGMOID, every, np.int64(1))
    np.testing.assert_array_equal(default, every)
