"""bench.targets' verdicts: a missed target never reads as met."""
from bench import flops
from bench.tables import Medians
from bench.targets import _feasibility, share_shown, verdict


def test_a_share_just_below_its_target_is_shown_with_a_decimal():
    assert share_shown(0.6475, 0.65) == "64.7%"


def test_a_share_clear_of_its_target_is_shown_in_whole_percent():
    assert share_shown(0.70, 0.65) == "70%"
    assert share_shown(0.61, 0.65) == "61%"


def test_a_narrow_miss_reads_below_one_of_the_target():
    assert verdict(2.97, 3.0) == "**missed**: 0.990 of the target"
    assert verdict(0.6499, 0.65) == "**missed**: 0.999 of the target"


def test_a_met_target_says_by_how_much():
    assert verdict(3.3, 3.0) == "**met** (1.10× the target)"


def test_a_time_limit_is_met_below_it():
    assert verdict(1.5, 2.0, higher=False) == "**met** (1.33× the target)"
    assert verdict(2.5, 2.0, higher=False) == "**missed**: 0.800 of the target"


def test_an_unmeasured_target_says_so():
    assert verdict(None, 1.2) == "not measured"


def _run(epochs, peaks, n=60_000):
    """A report run's results and medians: epoch seconds by (shape, m, name),
    1 thread, and BLAS peaks in GFLOP/s by dtype."""
    medians = {("epoch", shape, m, 1, name): t for (shape, m, name), t in epochs.items()}
    size = 1000
    medians.update({("peak", dtype, 1): 2.0 * size ** 3 / (gflops * 1e9)
                    for dtype, gflops in peaks.items()})
    med = Medians(medians)
    med.n = size
    rows = [{"shape": shape, "m": m, "threads": 1, "n": n} for shape, m, _ in epochs]
    return {"rows": rows, "skipped": {}}, med


def test_a_missed_ratio_is_weighed_against_the_peak_of_its_own_dtype():
    res, med = _run({("784-30-10", 100, "fastnn-f32"): 0.100,
                     ("784-30-10", 100, "sklearn-mlp-f32"): 0.200},
                    {"float32": 100.0, "float64": 50.0})
    feasibility = _feasibility(res, med)
    goal = 0.200 / 2.2
    share = flops.epoch([784, 30, 10], 60_000, 100) / goal / 1e9 / 100.0
    row = next(line for line in feasibility.splitlines() if "sklearn-mlp-f32" in line)
    assert "(≥ 2.2×)" in row and f"{share:.0%}" in row and "90.9 ms" in row


def test_met_ratios_demand_nothing():
    res, med = _run({("784-30-10", 10, "fastnn-f64"): 0.100,
                     ("784-30-10", 10, "reference"): 0.900},
                    {"float64": 50.0})
    assert _feasibility(res, med) == ""
