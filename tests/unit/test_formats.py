"""Export formatting rules that must hold for any model file."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from mmm_dash.core.exports import documents
from tests.helpers import EXPORT_HEADER_KEYS
from tests.unit.synthetic import four_channel_case


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "＝1+1", "＋1", "－2", "＠SUM(A1)", "﹦1", "⁼1"],
)
def test_formula_like_cells_are_neutralised(cell):
    assert documents.neutralize(cell) == "'" + cell


def test_plain_cells_and_numbers_pass_through():
    assert documents.neutralize("Paid Search") == "Paid Search"
    assert documents.neutralize(-2.5) == -2.5


def test_channel_names_from_model_files_cannot_inject_formulas():
    analysis = four_channel_case()
    evil = analysis.channels.rename(index={"Strong": "=cmd|' /C calc'!A0"})
    analysis = type(analysis)(**{**analysis.__dict__, "channels": evil})
    rows = list(csv.reader(io.StringIO(documents.metrics_csv(analysis))))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"


def test_csv_numbers_have_sensible_precision_and_amounts_name_their_currency():
    analysis = four_channel_case()
    rows = list(csv.reader(io.StringIO(documents.metrics_csv(analysis))))
    header = rows[0]
    assert "spend_usd" in header and "cpik_mean_usd" in header and "incremental_outcome_mean_usd" in header
    assert "roi_mean" in header  # ratios carry no currency
    for cell in rows[1][1:]:
        if cell and cell.replace(".", "").replace("-", "").isdigit():
            digits = cell.lstrip("-").replace(".", "").lstrip("0")
            assert len(digits) <= 12, cell  # never the 15+ digits of a raw float
    assert documents.csv_number(12462715.034810) == "12462715.03"
    assert documents.csv_number(1.2345678912) == "1.23457"


def test_json_is_clean_numbers_and_nulls():
    doc = documents.clean({"a": np.float64(1.5), "b": float("nan"), "c": np.int64(3), "d": np.array([1.0, np.inf])})
    assert doc == {"a": 1.5, "b": None, "c": 3, "d": [1.0, None]}
    json.dumps(doc, allow_nan=False)


def test_metrics_document_has_stable_keys():
    from tests.unit.synthetic import make_bundle

    bundle = make_bundle()
    analysis = bundle.period("all")
    doc = documents.metrics_document(bundle, analysis)
    assert set(doc) == EXPORT_HEADER_KEYS | {
        "channels",
        "total",
        "non_paid",
        "baseline",
        "health",
    }
    assert set(doc["channels"][0]) == {
        "channel",
        "spend",
        "pct_of_spend",
        "impressions",
        "incremental_outcome",
        "pct_of_contribution",
        "roi",
        "mroi",
        "effectiveness",
        "cpik",
    }
    assert set(doc["channels"][0]["roi"]) == {"mean", "median", "ci_lo", "ci_hi"}
    assert math.isclose(doc["channels"][0]["roi"]["mean"], analysis.channels.loc["Strong", "roi_mean"])
