"""What a page shows for a bad model, a model still being analysed, and no model at all."""

from __future__ import annotations

import json
import shutil
import uuid

import dash
import plotly
import pytest

from mmm_dash.core.status import BundleStatus
from tests.helpers import DEMO_MODEL, create_user, login, make_app


def _render(app, path: str, **query) -> str:
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user

    with app.server.test_request_context("/"):
        login_user(find_user("analyst@example.com"))
        page = next(p for p in dash.page_registry.values() if p["path"] == path)
        return json.dumps(page["layout"](**query), cls=plotly.utils.PlotlyJSONEncoder)


@pytest.fixture()
def mixed_app(tmp_path, demo_cache_dir):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(DEMO_MODEL, model_dir / DEMO_MODEL.name)
    (model_dir / "broken.pkl").write_bytes(DEMO_MODEL.read_bytes()[:1000])
    (model_dir / "pending.pkl").write_bytes(DEMO_MODEL.read_bytes() + b"\0")  # a new file: no bundle yet
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", model_dir, demo_cache_dir)
    create_user(app)
    app.server.extensions["mmm_dash"].models.build("broken")
    return app


def test_bad_model_shows_its_reason_and_others_keep_working(mixed_app):
    page = _render(mixed_app, "/roi", model="broken")
    assert "model-error" in page and "truncated" in page
    assert "roi-chart" in _render(mixed_app, "/roi", model="demo_mmm")


def test_model_being_built_shows_progress_and_is_requested(mixed_app):
    models = mixed_app.server.extensions["mmm_dash"].models
    page = _render(mixed_app, "/", model="pending")
    assert "build-progress" in page and "build-poll" in page and "Analysing pending" in page
    assert models.state("pending").status is BundleStatus.QUEUED  # the page asked; the builder builds
    assert models.state("broken").status is BundleStatus.FAILED


def test_unknown_model_falls_back_with_a_notice(mixed_app):
    page = _render(mixed_app, "/", model="nope", period="2024")
    assert "There is no model named" in page and "card-roi" in page


def test_no_models_page_says_how_to_add_one(tmp_path, demo_cache_dir):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "empty", demo_cache_dir)
    create_user(app)
    page = _render(app, "/")
    assert "no-models" in page and "python -m mmm_dash demo-model" in page


def test_exports_of_a_model_still_building_are_503_and_start_its_analysis(mixed_app):
    client = mixed_app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    models = mixed_app.server.extensions["mmm_dash"].models
    # Content of its own: CACHE_DIR is shared by the session, so a file seen before could be requested already.
    (models.model_dir / "fresh.pkl").write_bytes(DEMO_MODEL.read_bytes() + uuid.uuid4().bytes)
    assert models.state("fresh").status is BundleStatus.MISSING
    response = client.get("/export/metrics.json?model=fresh")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "being analysed" in response.get_json()["error"]
    assert models.state("fresh").status is BundleStatus.QUEUED  # the download asked for the analysis
    models.book.forget(models.key(models.entry("fresh")))
    assert client.get("/export/metrics.json?model=broken").status_code == 422
