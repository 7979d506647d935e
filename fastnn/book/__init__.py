"""The book's experiments as presets: ``fastnn book ch3-regularized --data PATH``.

Each preset reruns experiments of Nielsen's *Neural Networks and Deep
Learning* with the book's settings on any MNIST-format data and prints every
epoch beside the book's figure for that epoch.  ``_presets`` holds the
presets, the book's numbers (``book_figures/``, vendored from the book's
repository, MIT licence) and ``run_preset``.
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
    run_preset,
)

__all__ = ["BOOK_EVAL_SIZE", "BOOK_TRAIN_SIZE", "DATA_HELP", "HISTORY_KEYS", "MNIST_NOTE",
           "PRESETS", "Preset", "Run", "book_series", "load_figure", "run_preset"]
