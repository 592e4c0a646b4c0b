"""Browser fixtures: the app on SQLite with the cached demo bundle, served by dash[testing].
Helpers that drive the page live in tests/browser/helpers.py."""

from __future__ import annotations

import pytest

from mmm_dash.web.auth import passwords
from tests.helpers import make_app


@pytest.fixture(autouse=True, scope="session")
def password_thread_started_before_any_server():
    """dash[testing]'s ThreadedRunner stops a server by raising SystemExit in every thread started
    after the server: the password-hashing thread, if a request started it, would die with one test's
    server and the next test's sign-in would wait for it forever. Started here, it outlives them all."""
    passwords.check_password("warm-up", passwords.DUMMY_HASH)


@pytest.fixture()
def served(dash_duo, tmp_path, demo_model_dir, demo_cache_dir):
    """(dash_duo, base_url, app) with the app running and no one signed in."""
    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite3'}", demo_model_dir, demo_cache_dir)
    dash_duo.start_server(app, navigate=False)
    return dash_duo, dash_duo.server.url.rstrip("/"), app
