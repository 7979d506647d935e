"""The book's experiments as presets: ``fastnn book ch3-regularized --data PATH``.

Each preset reruns experiments of Nielsen's *Neural Networks and Deep
Learning* with the book's settings on any MNIST-format data and prints every
epoch beside the book's figure for that epoch.  ``_presets`` holds the
presets and the book's numbers (``book_figures/``, vendored from the book's
repository, MIT licence); ``_rerun`` trains a preset's runs
(``run_preset``); ``_preset_plot`` draws ours beside the book's (offered as
``fastnn.plots.book_preset`` too).

Owns the book's settings and numbers, each cited with its chapter.  Trains
with ``FastNN`` on ``fastnn.datasets``' MNIST and writes its metrics with
``fastnn.persistence.atomic_write``.

May not import ``fastnn.plots`` (which offers this package's plot),
``fastnn.approx`` or ``fastnn.cli``.
"""
from ._presets import (
    BOOK_EVAL_SIZE,
    BOOK_TRAIN_SIZE,
    DATA_HELP,
    HISTORY_KEYS,
    MNIST_NOTE,
    PRESETS,
    Preset,
    Run,
    book_series,
    load_figure,
)
from ._rerun import run_preset

__all__ = ["BOOK_EVAL_SIZE", "BOOK_TRAIN_SIZE", "DATA_HELP", "HISTORY_KEYS", "MNIST_NOTE",
           "PRESETS", "Preset", "Run", "book_series", "load_figure", "run_preset"]
