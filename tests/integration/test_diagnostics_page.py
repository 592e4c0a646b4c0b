"""The Diagnostics page's model checks on the demo, rendered as the browser asks for them: the weekly
residuals of the view's window and geo, and each channel's ROI prior against its posterior."""

from __future__ import annotations

import numpy as np
import pytest

from mmm_dash.core.diagnostics import residuals, roi_prior_posterior
from mmm_dash.core.formatting import pct, with_interval
from tests.integration.test_geos_and_over_time import find, page, text_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(("period", "geo"), [("all", None), ("2024-02-05..2024-06-24", "West")])
def test_residuals_card_follows_the_views_window_and_geo(signed_in, demo_bundle, period, geo):
    content = page(signed_in, "/diagnostics", f"&period={period}" + (f"&geo={geo}" if geo else ""))
    analysis = demo_bundle.period(period, geo)
    expected = residuals(demo_bundle, analysis.period, geo)
    figure = find(content, "residuals-chart")["props"]["figure"]
    assert list(figure["data"][0]["x"]) == list(expected.time)
    np.testing.assert_allclose(figure["data"][0]["y"], expected.residual)
    assert f"Residuals · {analysis.period.label} · {geo or 'all geos'}" in text_of(find(content, "residuals"))


def test_prior_posterior_card_shows_every_paid_channel(signed_in, demo_bundle):
    content = page(signed_in, "/diagnostics")
    figure = find(content, "prior-posterior-chart")["props"]["figure"]
    assert [a["text"] for a in figure["layout"]["annotations"]] == list(demo_bundle.info.paid_channels)
    assert [t["name"] for t in figure["data"]] == ["Prior", "Posterior"] * len(demo_bundle.info.paid_channels)
    pp = roi_prior_posterior(demo_bundle)
    assert pp.prior.shape[0] == 200 and not pp.sampled_by_builder  # the demo file's own 200 prior draws
    assert "ROI: prior vs posterior" in text_of(find(content, "prior-posterior"))
    rows = find(content, "prior-posterior-table")["props"]["children"][1]["props"]["children"]
    table = pp.frame()
    assert [text_of(r["props"]["children"][0]) for r in rows] == list(demo_bundle.info.paid_channels)
    for row, (_channel, r) in zip(rows, table.iterrows(), strict=True):
        cells = [text_of(c) for c in row["props"]["children"]]
        assert cells[1] == with_interval(r.prior_mean, r.prior_ci_lo, r.prior_ci_hi)
        assert cells[2] == with_interval(r.posterior_mean, r.posterior_ci_lo, r.posterior_ci_hi)
        assert cells[3] == pct(100 * r.width_ratio, 0)
