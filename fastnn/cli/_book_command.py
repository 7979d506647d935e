"""``fastnn book``: rerun one of the book's experiments from the command line
(``fastnn.book.run_preset``), writing its plot and metrics to a folder."""
from pathlib import Path

from ..book import DATA_HELP, PRESETS, run_preset
from ..datasets import load_mnist


def add_arguments(parser):
    """Add ``fastnn book``'s arguments to an ``argparse`` parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("preset", choices=list(PRESETS),
                        help="the experiment: " + "; ".join(
                            f"{name}: {preset.title}" for name, preset in PRESETS.items()))
    parser.add_argument("--data", metavar="PATH",
                        help=f"MNIST-format data (required). {DATA_HELP}")
    parser.add_argument("--epochs", type=int, help="override every run's epochs (quick look)")
    parser.add_argument("--n-train", type=int, help="train on the first N images only")
    parser.add_argument("--seed", type=int, default=0, help="random_state of every run")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for the PNG and metrics.json (default: book-PRESET)")
    parser.add_argument("--threads", type=int, help="numba threads")
    return parser


def command(args):
    """Run ``fastnn book`` with parsed ``args``.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``add_arguments``.

    Returns
    -------
    status : int
        The exit status.

    Raises
    ------
    ValueError, FileNotFoundError
        With a one-line message, on a missing ``--data`` or bad data.
    """
    if args.data is None:
        raise ValueError(f"--data PATH is required: {DATA_HELP}")
    try:
        data = load_mnist(args.data, split="book")
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error}. {DATA_HELP}") from None
    out_dir = Path(args.out if args.out is not None else f"book-{args.preset}")
    out_dir.mkdir(parents=True, exist_ok=True)  # fail now, not after hours of training
    run_preset(args.preset, data, epochs=args.epochs, n_train=args.n_train,
               random_state=args.seed, out_dir=out_dir, n_threads=args.threads,
               source=args.data)
    return 0
