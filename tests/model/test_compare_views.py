"""The Compare page's numbers against Meridian's own, on the small test models: each side's per-channel
values equal Meridian's summary_metrics for that model and window, and the probability that a
channel's ROI went up equals a direct count over Meridian's per-draw ROI (paired draws for two
windows of one model, every pair of draws for two models)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mmm_dash.core.compare_views import compare_views
from mmm_dash.web.view_compare import make_side
from tests.model.conftest import build_shape, meridian_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return {
        s: build_shape(s, tmp_path_factory) for s in ("national_revenue", "geo_organic_non_media", "geo_rf_no_revenue")
    }


def _windows(bundle):
    times = bundle.draws.times
    half = len(times) // 2
    return f"{times[0]}..{times[half - 1]}", f"{times[half]}..{times[-1]}"


def _meridian_side(model_dir, shape, bundle, key):
    from meridian.analysis import analyzer

    an = analyzer.Analyzer(meridian_model(model_dir, shape))
    period = bundle.period(key).period
    selected = [t for t in bundle.draws.times if period.start <= t <= period.end]
    use_kpi = not bundle.info.has_revenue
    summary = an.summary_metrics(selected_times=selected, use_kpi=use_kpi, confidence_level=0.9)
    roi = np.asarray(an.roi(selected_times=selected, use_kpi=use_kpi)).reshape(-1, len(bundle.info.paid_channels))
    return summary, roi


def _check_side(estimates, summary, channel, metric, meridian_metric):
    theirs = summary[meridian_metric].sel(distribution="posterior", channel=channel)
    for stat in ("mean", "ci_lo", "ci_hi"):
        assert getattr(estimates, stat) == pytest.approx(float(theirs.sel(metric=stat)), rel=1e-5), (channel, metric)


def test_two_windows_of_one_model_on_paired_draws(shapes):
    shape, model_dir, bundle = shapes["national_revenue"]
    first, second = _windows(bundle)
    c = compare_views(make_side(bundle, bundle.period(first)), make_side(bundle, bundle.period(second)))
    assert c.paired
    (sa, roi_a), (sb, roi_b) = (_meridian_side(model_dir, shape, bundle, k) for k in (first, second))
    for i, channel in enumerate(bundle.info.paid_channels):
        row = c.channel(channel)
        for metric, meridian_metric in (
            ("incremental_outcome", "incremental_outcome"),
            ("contribution_share", "pct_of_contribution"),
            ("roi", "roi"),
            ("mroi", "mroi"),
        ):
            _check_side(row.metrics[metric].a, sa, channel, metric, meridian_metric)
            _check_side(row.metrics[metric].b, sb, channel, metric, meridian_metric)
        assert row.metrics["spend"].a.mean == pytest.approx(float(sa["spend"].sel(channel=channel)))
        direct = np.mean(roi_b[:, i] > roi_a[:, i]) + 0.5 * np.mean(roi_b[:, i] == roi_a[:, i])
        assert row.metrics["roi"].prob_up == pytest.approx(direct, abs=1e-12)
        diff = roi_b[:, i] - roi_a[:, i]
        assert row.metrics["roi"].change.ci_lo == pytest.approx(np.quantile(diff, 0.05), rel=1e-4)
        assert row.metrics["roi"].change.ci_hi == pytest.approx(np.quantile(diff, 0.95), rel=1e-4)


def test_two_models_on_independent_draws_with_channels_matched_by_name(shapes):
    shape_a, dir_a, a = shapes["national_revenue"]
    shape_b, dir_b, b = shapes["geo_organic_non_media"]
    side_b = make_side(b, b.period("all"))
    # this shape is sampled far too briefly to converge, so the page states no P(up) (core.trust.converged) ...
    assert not side_b.converged
    assert compare_views(make_side(a, a.period("all")), side_b).channel("TV").metrics["roi"].prob_up is None
    # ... and the arithmetic of P(up) on independent draws is checked as if it had converged
    c = compare_views(make_side(a, a.period("all")), dataclasses.replace(side_b, converged=True))
    assert not c.paired and "Independent draws" in c.pairing_note
    presence = {r.channel: r.presence for r in c.channels}
    assert presence == {"TV": "both", "Paid Search": "both", "Social": "only_a"}  # shown, not dropped
    assert c.channel("Social").metrics["roi"].b is None and c.channel("Social").metrics["roi"].change is None
    _sa, roi_a = _meridian_side(dir_a, shape_a, a, "all")
    _sb, roi_b = _meridian_side(dir_b, shape_b, b, "all")
    for channel in ("TV", "Paid Search"):
        ra = roi_a[:, a.info.paid_channels.index(channel)]
        rb = roi_b[:, b.info.paid_channels.index(channel)]
        pairs = rb[None, :] - ra[:, None]
        direct = np.mean(pairs > 0) + 0.5 * np.mean(pairs == 0)
        assert c.channel(channel).metrics["roi"].prob_up == pytest.approx(direct, abs=1e-12)
    assert any("only in A" in f and "Social" in f for f in c.findings)


def test_revenue_and_kpi_only_views_say_they_cannot_compare_on_roi(shapes):
    _s, _d, revenue = shapes["national_revenue"]
    _s, _d, kpi_only = shapes["geo_rf_no_revenue"]
    c = compare_views(make_side(revenue, revenue.period("all")), make_side(kpi_only, kpi_only.period("all")))
    assert "roi" not in c.metrics and "incremental_outcome" not in c.metrics
    assert (
        "cannot" in c.not_compared["incremental_outcome"] or "do not compare" in c.not_compared["incremental_outcome"]
    )
    assert "not on ROI" in c.not_compared["roi"]
    assert {"spend", "contribution_share"} <= set(c.metrics)  # what can be compared still is
    assert any("Not compared: ROI" in f for f in c.findings)


def test_the_bundle_records_meridians_model_spec_and_the_priors_that_apply(shapes):
    """What Compare lists under "what changed in the model" is Meridian's own spec of the fitted model."""
    from mmm_dash.builder.meridian.bundle_builder import model_info
    from mmm_dash.core.compare_views import model_changes

    shape, model_dir, _bundle = shapes["geo_rf_no_revenue"]
    mmm = meridian_model(model_dir, shape)
    info = model_info(mmm, shape, f"{shape}.pkl", "0" * 64, "2.1.0")
    spec, priors = dict(info.model_spec), dict(info.priors)
    assert spec["Knots"] == str(mmm.knot_info.n_knots)
    assert spec["Max lag (weeks)"] == str(mmm.model_spec.max_lag)
    assert spec["Adstock decay"] == str(mmm.model_spec.adstock_decay_spec)
    prior = mmm.model_spec.prior.roi_rf
    assert priors["roi_rf"] == f"{type(prior).__name__}(loc={float(prior.loc):.4g}, scale={float(prior.scale):.4g})"
    assert not any(name.endswith(("_om", "_orf", "_n")) for name in priors)  # no organic or non-media inputs
    n_shape, n_dir, _ = shapes["national_revenue"]
    national = model_info(meridian_model(n_dir, n_shape), n_shape, f"{n_shape}.pkl", "1" * 64, "2.1.0")
    assert "tau_g_excl_baseline" in priors and "tau_g_excl_baseline" not in dict(national.priors)
    changes = {c.what: c for c in model_changes(national, info) if c.changed}
    assert "Geography" in changes and "Prior roi_rf" in changes  # a prior only B has reads "not recorded" in A
