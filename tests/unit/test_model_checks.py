"""The Diagnostics page's model checks on a synthetic bundle: ROI prior vs posterior, weekly residuals."""

from __future__ import annotations

import dataclasses

import numpy as np

from mmm_dash.core.diagnostics import residuals, roi_prior_posterior
from mmm_dash.core.figures.diagnostics import prior_posterior_densities, residual_bars
from tests.unit.synthetic import CHANNELS, make_bundle


def test_prior_and_posterior_are_the_bundles_draws_and_densities():
    bundle = make_bundle()
    pp = roi_prior_posterior(bundle)
    assert pp.channels == CHANNELS
    np.testing.assert_array_equal(pp.prior, bundle.roi_prior.draws)
    np.testing.assert_array_equal(pp.posterior, bundle.period("all").roi_draws)
    table = pp.frame()
    assert table.loc["Strong", "posterior_mean"] == np.mean(bundle.period("all").roi_draws[:, 0])
    widths = (table.posterior_ci_hi - table.posterior_ci_lo) / (table.prior_ci_hi - table.prior_ci_lo)
    np.testing.assert_allclose(table.width_ratio, widths)
    assert table.width_ratio["Strong"] < 0.5 < table.width_ratio["Noisy"]  # the data pinned Strong down, not Noisy

    fig = prior_posterior_densities(pp, "ROI")
    assert [t["name"] for t in fig.data] == ["Prior", "Posterior"] * len(CHANNELS)
    for t in fig.data:  # densities: most of their mass in the drawn range (a kernel also spills below 0)
        assert 0.75 < np.trapezoid(t["y"], t["x"]) <= 1.0 + 1e-6
    assert len(fig.layout["shapes"]) == len(CHANNELS)  # break-even on every panel (each range holds 1)
    assert not prior_posterior_densities(pp, "KPI per unit of spend", None).layout.get("shapes")


def test_bundle_without_a_prior_has_no_prior_posterior():
    assert roi_prior_posterior(dataclasses.replace(make_bundle(), roi_prior=None)) is None


def test_residuals_are_actual_minus_expected_mean_and_geos_add_up():
    geos = ("North", "South", "East")
    bundle = make_bundle(geos=geos)
    window = bundle.period("2024-03-04..2024-06-24").period
    national = residuals(bundle, window)
    assert len(national) == window.n_times and national.time.iloc[0] == window.start
    weeks = bundle.draws.time_index(window.start, window.end)
    np.testing.assert_allclose(
        national.residual, (bundle.draws.actual - bundle.draws.expected_mean)[:, weeks].sum(axis=0)
    )
    by_geo = sum(residuals(bundle, window, g).residual.to_numpy() for g in geos)
    np.testing.assert_allclose(by_geo, national.residual)
    fig = residual_bars(national, "revenue", True)
    np.testing.assert_array_equal(fig.data[0]["y"], national.residual.to_numpy())
    colors = fig.data[0]["marker"]["color"]
    assert {c for c, r in zip(colors, national.residual, strict=True) if r < 0} == {"#e03131"}
    assert fig.layout["yaxis"]["title"]["text"] == "Actual − expected revenue ($)"
