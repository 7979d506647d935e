"""Ch. 4, "a visual proof that neural nets can compute any function", in numbers.

``_networks`` builds the chapter's networks (by hand and by SGD, as fitted
``FastNNRegressor``\\ s) and measures their sup errors; ``_plots`` draws the
chapter's figures (needs matplotlib).  ``fastnn approx`` prints the tables
and draws the figures.

Owns ch. 4's recipes: the hand-built step network, the trained one, the
sup-error grid.  It needs nothing of fastnn but ``FastNNRegressor`` (and
``from_layers``, which builds a fitted one by hand).

May not import ``fastnn.persistence``, ``fastnn.datasets``, ``fastnn.book``,
``fastnn.plots`` or ``fastnn.cli``.
"""
from ._networks import (
    EPOCHS,
    GRID,
    INPUT_SCALE,
    N_SAMPLES,
    N_VALUES,
    TARGET_SCALE,
    TARGETS,
    Networks,
    Row,
    Target,
    build_networks,
    chapter_function,
    error_rows,
    format_table,
    step_network,
    sup_error,
    sup_error_table,
    trained_network,
    unit_step,
)

__all__ = ["EPOCHS", "GRID", "INPUT_SCALE", "N_SAMPLES", "N_VALUES", "TARGET_SCALE", "TARGETS",
           "Networks", "Row", "Target", "build_networks", "chapter_function", "error_rows",
           "format_table", "step_network", "sup_error", "sup_error_table", "trained_network",
           "unit_step"]
