"""The pictures of ch. 1 and 3: learning curves, misclassified digits, and
the book presets' plots (``book_preset``, drawn by ``fastnn.book``).

Needs matplotlib (``pip install "fastnn[plot]"``); without it each function
raises ``fastnn._plot.PlotUnavailable``, an ImportError that says so.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from ._plot import image_side, pyplot, save_figure
from ._typing import ArrayLike, PathLike
from .book._preset_plot import book_preset

__all__ = ["book_preset", "learning_curves", "misclassified"]


def learning_curves(history: Mapping[str, Sequence[float]], path: PathLike,
                    score: str = "accuracy", title: Optional[str] = None) -> PathLike:
    """Cost and score per epoch, training vs evaluation data (ch. 3's plots).

    Parameters
    ----------
    history : dict of lists
        An estimator's ``history_`` (``train_cost``, ``train_<score>``,
        ``eval_cost``, ``eval_<score>``; evaluation lists may be empty).
    path : str or path-like
        Where to write the PNG.
    score : {"accuracy", "r2"}
    title : str, optional

    Returns
    -------
    path
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, (cost_axes, score_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, key, label in ((cost_axes, "cost", "cost"), (score_axes, score, score)):
        for data, style in (("train", "-"), ("eval", "--")):
            values = history.get(f"{data}_{key}", [])
            if values:
                epochs = np.arange(len(values))
                axes.plot(epochs, values, style, label=f"{data} {label}")
        axes.set_xlabel("epoch")
        # Epochs are whole: no 0.5 or 1.5 ticks on a short run.
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def misclassified(X: ArrayLike, y_true: ArrayLike, y_pred: ArrayLike, path: PathLike,
                  max_images: int = 40) -> PathLike:
    """A grid of the first ``max_images`` misclassified images, each titled
    "true → predicted".  Images are square: 8×8 digits or 28×28 MNIST.

    Parameters
    ----------
    X : ndarray of shape (n_samples, side * side)
    y_true, y_pred : ndarray of shape (n_samples,)
    path : str or path-like
    max_images : int, default=40

    Returns
    -------
    path
    """
    X, y_true, y_pred = np.asarray(X), np.asarray(y_true), np.asarray(y_pred)
    side = image_side(X.shape[1])
    if side is None:
        raise ValueError(f"{X.shape[1]} features are not a square image; cannot draw them.")
    all_wrong = np.flatnonzero(y_true != y_pred)
    wrong = all_wrong[:max_images]
    plt = pyplot()
    columns = 10
    rows = max(1, -(-len(wrong) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.3),
                                squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, i in zip(axes.flat, wrong):
        axis.imshow(X[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        axis.set_title(f"{y_true[i]} → {y_pred[i]}", fontsize=9)
    shown = f", the first {len(wrong)} shown" if len(wrong) < len(all_wrong) else ""
    figure.suptitle(f"{len(all_wrong)} misclassified (true → predicted){shown}"
                    if len(wrong) else "no misclassified images")
    return save_figure(figure, path)
