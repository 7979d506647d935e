import numpy as np
import pytest

from fastnn import FastNNRegressor
from fastnn.estimators._params import make_rng, pack
from fastnn.reference import Network

from .test_reference import strict_numpy

X_LINE = np.linspace(0, 1, 200)[:, None]
FAST = dict(hidden_layer_sizes=(20,), eta=0.5, epochs=300, random_state=0)


def test_learns_a_smooth_function_to_r2_above_0_95():
    y = np.sin(3 * X_LINE).ravel()
    reg = FastNNRegressor(**FAST).fit(X_LINE, y)
    assert reg.score(X_LINE, y) > 0.95
    assert reg.out_activation_ == "identity"


def test_multi_output_y_gives_multi_output_predictions():
    Y = np.c_[np.sin(3 * X_LINE), np.cos(3 * X_LINE)]
    reg = FastNNRegressor(**FAST).fit(X_LINE, Y)
    assert reg.predict(X_LINE).shape == (200, 2) and reg.n_outputs_ == 2
    assert reg.score(X_LINE, Y) > 0.9


def test_one_dimensional_y_predicts_one_dimensional():
    reg = FastNNRegressor(epochs=2, random_state=0).fit(X_LINE, X_LINE.ravel())
    assert reg.predict(X_LINE).shape == (200,)


def test_float32_in_gives_a_float32_model_and_predictions():
    reg = FastNNRegressor(epochs=2, random_state=0).fit(X_LINE.astype(np.float32),
                                                        X_LINE.ravel())
    assert reg.coefs_[0].dtype == np.float32
    assert reg.predict(X_LINE).dtype == np.float32


def test_training_matches_the_reference_with_identity_outputs_and_quadratic_cost():
    y = np.sin(3 * X_LINE)
    reg = FastNNRegressor(hidden_layer_sizes=(8, 6), eta=0.3, lmbda=1.0, epochs=3,
                          random_state=2).fit(X_LINE, y)
    rng = make_rng(2)
    net = Network.random([1, 8, 6, 1], rng, cost="quadratic", output="identity")
    history = net.SGD(X_LINE, y, 3, 10, 0.3, 1.0, rng=rng)
    np.testing.assert_allclose(pack(reg.coefs_, reg.intercepts_),
                               pack(net.weights, net.biases), atol=1e-9)
    np.testing.assert_allclose(reg.history_["train_cost"], history["train_cost"], rtol=1e-9)


def test_history_records_r2_per_epoch():
    reg = FastNNRegressor(epochs=3, random_state=0).fit(X_LINE, X_LINE.ravel(),
                                                        eval_set=(X_LINE, X_LINE.ravel()))
    assert set(reg.history_) == {"train_cost", "train_r2", "eval_cost", "eval_r2"}
    assert len(reg.history_["eval_r2"]) == 3
    assert reg.history_["eval_r2"][-1] == pytest.approx(reg.score(X_LINE, X_LINE.ravel()))


def test_partial_fit_refuses_a_different_number_of_targets():
    reg = FastNNRegressor(random_state=0).partial_fit(X_LINE, X_LINE.ravel())
    with pytest.raises(ValueError, match="targets"):
        reg.partial_fit(X_LINE, np.c_[X_LINE, X_LINE])


# -- inputs far outside the model's range ---------------------------------------

@pytest.mark.parametrize("method", ["predict", "score"])
def test_inputs_whose_outputs_overflow_are_refused_rather_than_answered_with_nan(digits,
                                                                                 method):
    # relu hidden neurons: 1e308 inputs overflow them, and inf − inf is NaN.
    X, y = digits
    reg = FastNNRegressor(activation="relu", epochs=2, random_state=0).fit(X, y / 9)
    X = np.full((2, 64), 1e308)
    args = (X, [0.0, 1.0]) if method == "score" else (X,)
    with pytest.raises(ValueError, match="2 of 2 rows .* far outside what the model can"):
        getattr(reg, method)(*args)


@pytest.mark.parametrize("value", [1e308, -1e308])
def test_predictions_for_extreme_inputs_of_a_sigmoid_network_are_finite_without_warnings(value):
    reg = FastNNRegressor(**{**FAST, "epochs": 2}).fit(X_LINE, X_LINE.ravel())
    with strict_numpy():
        assert np.all(np.isfinite(reg.predict(np.full((3, 1), value))))


def test_a_float32_regressor_refuses_targets_beyond_float32_without_numpy_warnings():
    with strict_numpy(), pytest.raises(ValueError, match="y holds values beyond float32"):
        FastNNRegressor(epochs=1).fit(X_LINE.astype(np.float32), np.full(200, 1e39))


def test_the_score_of_a_prediction_too_large_to_square_is_minus_infinity_without_warnings():
    reg = FastNNRegressor(activation="relu", hidden_layer_sizes=(20,), epochs=2,
                          random_state=0).fit(X_LINE, X_LINE.ravel())
    X = np.full((2, 1), 1e308)
    with strict_numpy():
        predictions = reg.predict(X)
        score = reg.score(X, [0.0, 1.0])
    assert np.all(np.isfinite(predictions)) and np.abs(predictions).max() > 1e200
    assert score == -np.inf


def test_from_layers_is_a_fitted_regressor_that_computes_its_layers():
    from fastnn.reference import Network

    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((1, 4)), rng.standard_normal((4, 1))]
    biases = [rng.standard_normal(4), rng.standard_normal(1)]
    reg = FastNNRegressor.from_layers(weights, biases, random_state=3)
    assert reg.hidden_layer_sizes == (4,) and reg.n_iter_ == 0 and reg.random_state == 3
    x = np.linspace(0, 1, 7)[:, None]
    expected = Network(weights, biases, cost="quadratic", output="identity").feedforward(x)
    np.testing.assert_allclose(reg.predict(x), expected[:, 0], rtol=1e-12)
    reg.set_params(warm_start=True, epochs=1).fit(x, np.sin(x).ravel())  # trains on from there
    assert reg.n_iter_ == 1


def test_reset_momentum_zeroes_the_velocity_a_warm_start_continues():
    x = np.linspace(0, 1, 50)[:, None]
    reg = FastNNRegressor(momentum=0.9, epochs=2, random_state=0).fit(x, x.ravel())
    assert np.any(reg._velocity != 0)
    assert reg.reset_momentum() is reg
    assert not np.any(reg._velocity != 0)
