"""bench's window queries: random whole-week ranges the period parser accepts, timed for all geos and one."""

from __future__ import annotations

from mmm_dash.cli.window_bench import random_range_keys, window_benchmark
from mmm_dash.core.windows import parse_period
from tests.unit.synthetic import make_bundle


def test_random_ranges_are_whole_weeks_of_the_model():
    bundle = make_bundle(n_weeks=104)
    keys = random_range_keys(bundle, 50, seed=3)
    assert keys == random_range_keys(bundle, 50, seed=3)  # reproducible
    for key in keys:
        period = parse_period(bundle, key)
        assert period.start in bundle.draws.times and period.end in bundle.draws.times


def test_geo_models_are_timed_for_all_geos_and_one():
    geo_model = window_benchmark(make_bundle(geos=("North", "South", "West")), 10)
    assert set(geo_model) == {"all_geos", "one_geo"}
    assert all(r["queries"] == 10 and 0 < r["median_ms"] <= r["p95_ms"] <= r["max_ms"] for r in geo_model.values())
    assert set(window_benchmark(make_bundle(), 5)) == {"all_geos"}  # a national model has no geo to pick
