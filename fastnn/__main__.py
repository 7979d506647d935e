"""``python -m fastnn``: train the book's network on the bundled 8×8 digits.

Prints one line per epoch with the accuracy on a held-out quarter of the data,
then the final test accuracy.  The full ``fastnn`` command line is built on this.
"""
import argparse
import sys
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from . import FastNN


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="fastnn",
        description="Train a Nielsen-style network on sklearn's 8x8 digits "
                    "(1,347 training / 450 test images).",
    )
    parser.add_argument("--hidden", type=int, nargs="+", default=[30], help="hidden layer sizes")
    parser.add_argument("--eta", type=float, default=0.5, help="learning rate η")
    parser.add_argument("--lmbda", type=float, default=0.0, help="L2 regularisation λ")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=10, help="mini-batch size m")
    parser.add_argument("--cost", default="cross_entropy",
                        choices=["cross_entropy", "quadratic", "log_likelihood"])
    parser.add_argument("--activation", default="sigmoid", choices=["sigmoid", "tanh", "relu"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, random_state=args.seed, stratify=y)
    clf = FastNN(hidden_layer_sizes=tuple(args.hidden), eta=args.eta, lmbda=args.lmbda,
                 mini_batch_size=args.batch, epochs=args.epochs, cost=args.cost,
                 activation=args.activation, random_state=args.seed, verbose=1)
    sizes = "-".join(str(s) for s in (X.shape[1], *args.hidden, 10))
    print(f"Training {sizes} on digits: η={args.eta}, λ={args.lmbda}, m={args.batch}, "
          f"{args.epochs} epochs (the first run compiles the kernels, ~30 s, then they are cached)",
          flush=True)
    try:
        started = time.perf_counter()
        clf.fit(X_train, y_train, eval_set=(X_test, y_test))
    except ValueError as exc:
        print(f"fastnn: error: {exc}", file=sys.stderr)
        return 2
    print(f"Test accuracy: {clf.score(X_test, y_test):.4f} "
          f"({time.perf_counter() - started:.1f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
