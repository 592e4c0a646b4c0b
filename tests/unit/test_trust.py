"""Trust is one set of rules in `core.trust`: when the sampler did not converge no insight, export or
report states a probability or offers a planner move; one effective sample size; one combined verdict
that names the check driving it beside Meridian's own review; one way to name the KPI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import pytest

from mmm_dash.core.exports import documents, report
from mmm_dash.core.health import CheckStatus, HealthCheck, HealthReview
from mmm_dash.core.insights import build_insights
from mmm_dash.core.trust import NOT_MEANINGFUL, assess_trust, channel_ess, converged, probability_text
from tests.unit.synthetic import make_bundle

# A stated probability: "P(ROI > 1) > 99%", "P(better than today) = 87%", "P(mROI < 1) < 1%"
STATED_PROBABILITY = re.compile(r"P\([^)]*\)\)? (only )?[=<>] ?\d|P\([^)]*\) is only")


def review(status=CheckStatus.PASS, score=89.0, convergence=CheckStatus.PASS) -> HealthReview:
    checks = (
        HealthCheck("convergence", "Convergence (R-hat)", convergence, "max_r_hat 1.1", "", {"rhat": 1.1}),
        HealthCheck("goodness_of_fit", "Goodness of fit", CheckStatus.PASS, "R-squared 0.9", "", {}),
    )
    return HealthReview(status, "No major quality issues.", score, checks)


def unconverged_bundle(**kwargs):
    bundle = make_bundle(**kwargs)
    return dataclasses.replace(bundle, rhat=bundle.rhat.assign(max_r_hat=[1.01, 5.52, 1.4]))


def all_text(insights) -> str:
    return "\n".join(f"{i.title} {i.text}" for i in insights)


def test_the_synthetic_bundle_states_probabilities_and_moves_when_it_converged():
    """The counter-case of the rule: the same bundle, converged, has them (so the checks below can fail)."""
    bundle = make_bundle()
    insights = build_insights(bundle, bundle.period("all"))
    assert converged(bundle)
    assert STATED_PROBABILITY.search(all_text(insights))
    assert any(i.probability is not None for i in insights)
    assert any(i.planned_spend is not None for i in insights)


def test_an_unconverged_model_states_no_probability_and_offers_no_planner_move():
    bundle = unconverged_bundle()
    analysis = bundle.period("all")
    trust = assess_trust(bundle, analysis)
    assert not converged(bundle) and not trust.probabilities_meaningful
    insights = build_insights(bundle, analysis)
    text = all_text(insights)
    assert not STATED_PROBABILITY.search(text), text
    assert NOT_MEANINGFUL in text
    assert all(i.probability is None for i in insights)
    assert all(i.planned_spend is None for i in insights)
    moved = [i.id for i in build_insights(make_bundle(), analysis) if i.planned_spend is not None]
    assert moved and [i.id for i in insights if i.move_withheld] == moved  # a greyed note where a link was
    realloc = next(i for i in insights if i.id == "reallocate-budget")
    assert realloc.numbers["p_better"] is None and realloc.probability_reason
    assert insights[0].id == "trust" and "propose no planner moves" in insights[0].text


def test_a_failed_meridian_convergence_check_counts_as_not_converged():
    bundle = make_bundle(health=review(CheckStatus.FAIL, 0.0, convergence=CheckStatus.FAIL))
    assert not converged(bundle)  # every R-hat of the table is fine, Meridian's check is not
    trust = assess_trust(bundle, bundle.period("all"))
    assert trust.low and not trust.probabilities_meaningful
    assert any("Convergence" in r.what for r in trust.reasons)


def test_exports_and_report_of_an_unconverged_model_carry_no_probabilities():
    bundle = unconverged_bundle()
    analysis = bundle.period("all")
    insights = build_insights(bundle, analysis)
    doc = json.loads(json.dumps(documents.insights_document(bundle, analysis, insights)))
    rows = doc["insights"]
    assert all(r["probability"] is None for r in rows)
    reasons = [r["probability_reason"] for r in rows if r["probability_reason"]]
    assert reasons and all(NOT_MEANINGFUL in r for r in reasons)
    assert all(r["numbers"].get("p_better") is None for r in rows)
    table = list(csv.DictReader(io.StringIO(documents.insights_csv(insights))))
    assert all(r["probability"] == "" for r in table)
    assert not STATED_PROBABILITY.search(documents.insights_text(bundle, analysis, insights))
    page = report.report_html(bundle, analysis, insights)
    assert not STATED_PROBABILITY.search(page) and NOT_MEANINGFUL in page


def test_a_converged_models_exports_keep_their_probabilities():
    bundle = make_bundle()
    analysis = bundle.period("all")
    insights = build_insights(bundle, analysis)
    rows = documents.insights_document(bundle, analysis, insights)["insights"]
    assert any(r["probability"] is not None for r in rows)
    assert all(r["probability_reason"] is None for r in rows)


def test_one_function_writes_a_probability():
    assert probability_text("ROI > 1", 0.999, True) == "P(ROI > 1) > 99%"
    assert probability_text("ROI > 1", 0.999, False) == f"P(ROI > 1): {NOT_MEANINGFUL}"


def test_effective_sample_size_is_over_channel_parameters_only():
    rhat = make_bundle().rhat
    rhat = rhat.assign(param=["knot_values", "beta_m", "mu_t"], min_ess=[37.8, 136.0, 52.0])
    ess = channel_ess(rhat)
    assert (ess.value, ess.param) == (136.0, "beta_m")
    assert channel_ess(rhat.assign(param=["knot_values", "mu_t", "sigma"])) is None


def test_the_combined_verdict_names_the_check_that_drives_it_beside_meridians_review():
    bundle = make_bundle(health=review())
    analysis = bundle.period("all")
    poor = dataclasses.replace(analysis, fit={**analysis.fit, "r_squared": 0.33})
    trust = assess_trust(bundle, poor)
    assert trust.low
    assert trust.verdict.startswith("Low: R² 0.33 is below 0.5")
    assert "Meridian's own review passes (89/100), but its goodness-of-fit check" in trust.verdict
    high = assess_trust(bundle, analysis)
    assert high.verdict.startswith("High: ") and "channel parameters 280 (beta_m)" in high.verdict
    assert "Meridian's own review passes (89/100)" in high.verdict
    failed = make_bundle(health=dataclasses.replace(review(), checks=(), status=CheckStatus.FAIL, score=20.0))
    assert "fails (20/100)" in assess_trust(failed, poor).verdict


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"has_revenue": True, "kpi_name": "sales"}, "sales (revenue)"),
        ({"has_revenue": True, "kpi_type": "non_revenue"}, "KPI (not revenue; valued in revenue with revenue per KPI)"),
        ({"has_revenue": False, "kpi_name": "visits"}, "visits (not revenue; no revenue per KPI"),
    ],
)
def test_one_name_for_the_kpi_and_its_type_in_the_report(fields, expected):
    bundle = make_bundle(**fields)
    assert bundle.info.kpi_description.startswith(expected)
    if bundle.info.has_revenue and bundle.info.kpi_type != "revenue":
        return  # the synthetic draws have no KPI cube behind revenue per KPI: the name is what is checked
    analysis = bundle.period("all")
    page = report.report_html(bundle, analysis, build_insights(bundle, analysis))
    assert expected in page.replace("&#x27;", "'") and "non_revenue" not in page


def test_report_tables_say_their_currency():
    bundle = make_bundle()
    analysis = bundle.period("all")
    page = report.report_html(bundle, analysis, [])
    table = page.split("<h2>Per-channel metrics</h2>")[1].split("</table>")[0]
    assert "<th>Spend ($)</th>" in table and "<th>Incremental revenue ($) (90% CI)</th>" in table
    assert re.search(r"<td>\$\d", table)
