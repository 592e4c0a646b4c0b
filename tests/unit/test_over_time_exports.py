"""`over_time.csv` and `over_time.json`: stable keys, every quarter and month of the whole range
whatever the view's period, the view's geo, and CSV numbers at a readable precision."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mmm_dash.core.bundle import TOTAL_CHANNEL
from mmm_dash.core.exports import documents
from mmm_dash.core.exports.files import BY_NAME, render
from mmm_dash.core.over_time import columns, results_over_time
from tests.helpers import EXPORT_HEADER_KEYS
from tests.unit.synthetic import CHANNELS, make_bundle


@pytest.fixture(scope="module")
def geo_bundle():
    return make_bundle(geos=("North", "South"))


def test_over_time_files_are_in_the_export_catalogue():
    assert BY_NAME["over_time.csv"].kind == BY_NAME["over_time.json"].kind == "over_time"


def test_over_time_json_has_stable_keys_and_says_the_period_does_not_apply(geo_bundle):
    analysis = geo_bundle.period("2024-q2", "South")
    doc = json.loads(render(BY_NAME["over_time.json"], geo_bundle, analysis))
    assert set(doc) == EXPORT_HEADER_KEYS | {
        "coverage",
        "efficiency_metric",
        "buckets",
    }
    assert doc["geo"] == "South" and doc["efficiency_metric"] == "roi"
    assert doc["coverage"]["period_applies"] is False
    assert (doc["coverage"]["start"], doc["coverage"]["end"]) == (geo_bundle.draws.times[0], geo_bundle.draws.times[-1])
    assert "does not apply" in doc["coverage"]["note"]
    assert set(doc["buckets"]) == {"quarter", "month"}
    assert len(doc["buckets"]["quarter"]) == 4 and len(doc["buckets"]["month"]) == 12
    q4 = doc["buckets"]["quarter"][-1]
    assert set(q4) == {"bucket", "label", "start", "end", "n_times", "partial", "channels", "total"}
    assert (q4["bucket"], q4["label"], q4["partial"]) == ("2024-q4", "2024 Q4", True)
    assert [c["channel"] for c in q4["channels"]] == list(CHANNELS) and q4["total"]["channel"] == TOTAL_CHANNEL
    assert set(q4["channels"][0]) == {
        "channel",
        "spend",
        "pct_of_spend",
        "incremental_outcome",
        "pct_of_contribution",
        "roi",
    }
    assert set(q4["channels"][0]["roi"]) == {"mean", "ci_lo", "ci_hi"}
    theirs = geo_bundle.period("2024-q4", "South").channels.loc["Strong"]
    assert q4["channels"][0]["roi"]["ci_hi"] == pytest.approx(theirs["roi_ci_hi"], rel=1e-12)
    assert q4["total"]["spend"] == pytest.approx(geo_bundle.period("2024-q4", "South").total()["spend"])


def test_over_time_json_of_a_kpi_only_model_carries_cost_per_kpi():
    bundle = make_bundle(has_revenue=False)
    doc = documents.over_time_document(bundle, bundle.period("all"))
    assert doc["efficiency_metric"] == "cpik"
    assert (
        "cpik" in doc["buckets"]["month"][0]["channels"][0] and "roi" not in doc["buckets"]["month"][0]["channels"][0]
    )


def test_over_time_csv_rows_columns_and_precision(geo_bundle):
    analysis = geo_bundle.period("2024-03", "North")  # the period does not apply
    rows = list(csv.reader(io.StringIO(render(BY_NAME["over_time.csv"], geo_bundle, analysis))))
    header, body = rows[0], rows[1:]
    assert header == ["bucket_kind", *columns(geo_bundle.info)]
    assert len(body) == (4 + 12) * (len(CHANNELS) + 1)
    assert [r[0] for r in body] == ["quarter"] * 20 + ["month"] * 60
    record = dict(zip(header, body[0], strict=True))
    assert (record["bucket"], record["channel"]) == ("2024-q1", "Strong")
    theirs = geo_bundle.period("2024-q1", "North").channels.loc["Strong"]
    assert float(record["spend"]) == round(theirs["spend"], 2)
    assert float(record["pct_of_contribution_mean"]) == round(theirs["pct_of_contribution_mean"], 4)
    assert float(record["roi_mean"]) == pytest.approx(theirs["roi_mean"], rel=1e-5)
    decimals = {k: len(v.split(".")[1]) if "." in v else 0 for k, v in record.items() if k not in header[:7]}
    assert decimals["spend"] <= 2 and decimals["incremental_outcome_mean"] <= 2
    assert max(len(v.replace(".", "").lstrip("0")) for k, v in record.items() if k.startswith("roi")) <= 6
    sums = {}
    for r in body[:20]:
        sums[r[6]] = sums.get(r[6], 0.0) + float(r[7])
    assert sums["Strong"] == pytest.approx(geo_bundle.period("all", "North").channels.loc["Strong", "spend"], abs=0.05)


def test_over_time_table_and_exports_agree(geo_bundle):
    table = results_over_time(geo_bundle, "month", "South").table
    doc = documents.over_time_document(geo_bundle, geo_bundle.period("all", "South"))
    march = next(b for b in doc["buckets"]["month"] if b["bucket"] == "2024-03")
    row = table[(table["bucket"] == "2024-03") & (table["channel"] == "Loser")].iloc[0]
    loser = next(c for c in march["channels"] if c["channel"] == "Loser")
    assert loser["incremental_outcome"]["mean"] == pytest.approx(row["incremental_outcome_mean"], rel=1e-12)
