"""Docker does not run on the build machines, so the container files are checked statically."""

from __future__ import annotations

import re

import yaml

from tests.helpers import ROOT


def test_dockerfile_runs_gunicorn_as_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER app$", text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "gunicorn app:server" in text
    for needed in ("app.py", "mmm_dash", "data/models"):
        assert f"COPY {needed}" in text
    # installed as a regular (non-editable) package: pages and assets come from package data
    assert "pip install --no-deps ." in text and "rm -rf mmm_dash" in text


def test_compose_has_postgres_with_volume_and_healthcheck_app_waiting_and_adminer():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "app", "adminer"} <= set(services)
    db = services["db"]
    assert db["image"].startswith("postgres:") and "healthcheck" in db
    assert any(v.split(":")[0] in compose["volumes"] for v in db["volumes"])
    app = services["app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "SECRET_KEY" in app["environment"] and app["environment"]["ENVIRONMENT"] == "production"


def test_compose_has_no_default_database_password_and_adminer_only_on_request():
    text = (ROOT / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]
    # ${VAR:?message} makes compose refuse to start without it; ${VAR:-default} would publish a default.
    assert re.search(r"POSTGRES_PASSWORD: \$\{POSTGRES_PASSWORD:\?", text)
    assert "POSTGRES_PASSWORD:-" not in text and "mmm-dev-password" not in text
    assert "${POSTGRES_PASSWORD:?" in services["app"]["environment"]["DATABASE_URL"]
    adminer = services["adminer"]
    assert adminer.get("profiles"), "Adminer must not start with a plain `docker compose up`"
    assert all(str(p).startswith("127.0.0.1:") for p in adminer.get("ports", []))


def test_compose_shares_sign_in_counters_between_workers():
    app = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["app"]
    assert app["environment"]["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"


def test_ci_script_installs_browser_and_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert "chromium chromium-driver" in text and "MMM_REQUIRE_POSTGRES=1" in text
    assert text.rstrip().endswith("make test")
