"""fastnn.plots: the pictures render, and leave the user's matplotlib alone."""
import numpy as np
import pytest

from fastnn import plots

from .conftest import assert_png_not_blank

matplotlib = pytest.importorskip("matplotlib", reason="plots need matplotlib (fastnn[plot])")

HISTORY = {"train_cost": [1.0, 0.6, 0.4], "train_accuracy": [0.7, 0.8, 0.9],
           "eval_cost": [1.1, 0.7, 0.5], "eval_accuracy": [0.6, 0.75, 0.85]}


def test_learning_curves_draw_a_png(tmp_path):
    assert_png_not_blank(plots.learning_curves(HISTORY, tmp_path / "curves.png"))


def test_learning_curves_of_three_epochs_label_only_whole_epochs(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(plots, "save_figure", lambda figure, path: drawn.append(figure))
    plots.learning_curves(HISTORY, tmp_path / "curves.png")
    for axes in drawn[0].axes:
        axes.figure.canvas.draw()
        visible = [t for t in axes.get_xticks() if axes.get_xlim()[0] <= t <= axes.get_xlim()[1]]
        assert visible and all(float(t).is_integer() for t in visible)


def test_misclassified_draws_a_png_even_with_no_mistakes(tmp_path):
    X = np.random.default_rng(0).random((5, 64))
    y = np.arange(5)
    assert_png_not_blank(plots.misclassified(X, y, y, tmp_path / "none.png"))


def test_misclassified_refuses_images_that_are_not_square(tmp_path):
    with pytest.raises(ValueError, match="not a square image"):
        plots.misclassified(np.zeros((2, 10)), [0, 1], [1, 0], tmp_path / "x.png")


def test_plots_leave_the_users_backend_and_pyplot_figures_alone(tmp_path):
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    open_figures = plt.get_fignums()
    matplotlib.use("svg")
    try:
        plots.learning_curves(HISTORY, tmp_path / "curves.png")
        assert matplotlib.get_backend() == "svg"
        assert plt.get_fignums() == open_figures
    finally:
        matplotlib.use(backend)


def book_axes_with_our_curve(n_epochs):
    """A book-plot panel with our evaluation accuracy over ``n_epochs`` epochs."""
    from matplotlib.figure import Figure

    from fastnn.book import Run
    from fastnn.book._preset_plot import _draw

    axes = Figure().subplots()
    result = {"history": {"eval_accuracy": [0.9] * n_epochs},
              "book": {"eval_accuracy": [9500] * 30, "n_train": 50_000}}
    _draw(axes, "eval_accuracy", Run("784-30-10", {}, "test"), result, "C0", 10_000)
    return axes


def test_our_curve_of_one_epoch_in_a_book_plot_has_a_marker():
    ours = book_axes_with_our_curve(1).lines[0]
    assert ours.get_label() == "784-30-10 (fastnn)" and ours.get_marker() == "o"


def test_our_curve_of_30_epochs_in_a_book_plot_is_a_plain_line():
    ours = book_axes_with_our_curve(30).lines[0]
    assert ours.get_label() == "784-30-10 (fastnn)" and ours.get_marker() in (None, "None", "")
