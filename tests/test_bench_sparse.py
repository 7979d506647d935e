"""bench.sparse's why-paragraph: what 3× at 20 % would demand of the first layer."""
from bench.sparse import _why_density


def _densities(dense, at_20, at_1):
    return {"dense|1.0": dense, "csr|0.2": at_20, "csr|0.01": at_1}


def test_the_demand_is_the_first_layers_work_over_the_time_3x_leaves_it():
    text = _why_density(_densities(0.060, 0.040, 0.012))
    # 2 · 20,000 · 157 · 30 multiply-adds in 60/3 − 12 = 8 ms.
    assert "leaves the first layer 8.0 ms for its 188 M multiply-adds: 23.6 G/s" in text


def test_a_floor_above_a_third_of_the_dense_epoch_leaves_nothing():
    text = _why_density(_densities(0.030, 0.025, 0.012))
    assert "no time at all" in text and "G/s, " not in text.split("Hints")[-1]
