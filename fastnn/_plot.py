"""Plotting glue: matplotlib is optional (``pip install "fastnn[plot]"``).

Every figure fastnn draws goes through ``pyplot()``, so a missing matplotlib
is one clear ``PlotUnavailable`` (an ImportError) with the install hint.
Figures are plain ``matplotlib.figure.Figure`` objects, never pyplot's: they
render off-screen whatever the display, and the user's backend and open
figures are left alone.
"""

import math

HINT = 'plots need matplotlib: pip install "fastnn[plot]"'


def image_side(n_features):
    """The side of the square images that ``n_features`` pixels make, or None."""
    side = math.isqrt(n_features)
    return side if side * side == n_features else None


class PlotUnavailable(ImportError):
    """matplotlib is not installed; the message says how to install it."""


class _Figures:
    """The one pyplot function fastnn uses, without pyplot's global state."""

    def __init__(self, figure_class):
        self._figure = figure_class

    def subplots(self, nrows=1, ncols=1, *, figsize=None, layout=None, **kwargs):
        figure = self._figure(figsize=figsize, layout=layout)
        return figure, figure.subplots(nrows, ncols, **kwargs)


def pyplot():
    """An object whose ``subplots(...)`` works as ``matplotlib.pyplot.subplots``,
    or PlotUnavailable."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable(HINT) from None
    return _Figures(Figure)


def save_figure(figure, path):
    """Write ``figure`` as a PNG at ``path`` (Agg, chosen by the file type)."""
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path
