"""Rerunning a preset: ``run_preset`` trains its runs on MNIST-format data,
prints every epoch beside the book's, and can save the book's plot (ours
beside the book's) and a ``metrics.json``.
"""
from __future__ import annotations

import json
import time
from numbers import Integral
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from .._plot import HINT, PlotUnavailable
from .._typing import PathLike
from .._version import __version__
from ..datasets import MNIST
from ..estimators import FastNN
from ..persistence import atomic_write
from ._preset_plot import book_preset
from ._presets import BOOK_EVAL_SIZE, BOOK_TRAIN_SIZE, MNIST_NOTE, PRESETS, book_series


def run_preset(name: str, data: MNIST, *, epochs: Optional[int] = None,
               n_train: Optional[int] = None, random_state: int = 0,
               out_dir: Optional[PathLike] = None, n_threads: Optional[int] = None,
               write: Callable[[str], Any] = print, source: Optional[str] = None
               ) -> Dict[str, Any]:
    """Rerun the book's experiment ``name`` on ``data``, printing each epoch.

    Parameters
    ----------
    name : str
        A key of ``PRESETS``.
    data : fastnn.datasets.MNIST
        Split as the book's (``load_mnist(path, split="book")``).
    epochs, n_train : int or None
        Override every run's epochs / training images (for a quick look).
    random_state : int, default=0
        Seed of every run (initial weights and shuffles).
    out_dir : str or path-like or None
        If given, write ``<name>.png`` (skipped with one line without
        matplotlib) and ``metrics.json`` there.
    n_threads : int or None
        Passed to ``FastNN``.
    write : callable, default=print
        Receives each line of output.
    source : str or None
        Where the data came from (its path), for the output and metrics.

    Returns
    -------
    dict
        The settings and, per run in ``"runs"``: ``history`` (as
        ``FastNN.history_``), ``seconds`` per epoch, ``peak_accuracy``,
        ``peak_epoch``, ``final_accuracy`` (fractions) and ``book`` (its
        figures and source); ``"png"`` and ``"metrics"``: paths or None.

    Raises
    ------
    ValueError
        On an unknown preset, a non-positive override, or unsuitable data.
    KeyboardInterrupt
        Re-raised after the outputs of the epochs done are saved.
    """
    if name not in PRESETS:
        raise ValueError(f"no preset {name!r}; the presets are {', '.join(PRESETS)}")
    preset = PRESETS[name]
    for option, value in (("epochs", epochs), ("n_train", n_train)):
        if value is not None and (not isinstance(value, Integral) or value < 1):
            raise ValueError(f"{option}={value!r}: give a positive number")
    for run in preset.runs:  # refuse unsuitable data before hours of training
        _sets(run, data, n_train)
    source = "data" if source is None else str(source)
    write(f"{name}: {preset.title} — on {source}")
    write(MNIST_NOTE)
    started = time.perf_counter()
    results, interrupted = [], False
    for run in preset.runs:
        result = _train(run, data, epochs, n_train, random_state, n_threads, write)
        results.append(result)
        if result["interrupted"]:
            interrupted = True
            break
    summary = {"preset": name, "title": preset.title, "data": source, "note": MNIST_NOTE,
               "fastnn_version": __version__, "random_state": random_state,
               "n_threads": n_threads, "dtype": str(data.X_train.dtype),
               "seconds": time.perf_counter() - started, "runs": results,
               "png": None, "metrics": None}
    write(f"{name}: {len(results)} run(s) in {summary['seconds']:.1f} s")
    if out_dir is not None:
        _save(preset, summary, Path(out_dir), write)
    if interrupted:
        raise KeyboardInterrupt
    return summary


def _sets(run, data, n_train):
    """(X, y, X_eval, y_eval) of ``run``: the first n training images, the book's set."""
    if run.evaluate == "test":
        X_eval, y_eval = data.X_test, data.y_test
    else:
        X_eval, y_eval = data.X_val, data.y_val
    if len(X_eval) == 0:
        raise ValueError(f"{run.label} is evaluated on the {run.evaluate} set, which is empty; "
                         "load the data with load_mnist(path, split='book')")
    n = n_train or run.n_train or len(data.X_train)
    if n > len(data.X_train):
        raise ValueError(f"n_train={n} but the data holds {len(data.X_train)} training images")
    return data.X_train[:n], data.y_train[:n], X_eval, y_eval


def _train(run, data, epochs, n_train, random_state, n_threads, write):
    """Train ``run`` one epoch per ``fit`` (``warm_start``: the same model as
    one fit with all the epochs) so each epoch prints beside the book's."""
    X, y, X_eval, y_eval = _sets(run, data, n_train)
    n_epochs = epochs or run.params["epochs"]
    params = {**run.params, "epochs": n_epochs}
    book = book_series(run)
    clf = FastNN(**{**params, "epochs": 1}, warm_start=True, random_state=random_state,
                 n_threads=n_threads)
    write(f"{run.label}: η = {params['eta']:g}, λ = {params['lmbda']:g}, {params['cost']}, "
          f"{params['init']} init, {len(X)} training images, {n_epochs} epochs, "
          f"evaluated on {len(X_eval)} {run.evaluate} images")
    seconds, interrupted = [], False
    for epoch in range(n_epochs):
        started = time.perf_counter()
        try:
            clf.fit(X, y, eval_set=(X_eval, y_eval))
        except KeyboardInterrupt:
            write(f"interrupted in epoch {epoch}; keeping the {epoch} epoch(s) done")
            interrupted = True
            break
        seconds.append(time.perf_counter() - started)
        write(_epoch_line(epoch, clf.history_, len(X_eval), book, seconds[-1]))
    result = _result(run, clf, params, len(X), len(X_eval), seconds, book)
    result["interrupted"] = interrupted
    write(_summary_line(run, result, book))
    return result


def _result(run, clf, params, n_train, n_eval, seconds, book):
    """What one run did, beside the book's figures, as ``run_preset`` returns it."""
    history = {key: list(values) for key, values in getattr(clf, "history_", {}).items()}
    accuracy = history.get("eval_accuracy") or [None]
    peak = max(range(len(accuracy)), key=lambda epoch: accuracy[epoch] or 0.0)
    return {"label": run.label,
            "settings": {**params, "n_train": n_train, "evaluated_on": run.evaluate,
                         "n_eval": n_eval},
            "history": history, "seconds": seconds, "peak_accuracy": accuracy[peak],
            "peak_epoch": peak, "final_accuracy": accuracy[-1],
            "book": {"source": run.source, "quoted_percent": run.quoted, "figure": run.figure,
                     "n_train": run.n_train or BOOK_TRAIN_SIZE, **book}}


def _at(values, epoch):
    return values[epoch] if epoch < len(values) else None


def _epoch_line(epoch, history, n_eval, book, seconds):
    """``Epoch 7: 9612 / 10000 (book: 9594 / 10000), cost 0.412 (book: 0.398), 1.23 s``."""
    line = f"Epoch {epoch}: {round(history['eval_accuracy'][-1] * n_eval)} / {n_eval}"
    if (count := _at(book["eval_accuracy"], epoch)) is not None:
        line += f" (book: {count} / {BOOK_EVAL_SIZE})"
    line += f", cost {history['eval_cost'][-1]:.3f}"
    if (cost := _at(book["eval_cost"], epoch)) is not None:
        line += f" (book: {cost:.3f})"
    return line + f", {seconds:.2f} s"


def _summary_line(run, result, book):
    """Our peak and last accuracy beside the book's quoted figure, or its series' peak."""
    if result["peak_accuracy"] is None:
        return f"{run.label}: no epoch completed"
    line = (f"{run.label}: peak {100 * result['peak_accuracy']:.2f} % "
            f"(epoch {result['peak_epoch']}), last {100 * result['final_accuracy']:.2f} %")
    if run.quoted is not None:
        return line + f"; book: {run.quoted:.2f} % ({run.source})"
    if counts := [count for count in book["eval_accuracy"] if count is not None]:
        return line + (f"; book: peak {100 * max(counts) / BOOK_EVAL_SIZE:.2f} % in its "
                       f"figure ({run.source})")
    return line


# -- outputs --------------------------------------------------------------------

def _save(preset, summary, out_dir, write):
    """metrics.json always; the PNG when matplotlib is there (one line if not)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        png = book_preset(preset, summary, out_dir / f"{summary['preset']}.png",
                                BOOK_EVAL_SIZE)
        summary["png"] = str(png)
        write(f"plot: {png}")
    except PlotUnavailable:
        write(f"plot skipped: {HINT}")
    summary["metrics"] = str(out_dir / "metrics.json")
    text = json.dumps(summary, indent=1, ensure_ascii=False) + "\n"
    atomic_write(summary["metrics"], lambda file: file.write(text.encode("utf-8")))
    write(f"metrics: {summary['metrics']}")
