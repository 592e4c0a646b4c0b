"""Every route needs a signed-in user except the allow-list; checked by walking the url_map, so a
route added later cannot slip through."""

from __future__ import annotations

import re

import pytest

from mmm_dash.web.guard import PUBLIC_ENDPOINTS

PAGE_ENDPOINTS = {"/", "/<path:path>"}


SAMPLE_VALUES = {"int": "1", "float": "1.5", "path": "some/page"}


def _concrete(rule) -> str:
    """A URL that matches `rule` itself (not a catch-all), e.g. /scenarios/1.x for <int:id>.<ext>."""
    url = re.sub(
        r"<(?:([^:>(]+)(?:\([^)]*\))?:)?([^>]+)>", lambda m: SAMPLE_VALUES.get(m.group(1) or "", "x"), rule.rule
    )
    adapter = rule.map.bind("localhost")
    assert adapter.match(url, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])[0] == rule.endpoint, url
    return url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_non_public_route_refuses_anonymous_requests(app):
    client = app.server.test_client()
    checked = 0
    for rule in app.server.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            checked += 1
            if rule.endpoint in PAGE_ENDPOINTS and method == "GET":
                assert response.status_code == 302, url
                assert response.headers["Location"].startswith("/login?next="), url
            else:
                assert response.status_code == 401, f"{method} {url} -> {response.status_code}"
    assert checked >= 10


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dash_endpoints_and_exports_are_401(client):
    for url in ("/_dash-layout", "/_dash-dependencies", "/export/insights.json", "/export/report.html"):
        assert client.get(url).status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_redirect_to_login_with_next(client):
    response = client.get("/roi?model=demo_mmm&period=2024")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/roi%3Fmodel%3Ddemo_mmm%26period%3D2024"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_public_endpoints_answer_anonymously(client):
    assert client.get("/login").status_code == 200
    assert client.get("/register").status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/assets/app.css").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readyz_reports_database_and_models_without_secrets(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["models"]["ready"] == 1
    assert "test-secret" not in body and "sqlite" not in body


def test_readyz_fails_when_database_unreachable(demo_model_dir, demo_cache_dir, tmp_path):
    from mmm_dash.web import create_app

    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "x" * 32,
            "MODEL_DIR": str(demo_model_dir),
            "CACHE_DIR": str(demo_cache_dir),
        }
    )
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unreachable"


def test_unexpected_errors_are_one_sentence_not_a_traceback(tmp_path, demo_model_dir, demo_cache_dir):
    from tests.helpers import create_user, login, make_app

    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_model_dir, demo_cache_dir)

    @app.server.route("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    client = app.server.test_client()
    login(client, *create_user(app))
    response = client.get("/boom-test", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
