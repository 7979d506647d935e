"""The book's plot of a preset: our curves solid, the book's dashed.

Needs matplotlib (``pip install "fastnn[plot]"``); without it ``book_preset``
raises ``fastnn._plot.PlotUnavailable``, an ImportError that says so.
``fastnn.plots`` offers it beside the other pictures.
"""
from __future__ import annotations

from typing import Any, Mapping

from .._plot import pyplot, save_figure
from .._typing import PathLike
from ._presets import Preset

# Up to this many epochs our curve in a book plot has a marker per epoch.
FEW_EPOCHS = 10

_OVERFITTING_PANELS = (("train_cost", "Cost on the training data"),
                       ("eval_accuracy", "Accuracy (%) on the test data"),
                       ("eval_cost", "Cost on the test data"),
                       ("train_accuracy", "Accuracy (%) on the training data"))


def book_preset(preset: Preset, summary: Mapping[str, Any], path: PathLike,
                book_eval_size: int = 10_000) -> PathLike:
    """Draw the book's plot for a ``fastnn.book`` preset: ours solid, the book's dashed.

    ``summary`` is what ``run_preset`` returns; the book's accuracies are
    counts out of ``book_eval_size``.  Accuracy presets get one panel per
    ``Run.panel`` (evaluation accuracy per epoch; a quoted figure is a dotted
    line, a transcript dots); the overfitting preset gets the book's four
    panels.

    Parameters
    ----------
    preset : Preset
        A ``fastnn.book`` preset.
    summary : Mapping
        What ``run_preset`` returned for it.
    path : path-like
        The PNG to write.
    book_eval_size : int
        The book's evaluation set size, its accuracies' denominator.

    Returns
    -------
    path-like
        ``path``.

    Raises
    ------
    fastnn._plot.PlotUnavailable
        If matplotlib is not installed.
    """
    plt = pyplot()
    runs = list(zip(preset.runs, summary["runs"]))
    if preset.plot == "overfitting":
        panels = [(key, title, runs) for key, title in _OVERFITTING_PANELS]
    else:
        panels = []
        for name in dict.fromkeys(run.panel for run, _ in runs):
            pairs = [pair for pair in runs if pair[0].panel == name]
            evaluated = " and ".join(dict.fromkeys(run.evaluate for run, _ in pairs))
            title = f"Accuracy (%) on the {evaluated} data"
            panels.append(("eval_accuracy", f"{name}: {title.lower()}" if name else title, pairs))
    n_cols = 2 if len(panels) > 1 else 1
    n_rows = -(-len(panels) // n_cols)
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(6.5 * n_cols, 4.5 * n_rows),
                                squeeze=False, layout="constrained")
    for ax, (key, title, pairs) in zip(axes.flat, panels):
        for colour, (run, result) in enumerate(pairs):
            _draw(ax, key, run, result, f"C{colour}", book_eval_size)
        ax.set_title(title)
        ax.set_xlabel("Epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    figure.suptitle(f"{summary['preset']}: {summary['title']}\n{summary['data']}; "
                    f"{summary['note']}", fontsize="small")
    return save_figure(figure, path)


def _draw(ax, key, run, result, colour, book_eval_size):
    """Our curve and the book's for one history key, accuracies in percent.

    A run of a few epochs (``--epochs 1``) gets a marker on each of them: a
    line through one point draws nothing.
    """
    ours = result["history"].get(key, [])
    scale = 100.0 if key.endswith("accuracy") else 1.0
    ax.plot(range(len(ours)), [scale * value for value in ours], color=colour,
            marker="o" if len(ours) <= FEW_EPOCHS else None, markersize=4,
            label=f"{run.label} (fastnn)")
    book = result["book"][key]
    if key.endswith("accuracy"):
        total = book_eval_size if key == "eval_accuracy" else result["book"]["n_train"]
        book = [None if count is None else 100.0 * count / total for count in book]
    points = [(epoch, value) for epoch, value in enumerate(book) if value is not None]
    if points and len(points) < len(book):  # a transcript: only some epochs
        ax.plot(*zip(*points), "o", color=colour, mfc="none", label=f"{run.label} (book)")
    elif points:
        ax.plot(*zip(*points), "--", color=colour, alpha=0.8, label=f"{run.label} (book)")
    if key == "eval_accuracy" and run.quoted is not None:
        ax.axhline(run.quoted, color=colour, ls=":", lw=1,
                   label=f"book: {run.quoted:.2f} %")
