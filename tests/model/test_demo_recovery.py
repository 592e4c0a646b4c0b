"""The demo data's true ROIs are recovered by a refit at small draws."""

from __future__ import annotations

import json

import pytest

from mmm_dash.builder.meridian.demo import build_demo_model, truth_path_for
from mmm_dash.builder.meridian.fitting import SamplingPlan

pytestmark = pytest.mark.slow


def test_refit_covers_true_roi_and_ranks_best_and_worst(tmp_path):
    from meridian.analysis import analyzer

    out = tmp_path / "demo_refit.pkl"
    mmm = build_demo_model(
        out, plan=SamplingPlan(chains=2, adapt=150, burnin=75, keep=100, seed=7), progress=lambda _m: None
    )
    truth = {c["channel"]: c["true_roi"] for c in json.loads(truth_path_for(out).read_text())["channels"]}
    roi = analyzer.Analyzer(mmm).summary_metrics()["roi"].sel(distribution="posterior")
    covered = [
        ch
        for ch, true in truth.items()
        if float(roi.sel(channel=ch, metric="ci_lo")) <= true <= float(roi.sel(channel=ch, metric="ci_hi"))
    ]
    assert len(covered) >= 0.6 * len(truth), f"90% intervals cover only {covered}"
    means = {ch: float(roi.sel(channel=ch, metric="mean")) for ch in truth}
    assert max(means, key=means.get) == max(truth, key=truth.get)
    assert min(means, key=means.get) == min(truth, key=truth.get)
