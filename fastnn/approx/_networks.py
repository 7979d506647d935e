"""Ch. 4, "a visual proof that neural nets can compute any function", in numbers.

A sigmoid neuron σ(wx + b) with a large weight w is almost a step at
s = −b/w; a hidden layer of such steps, weighted by output weights h, adds
up to a staircase that follows any continuous f on [0, 1] as closely as we
like.  ``step_network`` builds that network by hand as a fitted
``FastNNRegressor``; ``sup_error_table`` compares it with one trained by SGD.
``fastnn approx`` (``fastnn.cli._approx_command``) prints the tables and draws
the figures (``fastnn.approx._plots``).

The two caveats of the chapter show up too: the approximation is only
approximate (the error shrinks as N grows, it does not vanish), and only for
continuous f (``unit_step`` keeps a sup error of at least 0.4 whatever N is).
"""
from __future__ import annotations

import math
import sys
from collections import namedtuple
from numbers import Integral, Real
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from .._typing import ArrayLike
from ..estimators import FastNNRegressor

# The fine grid for sup errors: 10,001 evenly spaced points, plus x = ½ − 10⁻⁹,
# so that the jump of ``unit_step`` at ½ is straddled 10⁻⁹ apart (see there).
GRID = np.union1d(np.linspace(0.0, 1.0, 10_001), [0.5 - 1e-9, 0.5])
N_VALUES = (5, 10, 50, 200)
# ``trained_network``'s recipe: input u = 7(x − ½), target 3.5√N (f − f̄); see there why.
N_SAMPLES = 1000
EPOCHS = 600
INPUT_SCALE = 7.0
TARGET_SCALE = 3.5

# One line of ``sup_error_table``: N and max|g − f| of both networks (``trained``
# is None when no network was trained).
Row = namedtuple("Row", "n hand_built trained")
Row.__doc__ = """One line of a sup-error table: N, then max|g − f| of the hand-built
network and of the trained one (None when not trained)."""
# build_networks' result: {N: (hand-built network, trained network or None)}.
Networks = Dict[int, Tuple[FastNNRegressor, Optional[FastNNRegressor]]]
# f, the function to approximate: elementwise on an array of x in [0, 1].
Target = Callable[[np.ndarray], ArrayLike]


def chapter_function(x: ArrayLike) -> np.ndarray:
    """The chapter's example, f(x) = 0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x).

    Its slope reaches |f'| ≈ 7.0 on [0, 1]; the cos(50x) wiggle has period 0.13.

    Parameters
    ----------
    x : array-like of floats

    Returns
    -------
    f : ndarray of float64, x's shape
    """
    x = np.asarray(x, dtype=np.float64)
    return 0.2 + 0.4 * x ** 2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def unit_step(x: ArrayLike) -> np.ndarray:
    """1 for x ≥ ½, else 0: the discontinuous target of the second caveat.

    No network here can come within 0.4 of it everywhere, whatever N.  Each
    g(x) = Σ_j v_j φ(w_j x + b_j) + b is continuous with slope
    |g'| ≤ M = s Σ_j |v_j w_j|, s = max φ' (¼ for σ, 1 for tanh).  ``GRID``
    holds x₋ = ½ − 10⁻⁹, where the target is 0, and x₊ = ½, where it is 1,
    so the sup error on it is

        max(|g(x₋)|, |1 − g(x₊)|) ≥ ½ (1 − |g(x₊) − g(x₋)|) ≥ ½ (1 − 10⁻⁹ M).

    ``step_network`` has M = (w/4) Σ_j |h_j| = w/4 = 250 here (the heights
    add up to the one jump), the trained networks M < 300, so the bound is ½
    to within 10⁻⁶: g can be close to the step only away from ½.  The
    hand-built error even reaches ~1 when N + 1 is odd: the middle cell is
    centred on ½, where the step is already 1, so g rises half a cell early.

    Parameters
    ----------
    x : array-like of floats

    Returns
    -------
    step : ndarray of float64, x's shape
    """
    return (np.asarray(x, dtype=np.float64) >= 0.5).astype(np.float64)


def step_network(f: Target, n_steps: int, w: float = 1000.0) -> FastNNRegressor:
    r"""The one-hidden-layer network of ch. 4 that follows f on [0, 1], built by hand.

    Hidden neuron j has weight w and bias b_j = −w s_j, so it is a step at
    s_j = −b_j/w = j/(N + 1), j = 1 … N; the output neuron (identity) has
    bias f(c_0) and output weights h_j = f(c_j) − f(c_{j−1}), where
    c_k = (k + ½)/(N + 1) is the centre of the k-th of the N + 1 cells:

    .. math:: g(x) = f(c_0) + \sum_{j=1}^N h_j\,\sigma(w x + b_j) \approx f(c_k)
              \quad (x \text{ in cell } k),

    since the sum telescopes over the steps left of x.  This is the book's
    construction: a bump of height H_k on [s_k, s_{k+1}] is the pair
    H_k σ(w(x − s_k)) − H_k σ(w(x − s_{k+1})); adjacent bumps share the
    neuron at their common edge, whose weight becomes H_k − H_{k−1}, so N
    neurons give N + 1 flat pieces rather than N/2 bumps.  (The book's output
    neuron is a sigmoid, so it aims at σ⁻¹∘f; ours is the identity, so the
    heights are f itself.)

    Away from the steps, |g − f| ≤ ½ max|f'| / (N + 1) plus tails e^{−w d}
    of steps a distance d away.  When w/(N + 1) is below ~10 neighbouring
    steps overlap and g becomes a smooth interpolation of the f(c_k), which
    does better still.

    Parameters
    ----------
    f : callable
        Works elementwise on a float array of x values (NumPy style) and is
        finite on [0, 1].  Wrap a scalar function in ``np.vectorize``.
    n_steps : int
        N ≥ 1, the number of hidden neurons.
    w : float, default=1000.0
        The steepness of every step; the step is ~4/w wide.

    Returns
    -------
    network : FastNNRegressor
        Fitted, with ``hidden_layer_sizes=(N,)`` and no training epochs: it
        predicts, scores, saves and loads like any trained one, and
        ``warm_start=True`` makes ``fit`` continue from it.
    """
    n_steps = _check_count(n_steps, "n_steps")
    if isinstance(w, bool) or not isinstance(w, Real):
        raise TypeError(f"w must be a real number; got {type(w).__name__} {w!r}.")
    if not (math.isfinite(w) and w > 0):
        raise ValueError(f"w={w!r}: the steps need a finite weight w > 0 (large, e.g. 1000).")
    steps = np.arange(1, n_steps + 1) / (n_steps + 1)
    heights = _values(f, (np.arange(n_steps + 1) + 0.5) / (n_steps + 1))
    return _fitted_network(weights=[np.full((1, n_steps), float(w)), np.diff(heights)[:, None]],
                           biases=[-float(w) * steps, heights[:1]])


def trained_network(f: Target, n_hidden: int, *, epochs: int = EPOCHS,
                    random_state: int = 0) -> FastNNRegressor:
    r"""A ``FastNNRegressor`` with N tanh neurons trained by SGD on samples of f.

    Mini-batches of m = 10 from f at 1,000 evenly spaced x in [0, 1], quadratic
    cost, momentum μ = 0.9, η = 1/N halved whenever R² stalls for 50 epochs,
    up to ``epochs`` epochs, from the usual random initialisation.  Three
    choices make SGD learn the wiggles of ``chapter_function`` rather than
    only its smooth trend (as 150 epochs of online SGD on raw x and f did:
    sup errors 0.22 to 0.25 for every N):

    - The input is u = 7(x − ½), in [−3.5, 3.5].  The initial w, b ~ N(0, 1)
      then put the neurons' centres x = ½ − b/7w mostly inside [0, 1] (84 %),
      7 times steeper than on raw x.
    - The target is k(f − f̄) with k = 3.5√N.  Writing v = k v′ for the
      output weights shows why: the output layer then learns at rate η, the
      hidden layer at k²η = 12, whatever N.  With f itself the hidden rate
      would be η = 1/N (the output layer needs η ≲ 2/‖a‖² ≈ 2/N) and for large
      N only the output weights of the random initial neurons would move.
    - Hidden tanh neurons: tanh(z) = 2σ(2z) − 1 is ch. 4's sigmoid neuron in
      other units, but its outputs are centred on 0, which keeps the output
      layer stable at η = 1/N for every N.  In a sweep, sigmoid neurons
      either missed the wiggles at every N or, at rates that taught them to
      N = 50 and 200, ended 0.33–0.38 away from f for N = 5 and 10.

    The two affine maps are then folded into the first and last layers, so
    the network returned takes x and predicts f, as ``step_network``'s does.
    With random_state=0 the sup errors are 0.1434, 0.0677, 0.0202, 0.0146
    for N = 5, 10, 50, 200 (~20 s in all): 5 and 10 neurons are too few for
    the 16 rises and falls of cos(50x), and the largest error of N = 50 and
    200 is at x = 1, the edge of the data.

    Parameters
    ----------
    f : callable
        As for ``step_network``.
    n_hidden : int
        N ≥ 1.
    epochs : int, default=600
        At most this many; training stops once η has been halved 7 times.
    random_state : int, default=0
        Seeds the initial weights and the shuffles: same seed, same network.

    Returns
    -------
    network : FastNNRegressor
        ``activation="tanh"``, with the weights of its best epoch (by R²).
        Its ``history_`` is in the units it was trained in (R² is the same
        in both; costs are k² times those of f).
    """
    n_hidden = _check_count(n_hidden, "n_hidden")
    epochs = _check_count(epochs, "epochs", "train for at least 1 epoch")
    x = np.linspace(0.0, 1.0, N_SAMPLES)
    y = _values(f, x)
    mean, k = float(np.mean(y)), TARGET_SCALE * math.sqrt(n_hidden)
    network = FastNNRegressor(hidden_layer_sizes=(n_hidden,), activation="tanh", eta=1 / n_hidden,
                              mini_batch_size=10, momentum=0.9, epochs=epochs,
                              eta_schedule="halve", n_iter_no_change=50,
                              random_state=random_state)
    network.fit(INPUT_SCALE * (x[:, None] - 0.5), k * (y - mean))
    return _in_units_of_x(network, k, mean)


def sup_error(network: FastNNRegressor, f: Target, grid: np.ndarray = GRID) -> float:
    """max |g(x) − f(x)| over the x of ``grid``, g being the network's prediction.

    Parameters
    ----------
    network : fitted FastNNRegressor with one input
    f : callable
    grid : array-like of shape (n_points,), default=GRID
        ``GRID`` has 10,002 points of [0, 1], two of them 10⁻⁹ either side of ½.

    Returns
    -------
    error : float
    """
    grid = np.asarray(grid, dtype=np.float64)
    return float(np.max(np.abs(network.predict(grid[:, None]) - _values(f, grid))))


def build_networks(f: Target, n_values: Iterable[int] = N_VALUES, *, w: float = 1000.0,
                   train: bool = True, epochs: int = EPOCHS, random_state: int = 0,
                   progress: bool = False) -> Networks:
    """{N: (hand-built network, trained network or None)} for each N.

    Parameters
    ----------
    f : callable
    n_values : iterable of int, default=(5, 10, 50, 200)
    w : float, default=1000.0
        Steepness of the hand-built steps (``step_network``).
    train : bool, default=True
        Also train a network by SGD for each N (``trained_network``).
    epochs, random_state : int
        Passed to ``trained_network``.
    progress : bool, default=False
        Show a tqdm bar over N on stderr: training takes seconds per network.

    Returns
    -------
    networks : dict of int to (FastNNRegressor, FastNNRegressor or None)
    """
    n_values = [_check_count(n, "N") for n in n_values]
    if not n_values:
        raise ValueError("n_values is empty: give at least one number of neurons N.")
    if train:
        _check_count(epochs, "epochs", "train for at least 1 epoch")
    networks = {}
    for n in tqdm(n_values, desc="networks", unit="N", file=sys.stderr,
                  disable=None if progress else True):
        networks[n] = (step_network(f, n, w),
                       trained_network(f, n, epochs=epochs, random_state=random_state)
                       if train else None)
    return networks


def error_rows(f: Target, networks: Networks) -> List[Row]:
    """A ``Row`` of sup errors for each N of ``build_networks``' result.

    Parameters
    ----------
    f : callable
        The function the networks approximate.
    networks : dict
        ``build_networks``' result.

    Returns
    -------
    rows : list of Row
    """
    return [Row(n, sup_error(hand, f), None if trained is None else sup_error(trained, f))
            for n, (hand, trained) in networks.items()]


def sup_error_table(f: Target, n_values: Iterable[int] = N_VALUES, *, w: float = 1000.0,
                    train: bool = True, epochs: int = EPOCHS, random_state: int = 0,
                    progress: bool = False) -> List[Row]:
    """Rows (N, hand-built max|g − f|, trained max|g − f| or None) on ``GRID``.

    The parameters are those of ``build_networks``.  The hand-built error
    shrinks like max|f'| / 2(N + 1); the trained one shrinks too, from N = 5
    to 50, and then stays near 0.02 (see ``trained_network``).

    Returns
    -------
    rows : list of Row
        Named tuples (n, hand_built, trained), in the order of ``n_values``.

    Examples
    --------
    >>> from fastnn.approx import chapter_function, format_table, sup_error_table
    >>> print(format_table(sup_error_table(chapter_function, (5, 200), train=False)))
        N  hand-built  trained (SGD)
        5      0.3150              -
      200      0.0039              -
    """
    return error_rows(f, build_networks(f, n_values, w=w, train=train, epochs=epochs,
                                        random_state=random_state, progress=progress))


def format_table(rows: Iterable[Row]) -> str:
    """The rows of ``sup_error_table`` as plain text, one line per N.

    Parameters
    ----------
    rows : iterable of Row

    Returns
    -------
    text : str
        A header line, then one line per N ("-" where not trained).
    """
    def cell(error):
        return "-" if error is None else f"{error:.4f}"

    lines = [f"{'N':>5}  {'hand-built':>10}  {'trained (SGD)':>13}"]
    lines += [f"{n:>5}  {cell(hand):>10}  {cell(trained):>13}" for n, hand, trained in rows]
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------

TARGETS = (("chapter-f.png", chapter_function,
            "f(x) = 0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x)"),
           ("step-target.png", unit_step, "unit step at x = 0.5 (discontinuous)"))


# -- helpers ----------------------------------------------------------------------

def _check_count(value, name, need="a network needs at least 1 hidden neuron"):
    """``value`` as an int ≥ 1, or a TypeError / ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}.")
    if value < 1:
        raise ValueError(f"{name}={value}: {need}.")
    return int(value)


def _values(f, x):
    """f(x) as finite float64 of x's shape, or an error saying what f did wrong."""
    if not callable(f):
        raise TypeError(f"f must be a function of x (a callable); got {type(f).__name__}.")
    result = f(x)
    try:
        y = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"f returned {type(result).__name__}, not numbers.") from None
    try:
        y = np.broadcast_to(y, x.shape)
    except ValueError:
        raise ValueError(f"f returned shape {y.shape} for x of shape {x.shape}; it must work "
                         "elementwise on an array (wrap a scalar f in np.vectorize).") from None
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"f({x[bad][0]:g}) = {y[bad][0]}: f must be finite on [0, 1].")
    return np.ascontiguousarray(y)


def _fitted_network(weights, biases):
    """A ``FastNNRegressor`` fitted to the float64 layers given, without training."""
    return FastNNRegressor.from_layers(weights, biases, activation="sigmoid", random_state=0)


def _in_units_of_x(network, k, mean):
    """``network``, fitted on u = a(x − ½) (a = ``INPUT_SCALE``) and k(y − mean),
    rewritten to take x and predict y: z = wa·x + (b − wa/2), y = (v·h + c)/k + mean."""
    (w, v), (b, c) = network.coefs_, network.intercepts_
    network.coefs_ = [INPUT_SCALE * w, v / k]
    network.intercepts_ = [b - 0.5 * INPUT_SCALE * w[0], c / k + mean]
    # Momentum in the old units would be wrong for a warm-started fit on x.
    return network.reset_momentum()
