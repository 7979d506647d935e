"""Ch. 4's visual proof in numbers: ``fastnn.approx``."""
import argparse
import math

import numpy as np
import pytest
from scipy.special import expit
from sklearn.utils.validation import check_is_fitted

import fastnn
from fastnn import FastNNRegressor, approx
from fastnn._plot import HINT
from fastnn.approx import _plots as _approx_plots
from fastnn.approx._networks import _in_units_of_x
from fastnn.cli import _approx_command
from .conftest import assert_png_not_blank

N_VALUES = (5, 10, 50, 200)
# The trained sup errors measured with random_state=0 (seeds 1 and 2 give
# 0.107/0.069/0.016/0.019 and 0.099/0.070/0.018/0.017).
MEASURED = (0.1434, 0.0677, 0.0202, 0.0146)
# An f without its cos(50x) term is at least this far from f somewhere.
WIGGLE = 0.05


@pytest.fixture(scope="module")
def chapter_networks():
    """{N: (hand-built, trained)} for the chapter's f (~15-30 s: the SGD)."""
    return approx.build_networks(approx.chapter_function, N_VALUES)


@pytest.fixture(scope="module")
def chapter_rows(chapter_networks):
    """The issue's table for the chapter's f, trained networks included."""
    return approx.error_rows(approx.chapter_function, chapter_networks)


@pytest.fixture(scope="module")
def trained_10(chapter_networks):
    """The trained network with 10 neurons of the table."""
    return chapter_networks[10][1]


def parse(argv):
    return _approx_command.add_arguments(argparse.ArgumentParser()).parse_args(argv)


# -- the error table ------------------------------------------------------------

def test_hand_built_error_decreases_as_n_grows(chapter_rows):
    hand_built = [row.hand_built for row in chapter_rows]
    assert all(a > b for a, b in zip(hand_built, hand_built[1:])), hand_built


def test_hand_built_error_with_200_neurons_is_below_0_02(chapter_rows):
    assert chapter_rows[-1].n == 200 and chapter_rows[-1].hand_built < 0.02


def test_hand_built_error_obeys_the_staircase_bound():
    # Away from the steps |g − f| ≤ ½ max|f'| / (N + 1), with max|f'| ≈ 7.0 (w = 10⁵
    # makes the steps sharp enough for the bound to hold everywhere but at them).
    for n in (5, 10, 50):
        error = approx.sup_error(approx.step_network(approx.chapter_function, n, w=1e5),
                                 approx.chapter_function)
        assert error <= 0.5 * 7.0 / (n + 1) + 1e-3, (n, error)


def test_trained_error_with_200_neurons_is_under_a_quarter_of_that_with_5(chapter_rows):
    errors = {row.n: row.trained for row in chapter_rows}
    assert errors[200] < 0.25 * errors[5], errors


def test_trained_error_decreases_from_5_to_10_to_50_neurons(chapter_rows):
    errors = {row.n: row.trained for row in chapter_rows}
    assert errors[5] > errors[10] > errors[50], errors


def test_trained_networks_of_50_and_200_neurons_learn_the_cos_50x_wiggle(chapter_rows):
    # Leaving out 0.05·cos(50x) would leave an error of at least 0.05 somewhere.
    errors = {row.n: row.trained for row in chapter_rows}
    assert errors[50] < 0.6 * WIGGLE and errors[200] < 0.6 * WIGGLE, errors


def test_trained_errors_are_the_measured_ones(chapter_rows):
    # Bitwise the same on any number of threads; 10 % leaves room for another
    # CPU or BLAS build (600 epochs of SGD amplify their last-bit differences).
    assert [row.trained for row in chapter_rows] == pytest.approx(MEASURED, rel=0.1)


def test_trained_network_is_a_tanh_regressor_trained_by_sgd(trained_10):
    assert isinstance(trained_10, FastNNRegressor) and trained_10.activation == "tanh"
    assert trained_10.hidden_layer_sizes == (10,) and trained_10.n_iter_ > 100


def test_trained_network_takes_x_and_predicts_f_unscaled(trained_10):
    x = np.linspace(0, 1, 500)
    assert trained_10.score(x[:, None], approx.chapter_function(x)) > 0.95


def test_folding_the_scalings_into_the_layers_keeps_every_prediction():
    x = np.linspace(-0.2, 1.2, 301)
    u = approx.INPUT_SCALE * (x - 0.5)
    network = FastNNRegressor(hidden_layer_sizes=(6,), activation="tanh", epochs=2,
                              random_state=0).fit(u[:, None], np.sin(u))
    scaled = network.predict(u[:, None])
    folded = _in_units_of_x(network, k=4.0, mean=0.3)
    np.testing.assert_allclose(folded.predict(x[:, None]), scaled / 4.0 + 0.3, atol=1e-12)


def test_warm_start_from_a_trained_network_starts_without_momentum():
    network = approx.trained_network(approx.chapter_function, 10, epochs=30)
    before = approx.sup_error(network, approx.chapter_function)
    x = np.linspace(0, 1, 200)
    network.set_params(warm_start=True, epochs=1, eta=1e-9, eta_schedule="constant")
    network.fit(x[:, None], approx.chapter_function(x))
    assert approx.sup_error(network, approx.chapter_function) == pytest.approx(before, abs=1e-6)


def test_table_without_training_has_no_trained_errors():
    rows = approx.sup_error_table(approx.chapter_function, (3, 7), train=False)
    assert [(row.n, row.trained) for row in rows] == [(3, None), (7, None)]


def test_format_table_prints_a_header_and_one_line_per_n():
    text = approx.format_table([approx.Row(5, 0.315, 0.1072), approx.Row(200, 0.0039, None)])
    lines = text.splitlines()
    assert len(lines) == 3 and "hand-built" in lines[0]
    assert lines[1].split() == ["5", "0.3150", "0.1072"]
    assert lines[2].split() == ["200", "0.0039", "-"]


# -- the second caveat: a discontinuous target ------------------------------------

def test_grid_straddles_the_jump_of_the_step_target_within_1e_9():
    below = approx.GRID[approx.GRID < 0.5].max()
    assert 0.5 in approx.GRID and 0.5 - below < 1.001e-9


@pytest.mark.parametrize("n", [*N_VALUES, 1000])
def test_hand_built_network_misses_the_step_target_by_at_least_0_4(n):
    network = approx.step_network(approx.unit_step, n)
    assert approx.sup_error(network, approx.unit_step) >= 0.4


def test_trained_network_misses_the_step_target_by_at_least_0_4():
    network = approx.trained_network(approx.unit_step, 10, epochs=20)
    assert approx.sup_error(network, approx.unit_step) >= 0.4


# -- the hand-built network is a fitted FastNNRegressor ---------------------------

def test_step_network_is_a_fitted_regressor_with_n_sigmoid_neurons():
    network = approx.step_network(approx.chapter_function, 7)
    check_is_fitted(network)
    assert isinstance(network, FastNNRegressor)
    assert network.hidden_layer_sizes == (7,) and network.activation == "sigmoid"
    assert [w.shape for w in network.coefs_] == [(1, 7), (7, 1)]
    assert network.out_activation_ == "identity" and network.n_iter_ == 0


def test_step_network_predicts_the_telescoping_staircase():
    # g(x) = f(c_0) + Σ_j (f(c_j) − f(c_{j−1})) σ(w(x − s_j)), written out directly.
    f, n, w = approx.chapter_function, 9, 300.0
    steps = np.arange(1, n + 1) / (n + 1)
    heights = f((np.arange(n + 1) + 0.5) / (n + 1))
    x = np.linspace(-0.2, 1.2, 301)
    expected = heights[0] + expit(w * (x[:, None] - steps)) @ np.diff(heights)
    predicted = approx.step_network(f, n, w).predict(x[:, None])
    np.testing.assert_allclose(predicted, expected, rtol=1e-12, atol=1e-12)


def test_step_network_scores_r2_near_one_with_200_neurons():
    x = np.linspace(0, 1, 500)
    network = approx.step_network(approx.chapter_function, 200)
    assert network.score(x[:, None], approx.chapter_function(x)) > 0.999


def test_save_and_load_round_trip_gives_identical_predictions(tmp_path):
    network = approx.step_network(approx.chapter_function, 50)
    network.save(tmp_path / "steps.npz")
    loaded = fastnn.load(tmp_path / "steps.npz")
    grid = approx.GRID[:, None]
    np.testing.assert_array_equal(loaded.predict(grid), network.predict(grid))


def test_predict_refuses_x_with_two_features():
    with pytest.raises(ValueError, match="features"):
        approx.step_network(approx.chapter_function, 5).predict(np.zeros((3, 2)))


def test_warm_start_fit_continues_from_the_hand_built_weights():
    network = approx.step_network(approx.chapter_function, 20)
    before = network.coefs_[0].copy()
    x = np.linspace(0, 1, 100)
    network.set_params(warm_start=True, epochs=1, eta=1e-4)
    network.fit(x[:, None], approx.chapter_function(x))
    assert network.n_iter_ == 1
    np.testing.assert_allclose(network.coefs_[0], before, rtol=1e-3)


def test_constant_f_gives_a_flat_network():
    network = approx.step_network(lambda x: 0.25, 4)
    np.testing.assert_allclose(network.predict(approx.GRID[:, None]), 0.25)


# -- bad arguments --------------------------------------------------------------

@pytest.mark.parametrize("n_steps", [0, -3])
def test_n_steps_below_one_raises_value_error(n_steps):
    with pytest.raises(ValueError, match=f"n_steps={n_steps}"):
        approx.step_network(approx.chapter_function, n_steps)


@pytest.mark.parametrize("n_steps", [2.5, "5", True, None])
def test_n_steps_that_is_not_an_integer_raises_type_error(n_steps):
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        approx.step_network(approx.chapter_function, n_steps)


@pytest.mark.parametrize("f", [None, 3.0, [0.1, 0.2]])
def test_f_that_is_not_callable_raises_type_error(f):
    with pytest.raises(TypeError, match="callable"):
        approx.step_network(f, 5)


@pytest.mark.parametrize("w", [0, -1.0, math.inf, math.nan])
def test_w_that_is_not_a_positive_finite_number_raises_value_error(w):
    with pytest.raises(ValueError, match="w="):
        approx.step_network(approx.chapter_function, 5, w=w)


def test_w_that_is_not_a_number_raises_type_error():
    with pytest.raises(TypeError, match="w must be a real number"):
        approx.step_network(approx.chapter_function, 5, w="1000")


@pytest.mark.parametrize("f", [lambda x: np.log(x - 0.3), lambda x: 1 / (x - x)])
def test_f_returning_non_finite_values_raises_value_error(f):
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="must be finite"):
        approx.step_network(f, 5)


def test_f_returning_the_wrong_shape_raises_value_error():
    with pytest.raises(ValueError, match="elementwise"):
        approx.step_network(lambda x: np.ones(3), 5)


def test_f_returning_text_raises_type_error():
    with pytest.raises(TypeError, match="not numbers"):
        approx.step_network(lambda x: "high", 5)


def test_empty_n_values_raises_value_error():
    with pytest.raises(ValueError, match="n_values is empty"):
        approx.sup_error_table(approx.chapter_function, (), train=False)


def test_zero_epochs_raises_value_error():
    with pytest.raises(ValueError, match="epochs=0"):
        approx.trained_network(approx.chapter_function, 5, epochs=0)


# -- figures --------------------------------------------------------------------

def test_steepening_plot_renders(tmp_path):
    pytest.importorskip("matplotlib")
    assert_png_not_blank(_approx_plots.plot_steepening(tmp_path / "steepening.png"))


def test_bias_shift_plot_renders(tmp_path):
    pytest.importorskip("matplotlib")
    assert_png_not_blank(_approx_plots.plot_bias_shift(tmp_path / "bias.png"))


def test_approximation_plot_renders_hand_built_and_trained_networks(tmp_path):
    pytest.importorskip("matplotlib")
    f = approx.chapter_function
    networks = approx.build_networks(f, (5, 50), train=False)
    networks[5] = (networks[5][0], approx.trained_network(f, 5, epochs=5))
    path = _approx_plots.plot_approximation(tmp_path / "overlay.png", f, networks, title="f")
    assert_png_not_blank(path)


# -- command line ---------------------------------------------------------------

def test_add_arguments_defaults_to_the_issue_table():
    args = parse([])
    assert (args.out, args.n, args.no_train, args.seed) == ("approx-out", [5, 10, 50, 200],
                                                            False, 0)


def test_command_prints_both_tables_and_writes_four_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figures"
    assert _approx_command.command(parse(["--out", str(out), "--n", "5", "50", "--no-train"])) == 0
    printed = capsys.readouterr().out
    assert "cos(50x)" in printed and "unit step" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == ["bias-shift.png", "chapter-f.png", "steepening.png", "step-target.png"]
    for name in names:
        assert f"wrote {out / name}" in printed
        assert_png_not_blank(out / name)


def test_command_shows_progress_on_a_terminal_stderr_only(tmp_path, capsys, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    _approx_command.command(parse(["--out", str(tmp_path), "--n", "5", "--no-train"]))
    assert "networks" not in capsys.readouterr().err  # a log: no bar
    monkeypatch.setattr(sys, "stderr", Terminal())
    _approx_command.command(parse(["--out", str(tmp_path), "--n", "5", "--no-train"]))
    assert "networks" in sys.stderr.getvalue()


def test_command_without_matplotlib_prints_tables_and_one_skip_line(tmp_path, capsys,
                                                                   no_matplotlib):
    out = tmp_path / "figures"
    assert _approx_command.command(parse(["--out", str(out), "--n", "5", "--no-train"])) == 0
    printed = capsys.readouterr().out
    assert printed.count("hand-built") == 2 and f"figures skipped: {HINT}" in printed
    assert not list(out.glob("*.png"))


def test_command_refuses_a_file_as_the_out_folder(tmp_path):
    file = tmp_path / "taken"
    file.write_text("")
    with pytest.raises(ValueError, match="is a file"):
        _approx_command.command(parse(["--out", str(file), "--n", "5", "--no-train"]))


def test_command_refuses_n_below_one(tmp_path):
    with pytest.raises(ValueError, match="N=0"):
        _approx_command.command(parse(["--out", str(tmp_path), "--n", "0", "--no-train"]))


def test_command_refuses_an_out_folder_it_cannot_create(tmp_path):
    pytest.importorskip("matplotlib")  # without it no folder is made
    (tmp_path / "taken").write_text("")
    with pytest.raises(ValueError, match="cannot create the folder"):
        _approx_command.command(parse(["--out", str(tmp_path / "taken" / "figures"), "--n", "5",
                              "--no-train"]))
