"""Headers of issue 22: HSTS when served over HTTPS or in production, and `Cache-Control: no-store` on
what is one user's data (callback JSON, the audit trail and the rest of /admin)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import callback_body, create_user, login, make_app, post_callback

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _admin(app):
    client = app.server.test_client()
    assert login(client, *create_user(app, email="admin@example.com", role="admin")).status_code == 302
    return client


def test_callback_json_and_the_audit_trail_are_not_stored(app):
    client = _admin(app)
    audit = client.get("/admin/audit")
    assert audit.status_code == 200 and audit.headers["Cache-Control"] == "no-store"
    body = callback_body(app, "_toggle_nav", {"nav-toggler": 1, "nav-collapse": False}, ["nav-toggler.n_clicks"])
    response = post_callback(client, body)
    assert response.status_code == 200 and json.loads(response.data)["response"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/assets/app.css").headers.get("Cache-Control", "")


def test_hsts_over_https_and_in_production_only(app, database_url, demo_model_dir, demo_cache_dir):
    hsts = "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in app.server.test_client().get("/login").headers
    https = app.server.test_client().get("/login", base_url="https://localhost")
    assert https.headers["Strict-Transport-Security"] == hsts
    production = make_app(
        database_url,
        demo_model_dir,
        demo_cache_dir,
        ENVIRONMENT="production",
        SECRET_KEY="3b8f0c1e9a2d7c4f6e1b0a9d8c7f2e5a",
    )
    assert production.server.test_client().get("/login").headers["Strict-Transport-Security"] == hsts
