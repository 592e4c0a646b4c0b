"""Results over time and the geo breakdown only lay the window engine's answers side by side: each
bucket is `bundle.period(<quarter or month>, geo)`, each geo is `bundle.period(period, geo)`, the
buckets tile the whole range, and the geos add up to the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmm_dash.core.bundle import TOTAL_CHANNEL
from mmm_dash.core.geos import TOP_GEOS, channel_columns, geo_breakdown, geo_columns
from mmm_dash.core.over_time import BUCKETS, bucket_periods, columns, efficiency_metric, results_over_time
from tests.unit.synthetic import CHANNELS, make_bundle

GEOS = ("North", "South", "East")


@pytest.fixture(scope="module")
def geo_bundle():
    return make_bundle(geos=GEOS)


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("geo", [None, "South"])
def test_buckets_tile_the_whole_range(geo_bundle, bucket, geo):
    results = results_over_time(geo_bundle, bucket, geo)
    whole = geo_bundle.period("all", geo).channels
    assert sum(p.n_times for p in results.periods) == len(geo_bundle.draws.times)
    assert [p.start for p in results.periods] == sorted(p.start for p in results.periods)
    by_channel = results.table.groupby("channel", sort=False)[["spend", "incremental_outcome_mean"]].sum()
    np.testing.assert_allclose(by_channel.loc[whole.index, "spend"], whole["spend"], rtol=1e-12)
    # a mean is linear, so bucket means add up to the whole range's (float32 and float16 storage)
    np.testing.assert_allclose(
        by_channel.loc[whole.index, "incremental_outcome_mean"], whole["incremental_outcome_mean"], rtol=1e-4
    )


@pytest.mark.parametrize("bucket", BUCKETS)
def test_each_bucket_is_the_window_engines_answer(geo_bundle, bucket):
    results = results_over_time(geo_bundle, bucket, "North")
    assert len(results.table) == len(results.periods) * (len(CHANNELS) + 1)
    for period in results.periods:
        rows = results.table[results.table["bucket"] == period.key].set_index("channel")
        theirs = geo_bundle.period(period.key, "North").channels
        assert list(rows.index) == [*CHANNELS, TOTAL_CHANNEL]
        for column in columns(geo_bundle.info)[6:]:
            np.testing.assert_array_equal(rows[column].to_numpy(), theirs[column].to_numpy(), err_msg=column)
        assert (rows["n_weeks"] == period.n_times).all() and (rows["start"] == period.start).all()


def test_buckets_are_the_quarter_and_month_presets(geo_bundle):
    assert [p.key for p in bucket_periods(geo_bundle, "quarter")] == ["2024-q1", "2024-q2", "2024-q3", "2024-q4"]
    assert len(bucket_periods(geo_bundle, "month")) == 12
    with pytest.raises(ValueError, match="quarter, month"):
        results_over_time(geo_bundle, "week")


def test_partial_buckets_are_where_the_data_starts_or_ends_inside():
    # 52 weeks from Monday 2024-01-01: the last week is 2024-12-23, so 2024-12-30 (still Q4) is missing
    assert [p.key for p in results_over_time(make_bundle(), "quarter").partial] == ["2024-q4"]
    # from 2024-01-08 the first quarter and month also miss a week
    later = make_bundle(start="2024-01-08", n_weeks=40)
    assert [p.key for p in results_over_time(later, "quarter").partial] == ["2024-q1", "2024-q4"]
    assert [p.key for p in results_over_time(later, "month").partial][0] == "2024-01"


def test_contribution_share_is_of_each_buckets_expected_outcome(geo_bundle):
    results = results_over_time(geo_bundle, "quarter")
    for period in results.periods:
        row = results.table[(results.table["bucket"] == period.key) & (results.table["channel"] == "Strong")].iloc[0]
        w = geo_bundle.period(period.key).draws
        share = w.incremental[:, 0] / w.expected.mean() * 100
        assert row["pct_of_contribution_mean"] == pytest.approx(share.mean(), rel=1e-12)


def test_kpi_only_models_carry_cost_per_kpi_instead_of_roi():
    bundle = make_bundle(has_revenue=False)
    assert efficiency_metric(bundle.info) == "cpik"
    table = results_over_time(bundle, "quarter").table
    assert {"cpik_mean", "cpik_ci_lo", "cpik_ci_hi"} <= set(table.columns)
    assert not any(c.startswith("roi") for c in table.columns)
    assert list(table.columns) == columns(bundle.info)


def test_channel_rows_leave_out_the_paid_total(geo_bundle):
    results = results_over_time(geo_bundle, "month")
    assert results.channels == list(CHANNELS)
    assert TOTAL_CHANNEL not in set(results.channel_rows()["channel"])


# -- geos ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("period", ["all", "2024-q2", "2024-02-05..2024-05-27"])
def test_each_geo_row_is_the_window_engines_paid_total(geo_bundle, period):
    breakdown = geo_breakdown(geo_bundle, period)
    assert list(breakdown.geos.columns) == geo_columns("roi")
    assert set(breakdown.geos["geo"]) == set(GEOS)
    for _i, row in breakdown.geos.iterrows():
        total = geo_bundle.period(period, row["geo"]).total()
        for column in geo_columns("roi")[1:]:
            if column != "pct_of_spend":
                assert row[column] == total[column], (row["geo"], column)


def test_geo_spend_shares_add_up_and_geos_come_most_spend_first(geo_bundle):
    breakdown = geo_breakdown(geo_bundle, "all")
    assert breakdown.geos["pct_of_spend"].sum() == pytest.approx(100.0)
    assert breakdown.geos["spend"].sum() == pytest.approx(geo_bundle.period("all").total()["spend"])
    assert breakdown.geos["geo"].iloc[0] == "North"  # the synthetic first geo has half the spend
    assert list(breakdown.geos["spend"]) == sorted(breakdown.geos["spend"], reverse=True)
    assert breakdown.top(2) == list(breakdown.geos["geo"].head(2))


def test_geo_channel_rows_are_each_geos_channel_table(geo_bundle):
    breakdown = geo_breakdown(geo_bundle, "2024-q3")
    assert list(breakdown.channels.columns) == channel_columns("roi")
    assert len(breakdown.channels) == len(GEOS) * len(CHANNELS)
    south = breakdown.channels[breakdown.channels["geo"] == "South"].set_index("channel")
    theirs = geo_bundle.period("2024-q3", "South").channel_table()
    pd.testing.assert_series_equal(south["roi_ci_hi"], theirs["roi_ci_hi"], check_names=False)
    assert south["pct_of_spend"].sum() == pytest.approx(100.0)


def test_geo_breakdown_of_a_kpi_only_model_uses_cost_per_kpi():
    breakdown = geo_breakdown(make_bundle(geos=GEOS, has_revenue=False), "all")
    assert breakdown.efficiency == "cpik"
    assert "cpik_mean" in breakdown.geos and "roi_mean" not in breakdown.geos


def test_a_national_model_has_no_geo_breakdown():
    with pytest.raises(ValueError, match="national"):
        geo_breakdown(make_bundle(), "all")


def test_many_geos_keep_every_row_and_chart_the_top_ones():
    many = tuple(f"G{i:02d}" for i in range(TOP_GEOS + 30))
    breakdown = geo_breakdown(make_bundle(geos=many, n_weeks=20), "all")
    assert len(breakdown.geos) == len(many)
    assert len(breakdown.top()) == TOP_GEOS and breakdown.top()[0] == "G00"
