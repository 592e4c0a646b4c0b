"""The load benchmark in small: `python -m mmm_dash loadtest` starts two gunicorn replicas on free
loopback ports, signs four simulated analysts in (each from its own X-Forwarded-For address) and
runs them for a few seconds; each first takes every page, page action and download once (`--tour`).
Every request must succeed and every request kind must appear. Timings are the benchmark's business,
not this test's: the p99 goal is lifted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.helpers import ROOT, SECRET, make_app

REDIS_URL = os.environ.get("MMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _redis_db14() -> str | None:
    """Redis database 14 (this test's) when a server answers, else None (counters stay per process)."""
    try:
        import redis

        url = urlsplit(REDIS_URL)._replace(path="/14").geturl()
        return url if redis.Redis.from_url(url, socket_connect_timeout=1).ping() else None
    except Exception:
        if os.environ.get("MMM_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and MMM_REQUIRE_REDIS=1")
        return None


@pytest.fixture()
def migrated_database(request, tmp_path, demo_model_dir, demo_cache_dir):
    """PostgreSQL (a fresh database) when MMM_TEST_POSTGRES_URL is set, else SQLite; migrated."""
    url = (
        request.getfixturevalue("postgres_database")
        if os.environ.get("MMM_TEST_POSTGRES_URL")
        else f"sqlite:///{tmp_path / 'load.sqlite3'}"
    )
    app = make_app(url, demo_model_dir, demo_cache_dir)
    from mmm_dash.web.extensions import db

    with app.server.app_context():
        db.engine.dispose()  # the replicas and the command open their own connections
    return url


def test_a_short_run_against_two_started_replicas(migrated_database, demo_model_dir, demo_cache_dir, tmp_path):
    out = tmp_path / "load.json"
    env = {
        **os.environ,
        "DATABASE_URL": migrated_database,
        "SECRET_KEY": SECRET,
        "MODEL_DIR": str(demo_model_dir),
        "CACHE_DIR": str(demo_cache_dir),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": _redis_db14() or "memory://",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    command = [sys.executable, "-m", "mmm_dash", "loadtest", "--users", "4", "--spawn-rate", "4", "--seconds", "8"]
    command += ["--min-wait", "0.1", "--max-wait", "0.4", "--tour", "--p99-ms", "60000", "--json-out", str(out)]
    command += ["--workers", "1", "--threads", "4", "--keep", str(tmp_path / "run")]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    figures = json.loads(out.read_text())
    kinds = {row["kind"]: row for row in figures["kinds"]}
    assert figures["total"]["failures"] == 0 and not figures["failures"] and not figures["errors"], figures["failures"]
    assert figures["total"]["requests"] == sum(row["requests"] for row in kinds.values())

    from mmm_dash.core.exports.files import EXPORT_FILES
    from mmm_dash.loadtest.browser import ACTIONS

    expected = {"login:form", "login", "app:index", "app:layout", "app:dependencies"}
    expected |= {f"page:{path}" for path in figures["config"]["pages"]}
    expected |= {a.name for a in ACTIONS} | {"scenario:results", "callback:nav-links", "callback:url-search"}
    expected |= {f"export:{f.filename}" for f in EXPORT_FILES}
    assert expected <= set(kinds), f"missing request kinds: {sorted(expected - set(kinds))}"
    from mmm_dash.web.dashboard.shell import nav_pages

    # every navbar page was visited (Compare plans is reached from Scenarios, whose actions the run uses)
    assert sorted(figures["config"]["pages"]) == sorted(path for _name, path in nav_pages())
    assert figures["config"]["models"] == ["demo_mmm"]
    assert kinds["login"]["requests"] == 4  # one account per user, each signed in once

    # the temporary accounts are gone, and both replicas were stopped with their process groups
    import sqlalchemy as sa

    engine = sa.create_engine(migrated_database)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from users where email like 'loadtest-%'")).scalar() == 0
    engine.dispose()
    for log in (tmp_path / "run").glob("replica-*.log"):
        assert "Shutting down: Master" in log.read_text(), log.read_text()[-2000:]
