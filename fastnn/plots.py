"""The pictures of ch. 1 and 3: learning curves and misclassified digits.

Needs matplotlib (``pip install "fastnn[plot]"``); without it each function
raises ``fastnn._plot.PlotUnavailable``, an ImportError that says so.
"""
import numpy as np

from ._plot import pyplot, save_figure


def learning_curves(history, path, score="accuracy", title=None):
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
    figure, (cost_axes, score_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, key, label in ((cost_axes, "cost", "cost"), (score_axes, score, score)):
        for data, style in (("train", "-"), ("eval", "--")):
            values = history.get(f"{data}_{key}", [])
            if values:
                epochs = np.arange(len(values))
                axes.plot(epochs, values, style, label=f"{data} {label}")
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def misclassified(X, y_true, y_pred, path, max_images=40):
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
    side = int(round(np.sqrt(X.shape[1])))
    if side * side != X.shape[1]:
        raise ValueError(f"{X.shape[1]} features are not a square image; cannot draw them.")
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:max_images]
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
    figure.suptitle(f"{len(wrong)} misclassified (true → predicted)"
                    if len(wrong) else "no misclassified images")
    return save_figure(figure, path)
