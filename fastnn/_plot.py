"""Plotting glue: matplotlib is optional (``pip install "fastnn[plot]"``).

Every figure fastnn draws goes through ``pyplot()``, so a missing matplotlib
is one clear ``PlotUnavailable`` (an ImportError) with the install hint, and
figures render off-screen (Agg) whatever the user's display.
"""

HINT = 'plots need matplotlib: pip install "fastnn[plot]"'


class PlotUnavailable(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def pyplot():
    """matplotlib.pyplot on the Agg backend, or PlotUnavailable."""
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable(HINT) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path):
    """Write ``figure`` as a PNG at ``path`` and close it (figures hold memory)."""
    plt = pyplot()
    try:
        figure.savefig(path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path
