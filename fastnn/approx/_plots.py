"""Ch. 4's figures: σ(wx + b) turning into a step, and f against the networks.

``fastnn approx`` draws them (``fastnn.cli._approx_command``).  Needs matplotlib
(``pip install "fastnn[plot]"``); without it each function raises
``fastnn._plot.PlotUnavailable``.
"""
import numpy as np
from scipy.special import expit

from .._plot import pyplot, save_figure
from ._networks import GRID, _values, sup_error


def plot_steepening(path, *, s=0.4, weights=(2, 5, 10, 25, 100, 1000)):
    """σ(wx + b) with b = −ws for growing w: the curve turns into a step at s = −b/w."""
    return _neurons_figure(path, [(w, -w * s, f"w = {w:g}, b = {-w * s:g}") for w in weights],
                           f"Larger w, sharper step at s = −b/w = {s:g}")


def plot_bias_shift(path, *, w=100.0, biases=(-10, -30, -50, -70, -90)):
    """σ(wx + b) for a large w and several b: the step sits at s = −b/w."""
    return _neurons_figure(path, [(w, b, f"b = {b:g}: s = {-b / w:g}") for b in biases],
                           f"w = {w:g}: the bias b moves the step")


def _neurons_figure(path, neurons, title):
    """One curve σ(wx + b) per (w, b, label), a dotted line at each s = −b/w."""
    plt = pyplot()
    x = np.linspace(0.0, 1.0, 2001)
    figure, axes = plt.subplots(figsize=(6, 4))
    for w, b, label in neurons:
        line, = axes.plot(x, expit(w * x + b), label=label)
        axes.axvline(-b / w, color=line.get_color(), linestyle=":", linewidth=1)
    axes.set(xlabel="x", ylabel="σ(wx + b)", title=title)
    axes.legend(fontsize="small")
    return save_figure(figure, path)


def plot_approximation(path, f, networks, *, title):
    """f and each network's g, one panel per N, with both sup errors in the title."""
    plt = pyplot()
    n_panels = len(networks)
    n_cols = min(2, n_panels)
    n_rows = -(-n_panels // n_cols)
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(5.5 * n_cols, 3.6 * n_rows),
                                squeeze=False)
    target = _values(f, GRID)
    for panel, (n, (hand, trained)) in zip(axes.flat, networks.items()):
        panel.plot(GRID, target, color="black", linewidth=2.5, label="f")
        panel.plot(GRID, hand.predict(GRID[:, None]), color="tab:orange", label="hand-built g")
        errors = f"hand-built {sup_error(hand, f):.3f}"
        if trained is not None:
            panel.plot(GRID, trained.predict(GRID[:, None]), color="tab:blue",
                       linestyle="--", label="SGD-trained g")
            errors += f", SGD {sup_error(trained, f):.3f}"
        panel.set(xlabel="x", title=f"N = {n}: max|g − f| = {errors}")
        panel.legend(fontsize="small")
    for panel in list(axes.flat)[n_panels:]:
        panel.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    return save_figure(figure, path)
