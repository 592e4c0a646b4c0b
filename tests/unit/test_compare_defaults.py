"""The Compare page's like-for-like default, what it flags when two views are not like for like, its
number formatting and its list of what changed in the model: pure functions on synthetic bundles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import re

import pandas as pd
import pytest

from mmm_dash.core import formatting
from mmm_dash.core.bundle import ModelInfo
from mmm_dash.core.compare_views import (
    ViewSide,
    caveats,
    compare_views,
    comparison_table,
    default_baseline,
    model_changes,
)
from tests.unit.synthetic import info, make_bundle


def weeks(start: str, n: int) -> tuple[str, ...]:
    return tuple(str(t.date()) for t in pd.date_range(start, periods=n, freq="7D"))


def days_between(a: str, b: str) -> int:
    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days


def side(bundle, key="all", geo=None, label="side") -> ViewSide:
    return ViewSide(label, bundle.info, bundle.period(key, geo))


# -- the default baseline ---------------------------------------------------------------------------
def test_a_refresh_compares_with_the_previous_version_over_the_weeks_both_cover():
    older = weeks("2023-01-02", 117)  # 2023-01-02 .. 2025-03-24
    newer = weeks("2023-07-03", 120)  # a rolling refit: starts later, ends later
    choice = default_baseline(newer, None, "2025-03", older)
    assert choice.base_version == "2025-03"
    assert choice.view == choice.base == ("2023-07-03", older[-1])  # the same weeks on both sides
    assert "previous version, 2025-03" in choice.note and "B is narrowed" in choice.note


def test_a_window_inside_both_versions_stays_as_it_is_and_the_baseline_reads_the_same_weeks():
    older, newer = weeks("2023-01-02", 117), weeks("2023-01-02", 130)
    window = ("2024-01-01", "2024-12-23")
    choice = default_baseline(newer, window, "v1", older)
    assert choice.view == choice.base == window
    assert "narrowed" not in choice.note


def test_versions_sharing_no_week_fall_back_to_a_year_earlier_and_say_why():
    older, newer = weeks("2021-01-04", 52), weeks("2023-01-02", 104)
    choice = default_baseline(newer, None, "v1", older)
    assert choice.base_version == ""  # the view's own version
    assert days_between(choice.base[0], choice.view[0]) == 364 and days_between(choice.base[1], choice.view[1]) == 364
    assert choice.note.startswith("The previous version, v1, shares no week with B")


def test_one_version_compares_the_last_52_weeks_with_the_same_weeks_a_year_earlier():
    times = weeks("2023-01-02", 156)
    choice = default_baseline(times, None)
    assert choice.view == (times[-52], times[-1])
    assert choice.base == (times[-104], times[-53])  # 52 weeks too, ending where B's year began
    assert "same 52 weeks a year earlier" in choice.note


def test_a_window_without_a_year_earlier_twin_is_narrowed_to_the_weeks_that_have_one():
    times = weeks("2023-06-05", 100)
    choice = default_baseline(times, (times[0], times[-1]))
    assert choice.view[0] == "2024-06-03"  # the first week with a twin 52 weeks before
    assert choice.base[0] == times[0]
    assert "narrowed" in choice.note


def test_a_short_model_says_there_is_nothing_like_for_like():
    times = weeks("2024-01-01", 40)
    choice = default_baseline(times, None)
    assert choice.base is None and choice.view is None
    assert choice.note.startswith("Nothing here is like for like") and "Pick a baseline" in choice.note


# -- what keeps two views from being like for like --------------------------------------------------
def test_like_for_like_views_raise_no_caveat():
    bundle = make_bundle(n_weeks=104, start="2023-01-02")
    assert caveats(side(bundle, "2023"), side(bundle, "2024")) == ()


def test_unequal_window_lengths_are_flagged():
    bundle = make_bundle(n_weeks=120, start="2023-01-02")
    times = bundle.draws.times
    a = side(bundle, f"{times[0]}..{times[50]}")  # 51 weeks
    b = side(bundle, f"{times[60]}..{times[112]}")  # 53 weeks
    (flag,) = caveats(a, b)
    assert flag.startswith("Unequal windows: A covers 51 weeks") and "B 53 weeks" in flag
    # weeks 0-9 spend far more than weeks 15-24: equal windows state the fall of incremental outcome,
    # unequal ones (11 weeks against 10) do not, since their totals differ by length as well
    ten = side(bundle, f"{times[0]}..{times[9]}")
    assert any("incremental" in f for f in compare_views(ten, side(bundle, f"{times[15]}..{times[24]}")).findings)
    assert not any("incremental" in f for f in compare_views(ten, side(bundle, f"{times[15]}..{times[25]}")).findings)


def test_another_model_is_labelled_and_so_are_other_geos():
    ours = make_bundle(geos=("North", "South"))
    theirs = make_bundle(geos=("North", "South", "West"), name="other", sha256="1" * 64)
    found = caveats(side(ours), side(theirs))
    assert any(f.startswith("Across models: A reads model synthetic and B model other") for f in found)
    assert any("Different geo sets" in f and "B adds West" in f for f in found)
    assert any(
        f.startswith("Different geos: A reads North and B all geos")
        for f in caveats(side(ours, geo="North"), side(ours))
    )


def test_the_caveats_reach_the_comparison_and_its_download():
    from mmm_dash.core.exports.comparison import comparison_document

    a = make_bundle(seed=1)
    b = make_bundle(seed=2, name="other", sha256="1" * 64)
    c = compare_views(side(a), side(b))
    assert c.caveats and c.caveats[0].startswith("Across models")
    doc = comparison_document(c)
    assert doc["caveats"] == list(c.caveats)
    changed = {m["what"] for m in doc["model_changes"] if m["changed"]}
    assert changed == {"Model"}  # same data, channels and draws: only the model's name differs


# -- formatting -------------------------------------------------------------------------------------
@pytest.fixture()
def euros():
    before = formatting.CURRENCY
    formatting.use_currency(formatting.parse_currency("EUR"))
    yield
    formatting.use_currency(before)


def test_the_table_writes_amounts_in_the_currency_and_ratios_with_two_decimals(euros):
    a = make_bundle(seed=1, roi_scale=52_000)  # millions of outcome on 100 of spend per channel
    b = make_bundle(seed=2, roi_scale=50_000, sha256="1" * 64, version="v2")
    rows = {(r["channel"], r["metric"]): r for r in comparison_table(compare_views(side(a), side(b)))}
    spend = rows[("Strong", "Spend")]
    assert spend["a"] == "€100" and spend["change"] == "+€0" and spend["a_ci"] == ""  # spend has no interval
    outcome = rows[("Strong", "Incremental outcome")]
    assert outcome["a"].startswith("€") and outcome["a"].endswith("M") and "." in outcome["a"]  # "€15.5M"
    assert " to " in outcome["a_ci"] and outcome["change"][0] in "+−"
    assert rows[("Strong", "ROI")]["a"].count(".") == 1 and len(rows[("Strong", "ROI")]["a"].split(".")[1]) == 2
    assert rows[("Strong", "Contribution share (% of outcome)")]["change"].endswith(" pts")
    amounts = [r for (_ch, metric), r in rows.items() if metric in ("Spend", "Incremental outcome")]
    for row in amounts:  # never a raw amount such as 5,261,343.123
        for key in ("a", "b", "change"):
            assert "$" not in row[key] and not re.search(r"\.\d{3,}|\d{4,}\.", row[key]), row


def test_a_kpi_model_writes_counts_and_cost_per_kpi():
    a = make_bundle(seed=1, has_revenue=False, kpi_type="non_revenue", kpi_name="visits")
    b = make_bundle(seed=2, has_revenue=False, kpi_type="non_revenue", kpi_name="visits", sha256="1" * 64)
    rows = {(r["channel"], r["metric"]): r for r in comparison_table(compare_views(side(a), side(b)))}
    assert not rows[("Strong", "Incremental outcome")]["a"].startswith("$")
    cost = rows[("Strong", "Cost per incremental KPI")]
    assert cost["a"].startswith("$") and cost["a"].endswith((" per visits", " per 1,000 visits")), cost
    scale = " per 1,000 visits" if cost["a"].endswith("1,000 visits") else " per visits"
    assert all(cost[k].count(scale) == (2 if k.endswith("_ci") else 1) for k in ("a", "a_ci", "b", "b_ci")), cost


# -- what changed in the model -----------------------------------------------------------------------
def test_model_changes_list_data_range_knots_draws_and_priors():
    spec = (("Knots", "26"), ("Adstock decay", "geometric"))
    priors = (("roi_m", "LogNormal(loc=0.2, scale=0.9)"), ("sigma", "HalfNormal(scale=5)"))
    a = info(model_spec=spec, priors=priors, n_draws=250, time_end="2024-12-23")
    b = info(
        model_spec=(("Knots", "52"), ("Adstock decay", "geometric")),
        priors=(("roi_m", "LogNormal(loc=0.5, scale=0.5)"), ("sigma", "HalfNormal(scale=5)")),
        n_draws=500,
        time_end="2025-06-30",
        n_times=78,
        media_channels=("Strong", "Saturated", "Loser", "Noisy", "Radio"),
    )
    changes = {c.what: c for c in model_changes(a, b)}
    assert {w for w, c in changes.items() if c.changed} == {
        "Data range",
        "Paid channels",
        "Posterior draws",
        "Knots",
        "Prior roi_m",
    }
    assert (changes["Knots"].a, changes["Knots"].b) == ("26", "52")
    assert changes["Prior roi_m"].b == "LogNormal(loc=0.5, scale=0.5)"
    assert changes["Paid channels"].b.endswith("(+ Radio)")
    assert changes["Posterior draws"].b == "1 chains × 500 draws"
    assert not changes["Prior sigma"].changed


def test_a_bundle_from_before_the_spec_was_kept_loads_and_says_not_recorded():
    current = info(model_spec=(("Knots", "26"),), priors=(("roi_m", "LogNormal(loc=0.2, scale=0.9)"),))
    state = pickle.loads(pickle.dumps(info())).__dict__
    old = ModelInfo.__new__(ModelInfo)
    old.__dict__.update({k: v for k, v in state.items() if k not in ("model_spec", "priors")})  # an older pickle
    assert old.model_spec == () and old.priors == ()
    changes = {c.what: c for c in model_changes(old, current)}
    assert changes["Knots"].a == "not recorded" and changes["Prior roi_m"].a == "not recorded"
    assert dataclasses.replace(old, version="v1").priors == ()


def test_the_charts_name_the_currency_of_amounts(euros):
    from mmm_dash.core.figures.compare import change_bars, dumbbell

    a, b = make_bundle(seed=1), make_bundle(seed=2, sha256="1" * 64)
    c = compare_views(side(a), side(b))
    assert dumbbell(c, "incremental_outcome").to_dict()["layout"]["xaxis"]["title"]["text"] == (
        "Incremental outcome (€)"
    )
    bars = change_bars(c, "incremental_outcome").to_dict()
    assert bars["layout"]["xaxis"]["title"]["text"] == "Change in Incremental outcome (€), B − A"
    assert "€" in bars["data"][0]["hovertemplate"]
    assert "€" not in dumbbell(c, "roi").to_dict()["data"][0]["hovertemplate"]
