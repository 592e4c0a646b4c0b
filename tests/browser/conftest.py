"""Browser fixtures: the app on SQLite with the cached demo bundle, served by dash[testing].
Helpers that drive the page live in tests/browser/helpers.py."""

from __future__ import annotations

import pytest

from tests.helpers import make_app


@pytest.fixture()
def served(dash_duo, tmp_path, demo_model_dir, demo_cache_dir):
    """(dash_duo, base_url, app) with the app running and no one signed in."""
    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite3'}", demo_model_dir, demo_cache_dir)
    dash_duo.start_server(app, navigate=False)
    return dash_duo, dash_duo.server.url.rstrip("/"), app
