"""Shared fixtures: apps on SQLite (always) and PostgreSQL (when configured), the demo bundle built
once per machine and cached on disk, Dash's global state reset around every test, and Chromium
options for dash[testing]. Helpers and constants live in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    DEMO_MODEL,
    TEST_CACHE,
    create_user,
    fresh_postgres_database,
    login,
    make_app,
    reset_dash_globals,
)

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def pytest_setup_options():
    """dash[testing] builds its Chrome driver from these options (Debian's chromium)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return options


def pytest_collection_modifyitems(config, items):
    browser_available = Path("/usr/bin/chromium").exists() and shutil.which("chromedriver")
    if browser_available or os.environ.get("MMM_REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(reason="no Chromium/chromedriver installed (apt-get install chromium chromium-driver)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# -- databases ---------------------------------------------------------------------------------
def _postgres_url() -> str | None:
    return os.environ.get("MMM_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_admin_url():
    url = _postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need MMM_TEST_POSTGRES_URL")
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        if os.environ.get("MMM_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {url} is unreachable and MMM_REQUIRE_POSTGRES=1: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    return url


@pytest.fixture()
def postgres_database(postgres_admin_url):
    """A fresh, empty database on the server, dropped afterwards."""
    with fresh_postgres_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_database")


# -- models and bundles ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory) -> Path:
    """A MODEL_DIR holding only the committed demo model."""
    model_dir = tmp_path_factory.mktemp("models")
    shutil.copy2(DEMO_MODEL, model_dir / DEMO_MODEL.name)
    return model_dir


@pytest.fixture(scope="session")
def demo_cache_dir(demo_model_dir) -> Path:
    """CACHE_DIR with the demo bundle built (once per machine: Meridian runs only on a miss)."""
    from mmm_dash.builder.catalog import ModelCatalog
    from mmm_dash.core.status import BundleStatus

    catalog = ModelCatalog(demo_model_dir, TEST_CACHE / "cache")
    state = catalog.build("demo_mmm")
    assert state.status is BundleStatus.READY, state.message
    return TEST_CACHE / "cache"


@pytest.fixture(scope="session")
def demo_bundle(demo_model_dir, demo_cache_dir):
    from mmm_dash.builder.catalog import ModelCatalog

    return ModelCatalog(demo_model_dir, demo_cache_dir).bundle("demo_mmm")


# -- apps --------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def easy_sign_in_proofs(monkeypatch):
    """In-process apps ask for 8-bit proofs of work (256 hashes), not a browser's second of work, so
    tests that sign in many times stay fast; servers in subprocesses keep the real difficulty."""
    monkeypatch.setattr("mmm_dash.web.auth.throttle.POW_BITS", 8)


@pytest.fixture(autouse=True)
def fresh_dash_globals():
    """Each test starts and ends without page callbacks left behind by another test's app."""
    if "dash" in sys.modules:
        reset_dash_globals()
    yield
    if "dash" in sys.modules:
        reset_dash_globals()


@pytest.fixture()
def app(database_url, demo_model_dir, demo_cache_dir):
    app = make_app(database_url, demo_model_dir, demo_cache_dir)
    yield app
    from mmm_dash.web.extensions import db

    with app.server.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def client(app):
    return app.server.test_client()


@pytest.fixture()
def signed_in(app, client):
    email, password = create_user(app)
    response = login(client, email, password)
    assert response.status_code == 302
    return client
