"""``fastnn approx``: ch. 4's tables and figures from the command line.

Prints both sup-error tables (``fastnn.approx``) and draws the figures
(``fastnn.approx._plots``, which needs matplotlib).
"""
import os

from .._plot import HINT, PlotUnavailable, pyplot
from ..approx import EPOCHS, N_VALUES, TARGETS, build_networks, error_rows, format_table


def add_arguments(parser):
    """The options of ``fastnn approx``, added to an argparse parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("--out", default="approx-out", metavar="DIR",
                        help="folder for the PNG figures (created if missing; "
                             "default: %(default)s)")
    parser.add_argument("--n", type=int, nargs="+", default=list(N_VALUES), metavar="N",
                        help="numbers of hidden neurons (default: %(default)s)")
    parser.add_argument("--w", type=float, default=1000.0,
                        help="weight of the hand-built step neurons (default: %(default)s)")
    parser.add_argument("--no-train", action="store_true",
                        help="only the hand-built networks (fast)")
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help="SGD epochs of the trained networks (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of SGD")
    return parser


def command(args):
    """``fastnn approx``: print both sup-error tables, write the figures.

    Without matplotlib the tables are still printed, with one line saying
    why the figures were skipped.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``add_arguments``.

    Returns
    -------
    status : int
        0.

    Raises
    ------
    ValueError
        With a one-line message, for a bad option.
    """
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out} is a file; give a folder for the figures.")
    try:  # before the training, which takes a while
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {args.out}: cannot create the folder ({exc.strerror}).") from None
    built = []
    for name, f, description in TARGETS:
        networks = build_networks(f, args.n, w=args.w, train=not args.no_train,
                                  epochs=args.epochs, random_state=args.seed, progress=True)
        print(f"max|g − f| on [0, 1] for {description}:")
        print(format_table(error_rows(f, networks)), end="\n\n", flush=True)
        built.append((name, f, description, networks))
    try:
        pyplot()
    except PlotUnavailable:
        print(f"figures skipped: {HINT}")
        return 0
    from ..approx import _plots as figures

    paths = [figures.plot_steepening(os.path.join(args.out, "steepening.png")),
             figures.plot_bias_shift(os.path.join(args.out, "bias-shift.png"))]
    paths += [figures.plot_approximation(os.path.join(args.out, name), f, networks,
                                         title=description)
              for name, f, description, networks in built]
    for path in paths:
        print(f"wrote {path}")
    return 0
