"""Versions of a model: every page says which one it reads (with its fit date and data range), the
newest is the default, a URL names a version exactly, and exports and Compare follow it."""

from __future__ import annotations

import json
import pickle

import dash
import plotly
import pytest

from tests.fake_build import FAKE_BUNDLE
from tests.helpers import DEMO_MODEL, create_user, login, make_app


@pytest.fixture()
def versioned_app(tmp_path, demo_bundle, monkeypatch):
    source = tmp_path / "source-bundle.pkl"
    source.write_bytes(pickle.dumps(demo_bundle, protocol=pickle.HIGHEST_PROTOCOL))
    monkeypatch.setenv(FAKE_BUNDLE, str(source))
    model_dir = tmp_path / "models"
    (model_dir / "acme").mkdir(parents=True)
    (model_dir / "acme" / "2025-06.pkl").write_bytes(DEMO_MODEL.read_bytes())
    (model_dir / "acme" / "2025-10.pkl").write_bytes(DEMO_MODEL.read_bytes() + b"\0")  # a refit: another file
    app = make_app(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        model_dir,
        tmp_path / "cache",
        BUILD_STEP="tests.fake_build:demo_bundle_step",
    )
    models = app.server.extensions["mmm_dash"].models
    for name in ("acme@2025-06", "acme@2025-10"):
        assert models.build(name).bundle is not None
    create_user(app)
    return app


def _render(app, path: str, **query) -> str:
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user

    with app.server.test_request_context("/"):
        login_user(find_user("analyst@example.com"))
        page = next(p for p in dash.page_registry.values() if p["path"] == path)
        return json.dumps(page["layout"](**query), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_the_newest_version_is_the_default_and_every_page_names_it(versioned_app):
    models = versioned_app.server.extensions["mmm_dash"].models
    assert models.models() == ["acme"]
    assert [e.version for e in models.versions("acme")] == ["2025-10", "2025-06"]
    for path in ("/", "/roi", "/diagnostics", "/scenarios"):
        page = _render(versioned_app, path, model="acme")
        assert "Version 2025-10 (the newest of 2)" in page, path
        assert "data 2023-01-02 – 2025-12-22" in page and "fitted " in page


def test_a_url_names_a_version_exactly(versioned_app):
    page = _render(versioned_app, "/", model="acme", version="2025-06")
    assert "Version 2025-06 (2 of 2, newest: 2025-10)" in page
    assert "view-notice" not in page


def test_an_unknown_version_falls_back_to_the_newest_with_a_notice(versioned_app):
    page = _render(versioned_app, "/", model="acme", version="1999-01")
    assert "acme has no version '1999-01'; showing the newest, 2025-10." in page
    assert "Version 2025-10" in page


def test_exports_follow_the_version(versioned_app):
    client = versioned_app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    response = client.get("/export/metrics.json?model=acme&version=2025-06&period=2024")
    assert response.status_code == 200
    assert "acme-2025-06-2024" in response.headers["Content-Disposition"]
    doc = response.get_json()
    assert doc["model"]["version"] == "2025-06" and doc["period"]["key"] == "2024"
    assert client.get("/export/metrics.json?model=acme&version=nope").status_code == 404


def test_compare_defaults_to_the_previous_version_on_independent_draws(versioned_app):
    page = _render(versioned_app, "/compare", model="acme")
    assert "Independent draws" in page  # two files: two posteriors
    assert "acme · 2025-06" in page and "acme · 2025-10" in page
    client = versioned_app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    doc = client.get("/compare/download.json?model=acme&base_model=acme&base_version=2025-06").get_json()
    assert doc["draws"] == "independent" and doc["a"]["version"] == "2025-06" and doc["b"]["version"] == "2025-10"
    assert {r["channel"] for r in doc["rows"]} >= set(
        versioned_app.server.extensions["mmm_dash"].models.bundle("acme@2025-10").info.paid_channels
    )


def test_a_page_lists_model_dir_once_and_the_next_request_sees_a_new_version(versioned_app, monkeypatch):
    from mmm_dash.builder.discovery import ModelFiles
    from mmm_dash.cli.page_bench import router_body

    listings = []
    original = ModelFiles._list
    monkeypatch.setattr(ModelFiles, "_list", lambda self: listings.append(1) or original(self))
    client = versioned_app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")

    def versions_offered() -> str:
        listings.clear()
        response = client.post("/_dash-update-component", json=router_body("/", "?model=acme"))
        assert response.status_code == 200
        assert len(listings) == 1  # one listing for the whole page, however often the page asks
        return response.get_data(as_text=True)

    assert "2026-01" not in versions_offered()
    model_dir = versioned_app.server.extensions["mmm_dash"].models.model_dir
    (model_dir / "acme" / "2026-01.pkl").write_bytes(DEMO_MODEL.read_bytes() + b"\0\0")
    assert "2026-01" in versions_offered()  # the next request lists afresh
