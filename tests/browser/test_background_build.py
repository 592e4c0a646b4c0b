"""A model without a cached bundle: the page requests it, the server's builder builds it in a child
process, and the page shows progress while polling, then fills in by itself."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.helpers import severe_errors, sign_in, wait_for, wait_for_text
from tests.helpers import TEST_CACHE, make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_page_shows_progress_then_fills_in(dash_duo, tmp_path):
    from tests.model.shapes import fitted_model_path

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(fitted_model_path("geo_rf_no_revenue", TEST_CACHE), model_dir / "fresh_model.pkl")
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", model_dir, tmp_path / "cache", BACKGROUND_BUNDLES="1")
    builder = app.server.extensions["mmm_dash"].builder
    try:
        dash_duo.start_server(app, navigate=False)
        base = dash_duo.server.url.rstrip("/")
        driver = sign_in(dash_duo, base, app, "/roi?model=fresh_model&period=all")
        wait_for(driver, "#build-progress")
        wait_for_text(driver, "#building h2", "Analysing fresh_model")
        wait_for(driver, "#roi-chart", timeout=600)  # reloaded by itself once the builder finished
        assert severe_errors(dash_duo) == []
    finally:
        builder.stop()
