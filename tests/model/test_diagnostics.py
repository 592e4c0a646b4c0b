"""The Diagnostics page's model checks against Meridian's own numbers, on every shape of test model:
each channel's ROI prior and posterior are `Analyzer.roi(use_posterior=False / True)` draw for draw
(and their means and intervals `Analyzer.summary_metrics`' prior and posterior ROI),
and the weekly residuals are actual minus the expected mean of `Analyzer.expected_vs_actual_data`.

Tolerances: prior draws are stored as float32 (1e-6 relative); the posterior ROI comes from the
float32 all-geo cubes summed over the whole range (1e-5, as tests/model/test_windows.py). A residual is
a difference of two close numbers, so it is compared with an absolute tolerance of 1e-6 of the largest
weekly outcome (both sides are float64 means of Meridian's float32 expected outcome)."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.diagnostics import residuals, roi_prior_posterior
from mmm_dash.core.figures.diagnostics import density, prior_posterior_densities, residual_bars
from tests.model.conftest import meridian_model

pytestmark = pytest.mark.slow


def test_roi_prior_and_posterior_are_meridians(shape_bundle):
    from meridian.analysis import analyzer

    shape, model_dir, bundle = shape_bundle
    info = bundle.info
    an = analyzer.Analyzer(meridian_model(model_dir, shape))
    use_kpi = not info.has_revenue
    n = len(info.paid_channels)
    prior = np.asarray(an.roi(use_posterior=False, use_kpi=use_kpi)).reshape(-1, n)
    posterior = np.asarray(an.roi(use_kpi=use_kpi)).reshape(-1, n)

    pp = roi_prior_posterior(bundle)
    assert pp is not None and pp.channels == info.paid_channels
    assert not pp.sampled_by_builder  # the test models are saved with their prior draws
    np.testing.assert_allclose(pp.prior, prior, rtol=1e-6)
    np.testing.assert_allclose(pp.posterior, posterior, rtol=1e-5)
    assert not np.allclose(pp.prior.mean(axis=0), pp.posterior.mean(axis=0), rtol=0.05)  # two different things

    # the summary the Diagnostics card tabulates is Meridian's summary_metrics of the same distributions
    ds = an.summary_metrics(use_kpi=use_kpi, include_non_paid_channels=False, confidence_level=0.9)
    table = pp.frame()
    for distribution in ("prior", "posterior"):
        roi = ds["roi"].sel(distribution=distribution, channel=list(info.paid_channels))
        for stat in ("mean", "ci_lo", "ci_hi"):
            np.testing.assert_allclose(
                table[f"{distribution}_{stat}"], roi.sel(metric=stat).to_numpy(), rtol=1e-5, err_msg=distribution
            )

    fig = prior_posterior_densities(pp, info.roi_label, 1.0 if info.has_revenue else None)
    titles = [a["text"] for a in fig.layout["annotations"]]
    assert titles == list(info.paid_channels)
    for i in range(n):
        prior_trace, posterior_trace = fig.data[2 * i], fig.data[2 * i + 1]
        assert (prior_trace["name"], posterior_trace["name"]) == ("Prior", "Posterior")
        x = prior_trace["x"]
        np.testing.assert_allclose(prior_trace["y"], density(prior[:, i], x), rtol=1e-4)
        np.testing.assert_allclose(posterior_trace["y"], density(posterior[:, i], x), rtol=1e-4, atol=1e-9)
        assert x[0] <= np.quantile(posterior[:, i], 0.05) and np.quantile(posterior[:, i], 0.95) <= x[-1]


def test_residuals_are_actual_minus_meridians_expected(shape_bundle):
    from meridian.analysis import analyzer

    shape, model_dir, bundle = shape_bundle
    info = bundle.info
    an = analyzer.Analyzer(meridian_model(model_dir, shape))
    use_kpi = not info.has_revenue
    times = list(bundle.draws.times)

    national = an.expected_vs_actual_data(aggregate_geos=True, use_kpi=use_kpi)
    res = residuals(bundle, bundle.presets["all"])
    assert list(res.time) == times
    theirs = national["actual"].to_numpy() - national["expected"].sel(metric="mean").to_numpy()
    scale = np.abs(national["actual"].to_numpy()).max()
    np.testing.assert_allclose(res.residual, theirs, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(res.actual, national["actual"].to_numpy(), rtol=1e-9)
    fig = residual_bars(res, info.outcome_label, info.has_revenue)
    np.testing.assert_allclose(fig.data[0]["y"], theirs, rtol=0, atol=1e-6 * scale)
    assert fig.layout["shapes"][0]["y0"] == 0  # the zero line

    if info.is_national:
        return
    by_geo = an.expected_vs_actual_data(aggregate_geos=False, use_kpi=use_kpi)
    geo = info.geos[-1]
    window = bundle.period("last52").period
    res = residuals(bundle, window, geo)
    weeks = [t for t in times if window.start <= t <= window.end]
    assert list(res.time) == weeks and len(weeks) == 52
    one = by_geo.sel(geo=geo, time=weeks)
    theirs = one["actual"].to_numpy() - one["expected"].sel(metric="mean").to_numpy()
    scale = np.abs(one["actual"].to_numpy()).max()
    np.testing.assert_allclose(res.residual, theirs, rtol=0, atol=1e-6 * scale)


def test_builder_samples_the_prior_of_a_file_saved_without_one():
    from meridian.analysis import analyzer

    from mmm_dash.builder.meridian import bundle_builder
    from mmm_dash.builder.meridian.loading import load_model
    from tests.helpers import TEST_CACHE
    from tests.model.shapes import fitted_model_path

    path = fitted_model_path("national_revenue", TEST_CACHE)
    mmm = load_model(path, path.parent)
    del mmm.inference_data["prior"]
    info = bundle_builder.model_info(mmm, "m", path.name, "0" * 64, "2.1.0")
    an = analyzer.Analyzer(mmm)
    prior = bundle_builder._roi_prior(an, mmm, info, False, "seed", bundle_builder.StepClock(lambda *_: None))
    assert prior.sampled_by_builder and prior.draws.shape == (bundle_builder.PRIOR_DRAWS, len(info.paid_channels))
    theirs = np.asarray(an.roi(use_posterior=False)).reshape(-1, len(info.paid_channels))
    np.testing.assert_allclose(prior.draws, theirs, rtol=1e-6)  # the draws Meridian now holds as its prior
