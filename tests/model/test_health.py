"""Meridian's model health review travels in every bundle: a model made to fail a check shows the
failure (with Meridian's numbers and advice) on the page, in the exports and in the insights, and
the demo model's review passes or says why not."""

from __future__ import annotations

import json
import shutil

import pytest

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.core.exports import documents, report
from mmm_dash.core.health import CheckStatus
from mmm_dash.core.insights import build_insights
from mmm_dash.core.status import BundleStatus
from mmm_dash.core.trust import converged
from tests.helpers import TEST_CACHE
from tests.model import shapes
from tests.unit.test_trust import STATED_PROBABILITY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def unconverged(tmp_path_factory):
    path = shapes.unconverged_model_path(TEST_CACHE)
    model_dir = tmp_path_factory.mktemp("models-unconverged")
    shutil.copy2(path, model_dir / "unconverged.pkl")
    state = ModelCatalog(model_dir, TEST_CACHE / "cache").build("unconverged")
    assert state.status is BundleStatus.READY, state.message
    return model_dir, state.bundle


def test_a_model_that_did_not_converge_fails_the_review(unconverged):
    _dir, bundle = unconverged
    health = bundle.health
    assert health.status is CheckStatus.FAIL
    convergence = health.check("convergence")
    assert convergence.status is CheckStatus.FAIL
    assert "max_r_hat" in convergence.message and convergence.recommendation  # Meridian's own numbers and advice
    assert convergence.details["rhat"] > 1.2
    assert health.not_passed()[0].key == "convergence"


def test_the_failure_reaches_insights_and_every_export(unconverged):
    _dir, bundle = unconverged
    analysis = bundle.period("all")
    insights = build_insights(bundle, analysis)
    assert insights[0].id == "trust" and "did not converge" in insights[0].text and "R-hat" in insights[0].text
    assert all("(provisional)" in i.title for i in insights if i.id.startswith("verdict-"))
    # a real unconverged fit: no probability and no planner move anywhere (tests/unit/test_trust.py)
    assert not converged(bundle)
    assert all(i.probability is None and i.planned_spend is None for i in insights)
    assert not STATED_PROBABILITY.search(" ".join(i.text for i in insights))
    metrics = documents.metrics_document(bundle, analysis)
    assert metrics["health"]["status"] == "fail"
    assert (
        json.loads(json.dumps(documents.health_document(bundle, analysis)))["health"]["checks"][0]["status"] == "fail"
    )
    html = report.report_html(bundle, analysis, insights)
    assert "Model health: Fail" in html and "Convergence (R-hat)" in html


def test_the_demo_review_passes_or_says_why(demo_bundle):
    health = demo_bundle.health
    assert health is not None and health.status is not CheckStatus.FAIL
    assert health.check("convergence").status is CheckStatus.PASS
    for check in health.not_passed():  # e.g. Meridian's potential-bias review of a channel
        assert check.message and check.recommendation, check.key
        assert check.flagged_channels() or check.key not in ("potential_bias", "high_variance"), check.key
