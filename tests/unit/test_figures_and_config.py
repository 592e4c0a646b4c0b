"""Figure builders carry the bundle's numbers; settings behave as documented."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mmm_dash.config import ConfigError, load_settings
from mmm_dash.core.budget_search import budget_ladder
from mmm_dash.core.comparison import compare_scenarios
from mmm_dash.core.diagnostics import residuals, roi_prior_posterior
from mmm_dash.core.figures import breakdowns, charts, curves, diagnostics, planning
from mmm_dash.core.geos import geo_breakdown
from mmm_dash.core.over_time import results_over_time
from mmm_dash.core.scenario import ScenarioModel
from tests.unit.synthetic import four_channel_case, make_bundle


def validated(fig) -> go.Figure:
    """The plain-dict figure read back through Plotly's validators: a misspelt property raises."""
    return go.Figure(fig.to_plotly_json())


def every_figure():
    """Each figure builder called on a synthetic bundle, as the pages call them."""
    bundle = make_bundle()
    analysis = bundle.period("all")
    table, info = analysis.channel_table(), bundle.info
    ch = analysis.curves.channels[0]
    hist = analysis.curves.historical_spend
    return {
        "expected_vs_actual": charts.expected_vs_actual(analysis.series, "revenue"),
        "contribution_bars": charts.contribution_bars(table, "revenue"),
        "contribution_pie": charts.contribution_pie(table, 1000.0),
        "waterfall": charts.waterfall(1000.0, table, "revenue"),
        "contribution_over_time": charts.contribution_over_time(analysis.contribution_series, "revenue"),
        "spend_vs_contribution": charts.spend_vs_contribution(table),
        "metric_bars": charts.metric_bars(table, "roi", info.roi_label, reference=1.0),
        "metric_bars_empty": charts.metric_bars(table.assign(cpik_mean=np.nan), "cpik", "CPIK"),
        "roi_bubble": charts.roi_bubble(table, info.roi_label),
        "rhat_bars": charts.rhat_bars(bundle.rhat, 1.2),
        "prior_posterior_densities": diagnostics.prior_posterior_densities(roi_prior_posterior(bundle), "ROI"),
        "residual_bars": diagnostics.residual_bars(residuals(bundle, analysis.period), "revenue", True),
        "response_curve": curves.response_curve(
            analysis.curves, ch, "revenue", break_even_multiplier=1.3, scenario_spend=hist[0], scenario_outcome=5.0
        ),
        "small_multiples": curves.small_multiples(analysis.curves, "revenue", hist * 1.1, np.ones(len(hist))),
        "hill_curve": curves.hill_curve(bundle.hill_curves, ch),
        "adstock_curve": curves.adstock_curve(bundle.adstock_decay, ch),
        "frequency_curve_none": curves.frequency_curve(analysis.optimal_frequency, ch, info.roi_label),
        "allocation_comparison": curves.allocation_comparison(analysis.curves.channels, hist, hist * 0.9),
        "comparison_chart": planning.comparison_chart(
            compare_scenarios(ScenarioModel(analysis.curves), [hist, hist * 1.1], ["now", "more"]), "revenue"
        ),
        "ladder_chart": planning.ladder_chart(budget_ladder(ScenarioModel(analysis.curves)), "revenue", "ROI"),
        "ladder_chart_none": planning.ladder_chart(
            budget_ladder(ScenarioModel(analysis.curves), threshold=1e6), "revenue", "ROI"
        ),
        **breakdown_figures(),
    }


def breakdown_figures():
    """The over-time and per-geo figures, on a geo bundle, as the Contribution, ROI and Geos pages call them."""
    bundle = make_bundle(geos=("North", "South", "East", "West", "Central"))
    quarters = results_over_time(bundle, "quarter").channel_rows()
    months = results_over_time(make_bundle(has_revenue=False), "month").channel_rows()
    geos = geo_breakdown(bundle, "all")
    return {
        "over_time_outcome": breakdowns.over_time_chart(quarters, "incremental_outcome", "Incremental revenue"),
        "over_time_roi": breakdowns.over_time_chart(quarters, "roi", "ROI", reference=1.0),
        "over_time_cpik_months": breakdowns.over_time_chart(months, "cpik", "Cost per incremental KPI"),
        "over_time_empty": breakdowns.over_time_chart(quarters.assign(roi_mean=np.nan), "roi", "ROI"),
        "geo_small_multiples_outcome": breakdowns.geo_small_multiples(
            geos.channels, geos.top(), "incremental_outcome", "Incremental revenue"
        ),
        "geo_small_multiples_roi": breakdowns.geo_small_multiples(geos.channels, geos.top(), "roi", "ROI", 1.0),
        "geo_small_multiples_empty": breakdowns.geo_small_multiples(
            geos.channels.assign(roi_mean=np.nan, roi_ci_lo=np.nan, roi_ci_hi=np.nan), geos.top(), "roi", "ROI"
        ),
        "geo_spend_share": breakdowns.geo_spend_share(geos.channels, geos.geos, geos.top()),
    }


@pytest.mark.parametrize("name", sorted(every_figure()))
def test_every_figure_builder_passes_plotly_validation(name):
    fig = every_figure()[name]
    checked = validated(fig)  # raises ValueError on any property Plotly does not know
    assert checked.layout.template.layout.font.family.startswith("system-ui")
    if not name.endswith("_none") and not name.endswith("_empty"):
        assert len(checked.data) >= 1


def test_small_multiples_lay_panels_out_like_make_subplots():
    from plotly.subplots import make_subplots

    analysis = four_channel_case()
    ours = validated(curves.small_multiples(analysis.curves, "revenue", max_cols=3))
    theirs = make_subplots(rows=2, cols=3, horizontal_spacing=0.08, vertical_spacing=0.14)
    for axis in ("xaxis", "yaxis", "xaxis4", "yaxis4", "xaxis2", "yaxis3"):
        np.testing.assert_allclose(ours.layout[axis].domain, theirs.layout[axis].domain)
    assert {t.xaxis for t in ours.data} == {"x", "x2", "x3", "x4"}


def test_contribution_bars_show_means_and_intervals():
    analysis = four_channel_case()
    table = analysis.channel_table()
    fig = validated(charts.contribution_bars(table, "revenue"))
    bar = fig.data[0]
    order = list(bar.y)
    np.testing.assert_allclose(bar.x, table.loc[order, "incremental_outcome_mean"])
    np.testing.assert_allclose(bar.error_x.array, table.loc[order, "incremental_outcome_ci_hi"] - bar.x)
    assert fig.layout.template.layout.font.family.startswith("system-ui")


def test_response_curve_marks_current_spend_and_saturation():
    analysis = four_channel_case()
    fig = validated(curves.response_curve(analysis.curves, "Strong", "revenue", break_even_multiplier=1.2))
    marker = next(t for t in fig.data if t.name == "Current spend")
    assert marker.x[0] == pytest.approx(100.0)
    assert any(s.type == "line" for s in fig.layout.shapes)


def test_small_multiples_mark_each_channels_scenario_point():
    analysis = four_channel_case()
    spend = analysis.curves.historical_spend * 1.5
    outcome = np.arange(len(spend), dtype=float) + 7.0
    fig = validated(
        curves.small_multiples(analysis.curves, "revenue", scenario_spend=spend, scenario_outcome=outcome, max_cols=2)
    )
    points = [t for t in fig.data if (t.name or "").endswith(" scenario")]
    assert [p.name for p in points] == [f"{ch} scenario" for ch in analysis.curves.channels]
    np.testing.assert_allclose([p.x[0] for p in points], spend)
    np.testing.assert_allclose([p.y[0] for p in points], outcome)
    assert len(fig.layout.annotations) == len(analysis.curves.channels)  # one titled panel each
    plain = validated(curves.small_multiples(analysis.curves, "revenue"))
    assert not any((t.name or "").endswith(" scenario") for t in plain.data)


def test_metric_bars_skip_undefined_metric():
    analysis = four_channel_case()
    table = analysis.channel_table().assign(mroi_mean=np.nan)
    fig = validated(charts.metric_bars(table, "mroi", "mROI"))
    assert fig.layout.annotations and "not defined" in fig.layout.annotations[0].text


def test_over_time_chart_draws_each_channels_buckets_with_intervals():
    rows = results_over_time(make_bundle(), "quarter").channel_rows()
    fig = validated(breakdowns.over_time_chart(rows, "roi", "ROI", reference=1.0))
    assert [t.name for t in fig.data] == ["Strong", "Saturated", "Loser", "Noisy"]
    strong = rows[rows["channel"] == "Strong"]
    np.testing.assert_allclose(fig.data[0].y, strong["roi_mean"])
    np.testing.assert_allclose(fig.data[0].error_y.array, strong["roi_ci_hi"] - strong["roi_mean"])
    assert list(fig.data[0].x) == ["2024 Q1", "2024 Q2", "2024 Q3", "2024 Q4"]
    assert fig.layout.scattermode == "group"  # a bucket's channels side by side, not on top of each other


def test_geo_small_multiples_share_one_y_scale():
    bundle = make_bundle(geos=("North", "South", "East"))
    geos = geo_breakdown(bundle, "all")
    fig = validated(breakdowns.geo_small_multiples(geos.channels, geos.top(), "roi", "ROI", reference=1.0))
    assert [a.text for a in fig.layout.annotations] == geos.top()  # one titled panel per geo
    axes = [fig.layout[k] for k in ("yaxis", "yaxis2", "yaxis3")]
    assert all(tuple(a.range) == tuple(axes[0].range) for a in axes)
    assert [a.matches for a in axes[1:]] == ["y", "y"]
    low, high = axes[0].range
    assert low <= geos.channels["roi_ci_lo"].min() and high >= geos.channels["roi_ci_hi"].max()
    south = geos.channels[geos.channels["geo"] == "South"]
    panel = fig.data[geos.top().index("South")]
    np.testing.assert_allclose(panel.y, south["roi_mean"])
    assert len(fig.layout.shapes) == 3  # the ROI = 1 line in every panel


def test_overrides_win_and_defaults_apply(monkeypatch):
    monkeypatch.setenv("SESSION_MINUTES", "45")
    assert load_settings().SESSION_MINUTES == 45
    assert load_settings({"SESSION_MINUTES": "10"}).SESSION_MINUTES == 10
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert load_settings().DATABASE_URL.startswith("sqlite:///")


def test_plain_postgres_urls_use_psycopg3():
    assert load_settings({"DATABASE_URL": "postgresql://u@h/db"}).DATABASE_URL == "postgresql+psycopg://u@h/db"


def test_production_requires_a_real_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"ENVIRONMENT": "production", "SECRET_KEY": ""})
    settings = load_settings({"ENVIRONMENT": "production", "SECRET_KEY": "9f2c4e1a7b3d8e6f0a5c2b9d4e7f1a3c"})
    assert settings.is_production


@pytest.mark.parametrize(
    "weak",
    ["aaaaaaaaaaaaaaaa", "changeme-changeme", "a" * 40, "changeme-changeme-changeme-changeme", "0123456789" * 4],
)
def test_production_refuses_a_guessable_secret(weak):
    with pytest.raises(ConfigError, match="SECRET_KEY looks guessable"):
        load_settings({"ENVIRONMENT": "production", "SECRET_KEY": weak})
    assert weak == load_settings({"ENVIRONMENT": "development", "SECRET_KEY": weak}).SECRET_KEY


def test_random_secrets_are_accepted():
    import secrets

    from mmm_dash.config import weak_secret

    assert not any(weak_secret(secrets.token_hex(32)) for _ in range(2000))
    assert not any(weak_secret(secrets.token_urlsafe(32)) for _ in range(2000))


@pytest.mark.parametrize("bad", [{"SESSION_MINUTES": "0"}, {"ENVIRONMENT": "staging"}, {"NOT_A_SETTING": "1"}])
def test_bad_settings_are_one_clear_error(bad):
    with pytest.raises(ConfigError):
        load_settings(bad)
