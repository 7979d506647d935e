"""The book's experiments as presets: ``fastnn book ch3-regularized --data PATH``.

Each preset reruns experiments of Nielsen's *Neural Networks and Deep
Learning* with the book's settings (layers, cost, η, λ, mini-batch 10, epochs,
initialisation, training images, the set evaluated) on any MNIST-format data,
prints every epoch beside the book's figure for that epoch, and can save the
book's plot (ours beside the book's) and a ``metrics.json``.

The book's numbers are facts, each cited with its chapter: per-epoch series
from the book's repository (``book_figures/``, MIT licence, see its README)
and figures quoted in the text.  They were measured on MNIST; on other data
(Fashion-MNIST, say) they are a landmark, not a target.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from importlib import resources
from numbers import Integral
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from .. import plots
from .._plot import HINT, PlotUnavailable
from .._typing import PathLike
from .._version import __version__
from ..datasets import MNIST
from ..estimators import FastNN
from ..persistence import atomic_write

# The book evaluates on 10,000 images (MNIST's test or validation set) and
# trains on 50,000 unless it says otherwise.
BOOK_EVAL_SIZE = 10_000
BOOK_TRAIN_SIZE = 50_000
HISTORY_KEYS = ("eval_cost", "eval_accuracy", "train_cost", "train_accuracy")
MNIST_NOTE = ("book figures are for MNIST (Nielsen's 50,000 / 10,000 / 10,000 split); "
              "on other data they are a landmark, not a target")
DATA_HELP = ("MNIST-format data is a folder of LeCun's four IDX files, Nielsen's mnist.pkl.gz "
             "or Keras's mnist.npz; Debian's 'apt-get install dataset-fashion-mnist' puts "
             "Fashion-MNIST in /usr/share/datasets/fashion-mnist, and from Python "
             "fastnn.book.run_preset(name, fastnn.datasets.fetch_mnist()) downloads MNIST")

_CH1 = "ch. 1, 'Implementing our network to classify digits'"
_CH3_CROSS = "ch. 3, 'Using the cross-entropy to classify MNIST digits'"
_CH3_OVER = "ch. 3, 'Overfitting and regularization'"
_CH3_REG = "ch. 3, 'Regularization'"
_CH3_INIT = "ch. 3, 'Weight initialization'"


@dataclass(frozen=True)
class Run:
    """One training run of a preset: the book's settings and what it reported.

    Attributes
    ----------
    label : str
    params : dict
        ``FastNN`` parameters, exactly the book's.
    evaluate : {"test", "validation"}
        The set the book monitored after each epoch.
    n_train : int or None
        Train on the first ``n_train`` images (None: all of them).
    figure : str or None
        The book's per-epoch series: ``"file.json"`` in ``book_figures/``, or
        ``"file.json#key"`` for one entry of a dict of them.
    transcript : dict of int to int
        Epoch → correct images of 10,000, as printed in the text.
    quoted : float or None
        Accuracy (%) quoted in the text.
    source, panel : str
        Chapter and section of the book; subplot the run is drawn in.
    """

    label: str
    params: dict
    evaluate: str
    n_train: int | None = None
    figure: str | None = None
    transcript: dict = field(default_factory=dict)
    quoted: float | None = None
    source: str = ""
    panel: str = ""


@dataclass(frozen=True)
class Preset:
    """A named experiment: a title, its runs and the shape of the book's plot.

    Attributes
    ----------
    title : str
    runs : tuple of Run
    plot : {"accuracy", "overfitting"}
        "overfitting" draws cost and accuracy on test and training data.
    """

    title: str
    runs: tuple
    plot: str = "accuracy"  # or "overfitting": cost and accuracy, test and training


def _book(hidden, *, cost="cross_entropy", eta=0.5, lmbda=0.0, epochs=30, init="large"):
    """FastNN parameters of a book run; mini-batch 10 throughout the book."""
    return dict(hidden_layer_sizes=(hidden,), cost=cost, eta=eta, lmbda=lmbda,
                mini_batch_size=10, epochs=epochs, init=init)


def _init_runs(hidden):
    file = f"weight_initialization_{hidden}.json"
    return tuple(
        Run(f"784-{hidden}-10, {init} init", _book(hidden, eta=0.1, lmbda=5.0, init=init),
            "validation", figure=f"{file}#{init}_weight_initialization", source=_CH3_INIT,
            panel=f"{hidden} hidden neurons")
        for init in ("default", "large"))


PRESETS = {
    "ch1": Preset("network.py: 784-30-10, quadratic cost, η = 3.0", (
        Run("784-30-10, quadratic", _book(30, cost="quadratic", eta=3.0), "test",
            transcript={0: 9129, 1: 9295, 2: 9348, 27: 9528, 28: 9542, 29: 9534},
            quoted=95.42, source=_CH1),
    )),
    "ch3-cross-entropy": Preset("cross-entropy cost, η = 0.5", (
        Run("784-30-10", _book(30), "test", figure="overfitting_full.json", quoted=95.49,
            source=_CH3_CROSS),
        Run("784-100-10", _book(100), "test", quoted=96.82, source=_CH3_CROSS),
    )),
    "ch3-overfitting": Preset("1,000 training images, 400 epochs, λ = 0 and 0.1", (
        Run("λ = 0", _book(30, epochs=400), "test", n_train=1000, figure="overfitting.json",
            source=_CH3_OVER),
        Run("λ = 0.1", _book(30, lmbda=0.1, epochs=400), "test", n_train=1000,
            figure="regularized.json", source=_CH3_REG),
    ), plot="overfitting"),
    "ch3-regularized": Preset("L2 regularisation on all training images, λ = 5.0", (
        Run("784-30-10, λ = 5.0", _book(30, lmbda=5.0), "test", figure="regularized_full.json",
            quoted=96.49, source=_CH3_REG),
        Run("784-100-10, λ = 5.0", _book(100, lmbda=5.0), "validation", quoted=97.92,
            source=_CH3_REG),
        Run("784-100-10, λ = 5.0, η = 0.1, 60 epochs", _book(100, eta=0.1, lmbda=5.0, epochs=60),
            "validation", quoted=98.04, source=_CH3_REG),
    )),
    "ch3-weight-init": Preset("default N(0, 1/n_in) vs large N(0, 1) initialisation, λ = 5.0, "
                              "η = 0.1", _init_runs(30) + _init_runs(100)),
}


def load_figure(name: str) -> Any:
    """One vendored file of the book's figures, parsed.

    Parameters
    ----------
    name : str
        The file's name in ``fastnn/book/book_figures/``.

    Returns
    -------
    figures : dict or list
        Its JSON: the book's per-epoch numbers with their settings.
    """
    text = (resources.files("fastnn.book") / "book_figures" / name).read_text(encoding="utf-8")
    return json.loads(text)


def book_series(run: Run) -> Dict[str, list]:
    """The book's per-epoch figures for ``run``.

    Returns
    -------
    dict
        ``eval_cost``, ``eval_accuracy``, ``train_cost``, ``train_accuracy``:
        lists (empty where the book has none).  Accuracies are counts, out of
        10,000 for evaluation and out of the book's training-set size for
        training; a transcript fills only the epochs the text prints (None
        elsewhere).
    """
    series: Dict[str, list] = {key: [] for key in HISTORY_KEYS}
    if run.figure is not None:
        name, _, key = run.figure.partition("#")
        data = load_figure(name)
        series.update(zip(HISTORY_KEYS, data[key] if key else data))
    if run.transcript:
        series["eval_accuracy"] = [run.transcript.get(epoch)
                                   for epoch in range(max(run.transcript) + 1)]
    return series


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
        png = plots.book_preset(preset, summary, out_dir / f"{summary['preset']}.png",
                                BOOK_EVAL_SIZE)
        summary["png"] = str(png)
        write(f"plot: {png}")
    except PlotUnavailable:
        write(f"plot skipped: {HINT}")
    summary["metrics"] = str(out_dir / "metrics.json")
    text = json.dumps(summary, indent=1, ensure_ascii=False) + "\n"
    atomic_write(summary["metrics"], lambda file: file.write(text.encode("utf-8")))
    write(f"metrics: {summary['metrics']}")


# -- command line ---------------------------------------------------------------
