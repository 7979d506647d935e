"""Tests for ``fastnn.book``: each preset's settings against the book's (the
values of ``fastnn/book/book_figures/README.md`` and the chapters it cites), every
preset on tiny MNIST-format data made here, the outputs, the command line."""
import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from fastnn import FastNN, book
from fastnn._plot import HINT
from fastnn.cli import _book_command
from fastnn.datasets import load_mnist

from .conftest import assert_png_not_blank

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
QUICK = dict(epochs=2, n_train=200)


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory):
    """sklearn's digits as a Keras-style .npz of uint8 images: 1,200 train, 597 test."""
    X, y = load_digits(return_X_y=True)
    images = np.round(X * 255 / 16).astype(np.uint8).reshape(-1, 8, 8)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, x_train=images[:1200], y_train=y[:1200],
             x_test=images[1200:], y_test=y[1200:])
    return path


@pytest.fixture(scope="module")
def data(digits_npz):
    """The .npz with the book's split: 1,000 train, 200 validation, 597 test."""
    return load_mnist(digits_npz, split="book")


def run_quietly(name, data, **kwargs):
    lines = []
    result = book.run_preset(name, data, write=lines.append, **{**QUICK, **kwargs})
    return result, lines


def settings(name):
    """(label, params, n_train, evaluated set, figure, quoted %) of each run."""
    return [(run.label, run.params, run.n_train, run.evaluate, run.figure, run.quoted)
            for run in book.PRESETS[name].runs]


def book_params(hidden, *, cost="cross_entropy", eta, lmbda=0.0, epochs=30, init="large"):
    return dict(hidden_layer_sizes=(hidden,), cost=cost, eta=eta, lmbda=lmbda,
                mini_batch_size=10, epochs=epochs, init=init)


# -- the presets are the book's experiments ---------------------------------------

def test_ch1_is_network_py_with_quadratic_cost_and_large_weights():
    (run,) = book.PRESETS["ch1"].runs
    assert run.params == book_params(30, cost="quadratic", eta=3.0)
    assert (run.n_train, run.evaluate, run.quoted) == (None, "test", 95.42)
    # ch. 1's printed transcript: the first three and the last three epochs.
    assert run.transcript == {0: 9129, 1: 9295, 2: 9348, 27: 9528, 28: 9542, 29: 9534}


def test_ch3_cross_entropy_runs_30_and_100_hidden_neurons_at_eta_half():
    assert settings("ch3-cross-entropy") == [
        ("784-30-10", book_params(30, eta=0.5), None, "test", "overfitting_full.json", 95.49),
        ("784-100-10", book_params(100, eta=0.5), None, "test", None, 96.82),
    ]


def test_ch3_overfitting_trains_1000_images_for_400_epochs_with_and_without_l2():
    assert settings("ch3-overfitting") == [
        ("λ = 0", book_params(30, eta=0.5, epochs=400), 1000, "test", "overfitting.json", None),
        ("λ = 0.1", book_params(30, eta=0.5, lmbda=0.1, epochs=400), 1000, "test",
         "regularized.json", None),
    ]
    assert book.PRESETS["ch3-overfitting"].plot == "overfitting"


def test_ch3_regularized_uses_lambda_5_on_all_images():
    # 97.92 % is 100 hidden neurons at η = 0.5 for 30 epochs; the 60-epoch run
    # is the book's "tuning just a little more": η = 0.1, 98.04 % (ch. 3).
    assert settings("ch3-regularized") == [
        ("784-30-10, λ = 5.0", book_params(30, eta=0.5, lmbda=5.0), None, "test",
         "regularized_full.json", 96.49),
        ("784-100-10, λ = 5.0", book_params(100, eta=0.5, lmbda=5.0), None, "validation",
         None, 97.92),
        ("784-100-10, λ = 5.0, η = 0.1, 60 epochs",
         book_params(100, eta=0.1, lmbda=5.0, epochs=60), None, "validation", None, 98.04),
    ]


def test_ch3_weight_init_compares_default_and_large_init_on_the_validation_set():
    expected = [
        (f"784-{hidden}-10, {init} init", book_params(hidden, eta=0.1, lmbda=5.0, init=init),
         None, "validation", f"weight_initialization_{hidden}.json#{init}_weight_initialization",
         None)
        for hidden in (30, 100) for init in ("default", "large")]
    assert settings("ch3-weight-init") == expected


# -- the vendored figures ---------------------------------------------------------

@pytest.mark.parametrize("name, length", [
    ("overfitting.json", 400), ("regularized.json", 400),
    ("overfitting_full.json", 30), ("regularized_full.json", 30)])
def test_vendored_series_hold_four_monitors_of_every_epoch(name, length):
    assert [len(series) for series in book.load_figure(name)] == [length] * 4


@pytest.mark.parametrize("hidden", [30, 100])
def test_vendored_weight_init_figures_hold_30_validation_accuracies_per_init(hidden):
    figure = book.load_figure(f"weight_initialization_{hidden}.json")
    for init in ("default", "large"):
        assert [len(series) for series in figure[f"{init}_weight_initialization"]] == \
            [0, 30, 0, 0]


def test_vendored_figures_keep_the_mit_notice():
    from importlib import resources
    readme = (resources.files("fastnn.book") / "book_figures" / "README.md").read_text("utf-8")
    assert "MIT License, Copyright (c) 2012-2022 Michael Nielsen" in readme


def test_regularized_figure_peaks_at_the_accuracy_the_book_quotes():
    # ch. 3 quotes 96.49 % for λ = 5.0, 30 hidden neurons: the peak of its plot.
    (run, *_) = book.PRESETS["ch3-regularized"].runs
    assert max(book.book_series(run)["eval_accuracy"]) / 100 == run.quoted


def test_transcript_fills_only_the_epochs_the_text_prints():
    series = book.book_series(book.PRESETS["ch1"].runs[0])["eval_accuracy"]
    assert len(series) == 30 and series[28] == 9542 and series[3:27] == [None] * 24


# -- running a preset -----------------------------------------------------------

@pytest.mark.parametrize("name", list(book.PRESETS))
def test_every_preset_runs_each_of_its_runs_for_the_epochs_asked(name, data):
    result, _ = run_quietly(name, data, epochs=1)
    assert len(result["runs"]) == len(book.PRESETS[name].runs)
    for run in result["runs"]:
        assert len(run["history"]["eval_accuracy"]) == 1 and len(run["seconds"]) == 1
        assert run["settings"]["n_train"] == 200


def test_each_epoch_prints_beside_the_books_figure_for_that_epoch(data):
    _, lines = run_quietly("ch3-regularized", data)
    epoch_lines = [line for line in lines if line.startswith("Epoch")]
    # regularized_full.json: 9212 then 9341 of 10,000, test cost 4.307 then 2.933.
    assert "(book: 9212 / 10000), cost" in epoch_lines[0] and "(book: 4.307)" in epoch_lines[0]
    assert "(book: 9341 / 10000)" in epoch_lines[1]
    assert epoch_lines[0].startswith("Epoch 0: ") and " / 597 " in epoch_lines[0]


def test_epochs_without_a_book_figure_print_ours_alone(data):
    _, lines = run_quietly("ch3-cross-entropy", data, epochs=1)
    hundred = lines[lines.index(next(line for line in lines if line.startswith("784-100-10:"))) + 1]
    assert hundred.startswith("Epoch 0: ") and "book" not in hundred


def test_ch1_prints_the_transcript_of_chapter_1(data):
    _, lines = run_quietly("ch1", data, epochs=1)
    assert any(line.startswith("Epoch 0: ") and "(book: 9129 / 10000)" in line
               for line in lines)


def test_summary_line_cites_the_chapter_of_the_quoted_figure(data):
    _, lines = run_quietly("ch3-cross-entropy", data, epochs=1)
    assert any(line.startswith("784-30-10: peak ") and line.endswith(
        "book: 95.49 % (ch. 3, 'Using the cross-entropy to classify MNIST digits')")
        for line in lines)


def test_summary_line_without_a_quoted_figure_gives_the_peak_of_the_books_plot(data):
    _, lines = run_quietly("ch3-weight-init", data, epochs=1)
    assert any("book: peak 96.53 % in its figure (ch. 3, 'Weight initialization')" in line
               for line in lines)


def test_output_says_in_one_line_that_the_book_figures_are_for_mnist(data):
    _, lines = run_quietly("ch1", data, epochs=1)
    assert sum("book figures are for MNIST" in line for line in lines) == 1


def test_training_one_epoch_per_fit_gives_the_model_of_one_fit(data):
    result, _ = run_quietly("ch3-regularized", data, random_state=3)
    run = book.PRESETS["ch3-regularized"].runs[0]
    whole = FastNN(**{**run.params, "epochs": 2}, random_state=3).fit(
        data.X_train[:200], data.y_train[:200], eval_set=(data.X_test, data.y_test))
    assert result["runs"][0]["history"] == whole.history_


def test_overfitting_preset_trains_on_the_first_1000_images_by_default(data):
    result, _ = run_quietly("ch3-overfitting", data, epochs=1, n_train=None)
    assert [run["settings"]["n_train"] for run in result["runs"]] == [1000, 1000]


def test_peak_accuracy_is_the_best_epoch_of_the_evaluation_history(data):
    result, _ = run_quietly("ch1", data, epochs=3)
    (run,) = result["runs"]
    accuracy = run["history"]["eval_accuracy"]
    assert run["peak_accuracy"] == max(accuracy) == accuracy[run["peak_epoch"]]
    assert run["final_accuracy"] == accuracy[-1]


# -- outputs ----------------------------------------------------------------------

def test_out_dir_gets_metrics_with_settings_history_and_book_figures(data, tmp_path):
    result, _ = run_quietly("ch3-overfitting", data, out_dir=tmp_path, source="tiny.npz")
    metrics = json.loads((tmp_path / "metrics.json").read_text("utf-8"))
    assert metrics["data"] == "tiny.npz" and "book figures are for MNIST" in metrics["note"]
    (first, second) = metrics["runs"]
    assert first["settings"]["lmbda"] == 0.0 and second["settings"]["lmbda"] == 0.1
    assert first["settings"]["evaluated_on"] == "test" and first["settings"]["epochs"] == 2
    assert len(first["history"]["train_cost"]) == 2 and len(first["seconds"]) == 2
    assert len(second["book"]["eval_accuracy"]) == 400 and second["book"]["n_train"] == 1000
    assert metrics["metrics"] == result["metrics"] == str(tmp_path / "metrics.json")


@pytest.mark.parametrize("name", ["ch1", "ch3-overfitting", "ch3-weight-init"])
def test_out_dir_gets_a_plot_of_the_preset(name, data, tmp_path):
    pytest.importorskip("matplotlib")
    result, lines = run_quietly(name, data, out_dir=tmp_path)
    assert result["png"] == str(tmp_path / f"{name}.png")
    assert f"plot: {result['png']}" in lines
    assert_png_not_blank(result["png"])


def test_without_matplotlib_the_plot_is_skipped_with_one_line(data, tmp_path, no_matplotlib):
    result, lines = run_quietly("ch1", data, out_dir=tmp_path)
    assert f"plot skipped: {HINT}" in lines
    assert result["png"] is None and (tmp_path / "metrics.json").is_file()
    assert not list(tmp_path.glob("*.png"))


def test_ctrl_c_saves_the_epochs_done_then_reraises(data, tmp_path, monkeypatch):
    fit = FastNN.fit

    def interrupted_in_epoch_1(self, *args, **kwargs):
        if getattr(self, "n_iter_", 0) == 1:
            raise KeyboardInterrupt
        return fit(self, *args, **kwargs)
    monkeypatch.setattr(FastNN, "fit", interrupted_in_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        run_quietly("ch3-cross-entropy", data, out_dir=tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text("utf-8"))
    (run,) = metrics["runs"]
    assert run["interrupted"] and len(run["history"]["eval_accuracy"]) == 1


# -- errors -----------------------------------------------------------------------

def test_unknown_preset_is_refused_with_the_list_of_presets(data):
    with pytest.raises(ValueError, match="no preset 'ch2'; the presets are ch1, "):
        book.run_preset("ch2", data)


@pytest.mark.parametrize("option", ["epochs", "n_train"])
def test_non_positive_override_is_refused(option, data):
    with pytest.raises(ValueError, match=f"{option}=0"):
        book.run_preset("ch1", data, **{option: 0})


def test_more_training_images_than_the_data_holds_is_refused(data):
    with pytest.raises(ValueError, match="n_train=5000 but the data holds 1000"):
        book.run_preset("ch1", data, n_train=5000)


def test_validation_preset_on_data_without_a_validation_set_fails_before_training(
        digits_npz):
    full = load_mnist(digits_npz, split="full")
    lines = []
    with pytest.raises(ValueError, match="validation set, which is empty"):
        book.run_preset("ch3-regularized", full, write=lines.append)
    assert not any(line.startswith("Epoch") for line in lines)


# -- command line -----------------------------------------------------------------

def parse(*argv):
    return _book_command.add_arguments(argparse.ArgumentParser(prog="fastnn book")).parse_args(argv)


def test_command_runs_a_preset_and_saves_its_outputs(digits_npz, tmp_path, capsys):
    args = parse("ch1", "--data", str(digits_npz), "--epochs", "1", "--n-train", "100",
                 "--out", str(tmp_path), "--seed", "2", "--threads", "1")
    assert _book_command.command(args) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text("utf-8"))
    assert metrics["data"] == str(digits_npz) and metrics["random_state"] == 2
    assert "Epoch 0: " in capsys.readouterr().out


def test_command_refuses_a_preset_that_does_not_exist():
    with pytest.raises(SystemExit):
        parse("ch9", "--data", ".")


def test_command_without_data_says_where_mnist_format_data_comes_from():
    with pytest.raises(ValueError, match="--data PATH is required") as error:
        _book_command.command(parse("ch1"))
    assert "fetch_mnist()" in str(error.value)
    assert "/usr/share/datasets/fashion-mnist" in str(error.value)


def test_command_on_a_missing_path_says_where_mnist_format_data_comes_from(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as error:
        _book_command.command(parse("ch1", "--data", str(tmp_path / "nowhere")))
    assert "dataset-fashion-mnist" in str(error.value) and "\n" not in str(error.value)


# -- real data --------------------------------------------------------------------

@pytest.mark.skipif(not FASHION_MNIST.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_preset_runs_on_real_fashion_mnist():
    fashion = load_mnist(FASHION_MNIST, split="book")
    result, lines = run_quietly("ch3-cross-entropy", fashion, epochs=1, n_train=500,
                                source=str(FASHION_MNIST))
    accuracy = result["runs"][0]["history"]["eval_accuracy"][0]
    assert 0.3 < accuracy < 1.0  # clearly learning, from 500 images in one epoch
    assert " / 10000 (book: 9136 / 10000)" in next(line for line in lines
                                                   if line.startswith("Epoch"))
