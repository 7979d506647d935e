"""bench.targets' verdicts: a missed target never reads as met."""
from bench.targets import share_shown, verdict


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
