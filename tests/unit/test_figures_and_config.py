"""Figure builders carry the bundle's numbers; settings behave as documented."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.config import ConfigError, load_settings
from mmm_dash.core.figures import charts, curves
from tests.unit.synthetic import four_channel_case


def test_contribution_bars_show_means_and_intervals():
    analysis = four_channel_case()
    table = analysis.channel_table()
    fig = charts.contribution_bars(table, "revenue")
    bar = fig.data[0]
    order = list(bar.y)
    np.testing.assert_allclose(bar.x, table.loc[order, "incremental_outcome_mean"])
    np.testing.assert_allclose(bar.error_x.array, table.loc[order, "incremental_outcome_ci_hi"] - bar.x)
    assert fig.layout.template.layout.font.family.startswith("system-ui")


def test_response_curve_marks_current_spend_and_saturation():
    analysis = four_channel_case()
    fig = curves.response_curve(analysis.curves, "Strong", "revenue", saturation_multiplier=1.2)
    marker = next(t for t in fig.data if t.name == "Current spend")
    assert marker.x[0] == pytest.approx(100.0)
    assert any(s.type == "line" for s in fig.layout.shapes)


def test_small_multiples_mark_each_channels_scenario_point():
    analysis = four_channel_case()
    spend = analysis.curves.historical_spend * 1.5
    outcome = np.arange(len(spend), dtype=float) + 7.0
    fig = curves.small_multiples(analysis.curves, "revenue", scenario_spend=spend, scenario_outcome=outcome, max_cols=2)
    points = [t for t in fig.data if (t.name or "").endswith(" scenario")]
    assert [p.name for p in points] == [f"{ch} scenario" for ch in analysis.curves.channels]
    np.testing.assert_allclose([p.x[0] for p in points], spend)
    np.testing.assert_allclose([p.y[0] for p in points], outcome)
    assert len(fig.layout.annotations) == len(analysis.curves.channels)  # one titled panel each
    plain = curves.small_multiples(analysis.curves, "revenue")
    assert not any((t.name or "").endswith(" scenario") for t in plain.data)


def test_metric_bars_skip_undefined_metric():
    analysis = four_channel_case()
    table = analysis.channel_table().assign(mroi_mean=np.nan)
    fig = charts.metric_bars(table, "mroi", "mROI")
    assert fig.layout.annotations and "not defined" in fig.layout.annotations[0].text


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
    settings = load_settings({"ENVIRONMENT": "production", "SECRET_KEY": "a" * 40})
    assert settings.is_production


@pytest.mark.parametrize("bad", [{"SESSION_MINUTES": "0"}, {"ENVIRONMENT": "staging"}, {"NOT_A_SETTING": "1"}])
def test_bad_settings_are_one_clear_error(bad):
    with pytest.raises(ConfigError):
        load_settings(bad)
