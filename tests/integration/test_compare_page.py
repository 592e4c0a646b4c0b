"""The Compare page compares like for like by default: a model's previous version over the weeks both
versions cover, a model with one version against the same weeks a year earlier; another model only
when the analyst picks it, and then it says so; switching this view's model never keeps the old
model's baseline."""

from __future__ import annotations

import json

import dash
import plotly
import pytest

from tests.helpers import callback_body, create_user, login, make_app, post_callback

# Per model file: (first week, weeks). acme's refit starts two months later and runs 13 weeks longer.
DATA = {"2025-03.pkl": ("2023-01-02", 117), "2025-06.pkl": ("2023-03-06", 122), "solo.pkl": ("2023-01-02", 156)}


def synthetic_step(entry, sha256, progress):
    """A synthetic bundle with the data range in DATA for this file (no Meridian)."""
    from tests.unit.synthetic import make_bundle

    start, n_weeks = DATA[entry.path.name]
    return make_bundle(
        start=start,
        n_weeks=n_weeks,
        geos=("North", "South"),
        name=entry.model,
        file_name=entry.path.name,
        sha256=sha256,
        version=entry.version,
    )


@pytest.fixture()
def app(tmp_path):
    model_dir = tmp_path / "models"
    (model_dir / "acme").mkdir(parents=True)
    for i, name in enumerate(("acme/2025-03.pkl", "acme/2025-06.pkl", "solo.pkl")):
        (model_dir / name).write_bytes(b"model file %d" % i)
    app = make_app(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        model_dir,
        tmp_path / "cache",
        BUILD_STEP="tests.integration.test_compare_page:synthetic_step",
    )
    models = app.server.extensions["mmm_dash"].models
    for name in ("acme@2025-03", "acme@2025-06", "solo"):
        assert models.build(name).bundle is not None
    create_user(app)
    return app


def _render(app, **query) -> str:
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user

    with app.server.test_request_context("/"):
        login_user(find_user("analyst@example.com"))
        page = next(p for p in dash.page_registry.values() if p["path"] == "/compare")
        return json.dumps(page["layout"](**query), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_a_refresh_is_compared_with_the_previous_version_over_the_shared_weeks(app):
    page = _render(app, model="acme")
    assert "Unknown period" not in page and "view-notice" not in page
    # 2025-06 runs 2023-03-06 .. 2025-07-07, 2025-03 runs 2023-01-02 .. 2025-03-24: they share 108 weeks.
    assert (
        "A is the previous version, 2025-03, over the 108 weeks both versions cover (2023-03-06 – 2025-03-24)" in page
    )
    assert "acme · 2025-03 · 2023-03-06 – 2025-03-24 (108 weeks) · all geos" in page  # A's label
    assert "acme · 2025-06 · 2023-03-06 – 2025-03-24 (108 weeks) · all geos" in page  # B, narrowed to match
    assert "compare-caveats" not in page  # same model, same weeks, same geos: nothing to flag
    assert "compare-model-changes" in page and "2023-01-02 – 2025-03-24 (117 weeks)" in page


def test_the_baseline_keeps_this_views_geo(app):
    page = _render(app, model="acme", geo="North")
    assert "acme · 2025-03 · 2023-03-06 – 2025-03-24 (108 weeks) · North" in page
    assert "compare-caveats" not in page


def test_a_model_with_one_version_compares_with_the_same_weeks_a_year_earlier(app):
    page = _render(app, model="solo")
    assert "A is the same 52 weeks a year earlier (2024-01-01 – 2024-12-23) of the same model and version" in page
    assert "solo · Last 52 weeks (2024-12-30 – 2025-12-22) · all geos" in page  # B
    assert "solo · 2024-01-01 – 2024-12-23 (52 weeks) · all geos" in page  # A
    assert "Paired draws" in page and "compare-caveats" not in page
    assert "the model itself did not change" in page


def test_another_model_only_when_picked_and_then_labelled(app):
    page = _render(app, model="solo", period="2024", base_model="acme", base_period="2024")
    assert "compare-caveats" in page
    assert "Across models: A reads model acme and B model solo, as picked in the baseline" in page
    assert "Unequal windows" not in page


def test_unequal_windows_are_flagged_on_the_page(app):
    page = _render(app, model="solo", period="2024", base_period="2023-01-02..2023-12-18")
    assert "Unequal windows: A covers 51 weeks" in page and "B 53 weeks" in page


def test_switching_this_views_model_drops_the_old_models_baseline(app):
    client = app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    search = "?model=acme&period=2024&base_model=acme&base_version=2025-03&base_period=2024"
    values = {
        "model-select": "solo",
        "version-select": "2025-06",
        "period-select": "2024",
        "geo-select": "__all__",
        "url": search,
        "controls-rendered": {"model-select": "acme"},
    }
    response = post_callback(client, callback_body(app, "_controls_to_url", values, ["model-select.value"]))
    assert response.status_code == 200
    assert response.json["response"]["url"]["search"] == "?model=solo&period=2024"  # no base_* left behind
    same_model = {**values, "model-select": "acme", "period-select": "2023", "controls-rendered": {}}
    kept = post_callback(client, callback_body(app, "_controls_to_url", same_model, ["period-select.value"])).json[
        "response"
    ]["url"]["search"]
    assert "base_version=2025-03" in kept and "period=2023" in kept  # within one model the baseline stays


def test_choosing_the_baseline_by_hand_keeps_b_on_the_weeks_it_showed(app):
    client = app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    rendered = {
        "base-model": "solo",
        "base-version": None,
        "base-period": "2024-01-01..2024-12-23",
        "base-geo": "__all__",
        "view-period": "last52",
        "view-window": "2024-12-30..2025-12-22",
    }
    values = {**rendered, "base-period": "2023", "url": "?model=solo&period=all", "base-rendered": rendered}
    search = post_callback(client, callback_body(app, "baseline_to_url", values, ["base-period.value"])).json[
        "response"
    ]["url"]["search"]
    assert search == "?model=solo&period=last52&base_model=solo&base_period=2023"
    # another model, picked by hand: the same weeks as B where it has them, and B's geo
    values = {**rendered, "base-model": "acme", "url": "?model=solo&geo=North", "base-rendered": rendered}
    search = post_callback(client, callback_body(app, "baseline_to_url", values, ["base-model.value"])).json[
        "response"
    ]["url"]["search"]
    assert (
        search
        == "?model=solo&period=last52&geo=North&base_model=acme&base_period=2024-12-30..2025-12-22&base_geo=North"
    )


def test_the_download_without_a_baseline_is_the_pages_like_for_like_default(app):
    client = app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    doc = client.get("/compare/download.json?model=acme&geo=North").get_json()
    assert (doc["a"]["version"], doc["b"]["version"]) == ("2025-03", "2025-06")
    assert doc["a"]["period"]["start"] == doc["b"]["period"]["start"] == "2023-03-06"
    assert doc["a"]["period"]["end"] == doc["b"]["period"]["end"] == "2025-03-24"
    assert doc["a"]["geo"] == doc["b"]["geo"] == "North" and doc["caveats"] == []
    solo = client.get("/compare/download.json?model=solo&period=2025").get_json()
    assert (solo["a"]["period"]["start"], solo["b"]["period"]["start"]) == ("2024-01-08", "2025-01-06")
    assert solo["draws"] == "paired" and solo["caveats"] == []
