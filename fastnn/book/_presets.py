"""The book's experiments, as data: ``PRESETS`` and the book's own numbers.

Each ``Preset`` names runs with the book's settings (layers, cost, η, λ,
mini-batch 10, epochs, initialisation, training images, the set evaluated)
and what the book reported for them.  The book's numbers are facts, each
cited with its chapter: per-epoch series from the book's repository
(``book_figures/``, MIT licence, see its README) and figures quoted in the
text.  They were measured on MNIST; on other data (Fashion-MNIST, say) they
are a landmark, not a target.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Dict

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
