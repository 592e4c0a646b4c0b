"""Every route needs a signed-in user except the allow-list, and every route and Dash callback has an
entry in the permission table that the guard enforces; checked by walking the url_map and the
callback map, so a route or callback added later cannot slip through."""

from __future__ import annotations

import re

import pytest

from mmm_dash.web import permissions
from mmm_dash.web.guard import PUBLIC_ENDPOINTS
from tests.helpers import create_user, login, post_callback, save_scenario_body

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


def test_unexpected_errors_are_one_sentence_not_a_traceback(tmp_path, demo_model_dir, demo_cache_dir, monkeypatch):
    from mmm_dash.web import permissions
    from tests.helpers import create_user, login, make_app

    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", demo_model_dir, demo_cache_dir)
    monkeypatch.setitem(permissions.ENDPOINTS, "boom", permissions.Action.READ)

    @app.server.route("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    client = app.server.test_client()
    login(client, *create_user(app))
    response = client.get("/boom-test", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text


# -- the permission table ------------------------------------------------------------------------
def _server_callbacks(app) -> dict[str, str]:
    """callback_map output key -> "module.qualname" of every callback the server answers."""
    app.server.test_client().get("/healthz")  # Dash adds the pages' router callback at the first request
    names = {key: permissions.callback_name(spec) for key, spec in app.callback_map.items()}
    assert any(name and name.endswith("router_sync.<locals>.update") for name in names.values())
    return {key: name for key, name in names.items() if name is not None}  # clientside ones never reach us


def missing_entries(app) -> list[str]:
    """Every endpoint and server-side callback without a permission entry, and every stale entry."""
    endpoints = {rule.endpoint for rule in app.server.url_map.iter_rules()} - PUBLIC_ENDPOINTS
    callbacks = _server_callbacks(app)
    problems = [
        f"endpoint {e}: add it to permissions.ENDPOINTS" for e in sorted(endpoints - permissions.ENDPOINTS.keys())
    ]
    problems += [
        f"callback {name} (output {key[:60]}): add it to permissions.CALLBACKS"
        for key, name in sorted(callbacks.items())
        if name not in permissions.CALLBACKS
    ]
    problems += [f"stale endpoint entry {e}" for e in sorted(permissions.ENDPOINTS.keys() - endpoints)]
    problems += [f"stale callback entry {c}" for c in sorted(permissions.CALLBACKS.keys() - set(callbacks.values()))]
    return problems


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_route_and_callback_has_a_permission_entry(app):
    assert missing_entries(app) == []
    assert set(permissions.ENDPOINTS.values()) | set(permissions.CALLBACKS.values()) <= set(permissions.LEAST_ROLE)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_walk_notices_a_new_route_and_a_new_callback(app):
    from dash import Input, Output

    @app.server.route("/new-route-test")
    def new_route():
        return "new"

    @app.callback(Output("new-test-output", "children"), Input("new-test-input", "value"))
    def new_callback(value):
        return value

    assert missing_entries(app) == [
        "endpoint new_route: add it to permissions.ENDPOINTS",
        "callback tests.integration.test_guard.test_the_walk_notices_a_new_route_and_a_new_callback.<locals>."
        "new_callback (output new-test-output.children): add it to permissions.CALLBACKS",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_route_or_callback_without_an_entry_is_refused(app, monkeypatch):
    @app.server.route("/unlisted-test")
    def unlisted():
        return "should not be served"

    client = app.server.test_client()
    login(client, *create_user(app, role="admin"))
    response = client.get("/unlisted-test")
    assert response.status_code == 403
    assert response.json == {"error": "This address is not in the permission table, so it is refused."}
    page = client.get("/unlisted-test", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "not in the permission table" in page.text and "<html" in page.text

    # An admin may save, but not through a callback that has no entry.
    monkeypatch.delitem(permissions.CALLBACKS, "mmm_dash.web.pages.scenarios.save_or_delete")
    response = post_callback(
        client, save_scenario_body(app, app.server.extensions["mmm_dash"].models.bundle("demo_mmm"))
    )
    assert response.status_code == 403 and "not in the permission table" in response.json["error"]


def _scenario_count(app) -> int:
    from sqlalchemy import func, select

    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    with app.server.app_context():
        return db.session.scalar(select(func.count()).select_from(SavedScenario))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_viewers_save_is_403_and_saves_nothing_an_analysts_works(app, demo_bundle):
    viewer = app.server.test_client()
    login(viewer, *create_user(app, "viewer@example.com", role="viewer"))
    refused = post_callback(viewer, save_scenario_body(app, demo_bundle))
    assert refused.status_code == 403
    assert refused.json == {"error": "Your role does not allow this: it needs the analyst role or higher."}
    assert _scenario_count(app) == 0

    analyst = app.server.test_client()
    login(analyst, *create_user(app, "analyst@example.com", role="analyst"))
    saved = post_callback(analyst, save_scenario_body(app, demo_bundle))
    assert saved.status_code == 200, saved.text[:300]
    assert "Saved" in str(saved.json["response"]["sc-saved-msg"]["children"])
    assert _scenario_count(app) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_save_callback_checks_the_role_itself_too(app, demo_bundle, monkeypatch):
    """Defence in depth: were the table wrong, the callback still refuses a viewer, with the message."""
    monkeypatch.setitem(permissions.CALLBACKS, "mmm_dash.web.pages.scenarios.save_or_delete", permissions.Action.READ)
    viewer = app.server.test_client()
    login(viewer, *create_user(app, "viewer@example.com", role="viewer"))
    for delete in (False, True):
        response = post_callback(viewer, save_scenario_body(app, demo_bundle, delete=delete, selected=1))
        assert response.status_code == 200
        assert "needs the analyst role" in str(response.json["response"]["sc-saved-msg"]["children"])
    assert _scenario_count(app) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_viewers_read_plan_and_download_but_not_admin(app, demo_bundle):
    from tests.helpers import callback_body

    viewer = app.server.test_client()
    login(viewer, *create_user(app, "viewer@example.com", role="viewer"))
    for url in ("/_dash-layout", "/_dash-dependencies", "/export/metrics.csv?model=demo_mmm&period=all"):
        assert viewer.get(url).status_code == 200, url
    hist = demo_bundle.period("all").curves.historical_spend.tolist()
    n = len(hist)
    values = {
        "sc-slider": [100] * n,
        "sc-number": [100] * n,
        "sc-unit": "pct",
        "sc-optimize": 1,
        "sc-reset": None,
        "sc-view": {"model": "demo_mmm", "period": "all"},
        "sc-mode": "fixed",
        "sc-budget": round(sum(hist)),
        "sc-target": 1.0,
        "sc-lower": [70] * n,
        "sc-upper": [130] * n,
        "sc-spend": hist,
    }
    optimized = post_callback(viewer, callback_body(app, "scenarios.update_spend", values, ["sc-optimize.n_clicks"]))
    assert optimized.status_code == 200 and len(optimized.json["response"]["sc-spend"]["data"]) == n
    for url in ("/admin/accounts", "/admin/audit", "/admin/audit.csv"):
        assert viewer.get(url).status_code == 403, url
