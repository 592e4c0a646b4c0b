"""Apps built one after another in one process each serve every page's callbacks: the factory keeps
no clean-up for tests' sake, and the tests' own reset of Dash's global state is enough."""

from __future__ import annotations

import re

from tests.helpers import ROOT, create_user, login, make_app


def _callback_outputs(app) -> list[str]:
    client = app.server.test_client()
    login(client, *create_user(app))
    response = client.get("/_dash-dependencies")
    assert response.status_code == 200
    return sorted(dependency["output"] for dependency in response.json)


def test_two_apps_in_one_process_both_serve_their_pages_callbacks(tmp_path):
    (tmp_path / "models").mkdir()
    first = make_app(f"sqlite:///{tmp_path / 'first.sqlite3'}", tmp_path / "models", tmp_path / "cache")
    second = make_app(f"sqlite:///{tmp_path / 'second.sqlite3'}", tmp_path / "models", tmp_path / "cache")
    # Used in the opposite order of building: the second app must not have lost its callbacks to the first.
    second_outputs = _callback_outputs(second)
    first_outputs = _callback_outputs(first)
    assert first_outputs == second_outputs
    page_ids = {
        match
        for page in (ROOT / "mmm_dash" / "web" / "pages").glob("*.py")
        for match in re.findall(r'id="([\w-]+)"', page.read_text())
    }
    outputs_of_pages = [o for o in second_outputs if page_ids & set(re.findall(r"[\w-]+", o))]
    assert outputs_of_pages, "the page modules' own callbacks are missing"
