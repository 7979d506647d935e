import numpy as np
import pytest

from fastnn import kernels, reference
from fastnn.estimators._params import pack
from fastnn.kernels import dropout

from .conftest import twin_networks

SIZES = [7, 6, 5, 4]


def test_hash_matches_the_reference_twin():
    for x in [0, 1, 12345, 2 ** 63 + 7, 2 ** 64 - 1]:
        assert int(dropout.mix(np.uint64(x))) == int(reference.mix(np.uint64(x)))
    assert int(dropout.epoch_key(7, 3)) == int(reference.epoch_key(7, 3))


def test_masks_match_the_reference_twin():
    key = np.uint64(dropout.epoch_key(11, 2))
    rows = np.arange(50)
    twin = reference.dropout_mask(key, rows, 64, 30, 0.4)
    ours = np.empty_like(twin)
    for s in rows:
        a = np.ones(30)
        dropout.drop_out(a, np.uint64(dropout.sample_key(key, s)), np.uint64(64), 0.4)
        ours[s] = a
    np.testing.assert_array_equal(ours, twin)


def test_a_neuron_is_kept_with_probability_one_minus_p():
    key = np.uint64(dropout.epoch_key(3, 0))
    mask = reference.dropout_mask(key, np.arange(2000), 0, 100, 0.3)
    # 200,000 Bernoulli(0.7) draws: the standard error of the mean is 0.001.
    assert abs((mask > 0).mean() - 0.7) < 0.005


def test_different_epochs_draw_different_masks():
    masks = [reference.dropout_mask(reference.epoch_key(5, epoch), np.arange(20), 0, 30, 0.5)
             for epoch in (0, 1)]
    assert not np.array_equal(*masks)


def _thinned_cost(net, params, x, y, p, key, row):
    net.weights, net.biases = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    k = 0
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        w[...] = params[k:k + w.size].reshape(w.shape)
        k += w.size
        b[...] = params[k:k + b.size]
        k += b.size
    _, _, z = net._forward(x[None, :], p, key, np.array([row]))
    return net.cost.fn(z, y[None, :], net.output)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_dropout_gradient_matches_finite_differences_of_the_thinned_network(activation):
    params, layout, net = twin_networks(SIZES, "cross_entropy", activation, seed=3)
    rng = np.random.default_rng(0)
    x, y = rng.random(SIZES[0]), np.eye(SIZES[-1])[1]
    epoch, row, p = np.uint64(dropout.epoch_key(9, 0)), 4, 0.4
    sample = np.uint64(dropout.sample_key(epoch, row))
    hidden = kernels.HIDDEN_ACTIVATIONS[activation]
    grad = kernels.gradient(x, y, params, layout, hidden, 0, 1, p, sample)
    h = 1e-6
    numeric = np.empty_like(params)
    for k in range(len(params)):
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (_thinned_cost(net, up, x, y, p, epoch, row)
                      - _thinned_cost(net, down, x, y, p, epoch, row)) / (2 * h)
    rel = np.linalg.norm(grad - numeric) / (np.linalg.norm(grad) + np.linalg.norm(numeric))
    assert rel < 1e-6, rel
    # Some neuron was dropped, so the thinned gradient differs from the full one.
    assert not np.allclose(grad, kernels.gradient(x, y, params, layout, hidden, 0, 1))


def test_dropout_gradient_matches_reference_backprop():
    params, layout, net = twin_networks(SIZES, "log_likelihood", "sigmoid", seed=5)
    rng = np.random.default_rng(1)
    x, y = rng.random(SIZES[0]), np.eye(SIZES[-1])[2]
    epoch, row = np.uint64(dropout.epoch_key(1, 1)), 17
    grad = kernels.gradient(x, y, params, layout, 0, 3, 2, 0.5,
                            np.uint64(dropout.sample_key(epoch, row)))
    nabla_b, nabla_w = net.backprop(x[None, :], y[None, :], None, 0.5, epoch, np.array([row]))
    np.testing.assert_allclose(grad, pack(nabla_w, nabla_b), rtol=1e-12, atol=1e-15)
