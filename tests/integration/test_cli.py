"""The operator commands, against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mmm_dash.cli import cli
from tests.helpers import SECRET


@pytest.fixture()
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ENVIRONMENT", "development")
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_init_seed_check_cycle(run):
    assert run("init-db").exit_code == 0
    first = run("seed-users")
    assert first.exit_code == 0 and first.output.count("created") == 3
    again = run("seed-users")
    assert again.exit_code == 0 and again.output.count("exists") == 3
    check = run("check-db")
    assert check.exit_code == 0
    assert "users: 3" in check.output and "server version:" in check.output


def test_seeded_users_have_their_roles_and_passwords(run, database_url, tmp_path):
    run("init-db")
    run("seed-users")
    from mmm_dash.web.app_factory import create_server
    from mmm_dash.web.auth import accounts

    server = create_server()
    with server.app_context():
        assert accounts.authenticate("test@example.com", "test123").role == "analyst"
        assert accounts.authenticate("admin@example.com", "admin123").role == "admin"
        assert accounts.authenticate("demo@example.com", "demo123").role == "viewer"


def test_seed_users_refused_in_production(run, monkeypatch):
    run("init-db")
    monkeypatch.setenv("ENVIRONMENT", "production")
    result = run("seed-users")
    assert result.exit_code == 1
    assert "refused in production" in result.output


def test_create_user_prompts_for_password(run):
    run("init-db")
    result = run("create-user", "Ops@Example.com", "--role", "admin", input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0 and "created ops@example.com (admin)" in result.output
    dup = run("create-user", "ops@example.com", input="s3cret-pass\ns3cret-pass\n")
    assert dup.exit_code == 1 and "already exists" in dup.output
    short = run("create-user", "x@example.com", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 8" in short.output


def test_reset_db_asks_first_and_yes_skips(run):
    run("init-db")
    run("seed-users")
    refused = run("reset-db", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert "users: 3" in run("check-db").output
    assert run("reset-db", "--yes").exit_code == 0
    assert "users: 0" in run("check-db").output


def test_check_db_unreachable_is_a_clear_nonzero_exit(run, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = run("check-db")
    assert result.exit_code == 1
    assert "unreachable" in result.output and "Traceback" not in result.output


def test_check_db_without_schema_says_run_init_db(run):
    result = run("check-db")
    assert result.exit_code == 1 and "init-db" in result.output


def test_production_without_secret_refuses_in_one_line(run, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY")
    result = run("check-db")
    assert result.exit_code != 0
    assert "SECRET_KEY" in result.output and len(result.output.strip().splitlines()) == 1
