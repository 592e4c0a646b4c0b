"""The audit trail: an event for each kind of action, never a password, filters and pages on the admin
page, the CSV parsed back, and a recorder that neither raises nor takes part in the request's
transaction."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re

import pytest
from click.testing import CliRunner

from tests.helpers import SECRET, create_user, csrf_token, login, post_callback, save_scenario_body

PASSWORDS = {
    "admin": "Admin-Own-Pass-1111",
    "analyst": "Analyst-Own-Pass-2222",
    "viewer": "Viewer-Own-Pass-3333",
    "registered": "Registered-Pass-4444",
    "wrong": "Wrong-Guess-Pass-5555",
    "admin_set": "Admin-Set-Pass-6666",
    "changed": "Changed-Own-Pass-7777",
    "cli": "Cli-Set-Pass-8888",
}


def _rows(app, **where) -> list[dict]:
    from sqlalchemy import select

    from mmm_dash.web.audit import CSV_COLUMNS, AuditEvent
    from mmm_dash.web.extensions import db

    with app.server.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return [{c: getattr(e, c) for c in CSV_COLUMNS} for e in db.session.scalars(query)]


def _signed_in(app, email, password):
    client = app.server.test_client()
    assert login(client, email, password).status_code == 302
    return client


def test_each_kind_of_event_is_recorded_and_no_password_ever_is(app, demo_bundle, database_url, tmp_path, monkeypatch):
    create_user(app, "admin@example.com", PASSWORDS["admin"], role="admin")
    create_user(app, "analyst@example.com", PASSWORDS["analyst"], role="analyst")
    create_user(app, "viewer@example.com", PASSWORDS["viewer"], role="viewer")
    anonymous = app.server.test_client()

    # registration (new, then taken), a failed and a successful sign-in
    form = {"email": "new@example.com", "password": PASSWORDS["registered"], "confirm": PASSWORDS["registered"]}
    for _ in range(2):
        anonymous.post("/register", data={**form, "csrf_token": csrf_token(anonymous, "/register")})
    assert login(anonymous, "Analyst@Example.COM", PASSWORDS["wrong"]).status_code == 401
    analyst = _signed_in(app, "analyst@example.com", PASSWORDS["analyst"])

    # downloads, a saved and a deleted scenario
    assert analyst.get("/export/metrics.csv?model=demo_mmm&period=all").status_code == 200
    saved = post_callback(analyst, save_scenario_body(app, demo_bundle, name="Q3 plan"))
    scenario_id = saved.json["response"]["sc-saved"]["value"]
    assert analyst.get(f"/scenarios/{scenario_id}.csv").status_code == 200
    deleted = post_callback(analyst, save_scenario_body(app, demo_bundle, delete=True, selected=scenario_id))
    assert "Deleted" in str(deleted.json["response"]["sc-saved-msg"]["children"])

    # a viewer refused, an admin's account changes, a password change, sign-out, and the CLI
    viewer = _signed_in(app, "viewer@example.com", PASSWORDS["viewer"])
    assert post_callback(viewer, save_scenario_body(app, demo_bundle)).status_code == 403
    admin = _signed_in(app, "admin@example.com", PASSWORDS["admin"])
    token = csrf_token(admin, "/admin/accounts")
    admin.post(
        "/admin/accounts/new",
        data={"csrf_token": token, "email": "set@example.com", "role": "viewer", "password": PASSWORDS["admin_set"]},
    )
    created = admin.post(
        "/admin/accounts/new", data={"csrf_token": token, "email": "otp@example.com", "role": "viewer"}
    )
    one_time = re.search(r'id="one-time-password-value">([^<]+)<', created.text).group(1)
    viewer_id = _rows(app, action="sign-in", user_email="viewer@example.com")[0]["user_id"]
    admin.post(f"/admin/accounts/{viewer_id}/role", data={"csrf_token": token, "role": "analyst"})
    admin.post(f"/admin/accounts/{viewer_id}/active", data={"csrf_token": token, "active": "0"})
    admin.post(f"/admin/accounts/{viewer_id}/active", data={"csrf_token": token, "active": "1"})
    reset = admin.post(f"/admin/accounts/{viewer_id}/password", data={"csrf_token": token})
    reset_password = re.search(r'id="one-time-password-value">([^<]+)<', reset.text).group(1)
    otp_user = app.server.test_client()
    login(otp_user, "otp@example.com", one_time)
    otp_user.post(
        "/password",
        data={
            "csrf_token": csrf_token(otp_user, "/password"),
            "current": one_time,
            "password": PASSWORDS["changed"],
            "confirm": PASSWORDS["changed"],
        },
    )
    analyst.post("/logout", data={"csrf_token": csrf_token(analyst, "/password")})
    for name, value in {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "MODEL_DIR": str(tmp_path),
        "CACHE_DIR": str(tmp_path / "cache"),
        "ENVIRONMENT": "development",
    }.items():
        monkeypatch.setenv(name, value)
    from mmm_dash.cli import cli

    prompt = f"{PASSWORDS['cli']}\n{PASSWORDS['cli']}\n"
    assert CliRunner().invoke(cli, ["set-password", "set@example.com"], input=prompt).exit_code == 0

    rows = _rows(app)
    seen = {(r["action"], r["outcome"]) for r in rows}
    expected = {
        ("register", "ok"),
        ("register", "failed"),
        ("sign-in", "failed"),
        ("sign-in", "ok"),
        ("download", "ok"),
        ("scenario-save", "ok"),
        ("scenario-delete", "ok"),
        ("permission", "denied"),
        ("account-create", "ok"),
        ("account-role", "ok"),
        ("account-deactivate", "ok"),
        ("account-reactivate", "ok"),
        ("account-password-reset", "ok"),
        ("password-change", "ok"),
        ("sign-out", "ok"),
    }
    assert expected <= seen, expected - seen
    failed_sign_in = next(r for r in rows if r["action"] == "sign-in" and r["outcome"] == "failed")
    assert failed_sign_in["user_email"] == "analyst@example.com" and failed_sign_in["user_id"] is None
    downloads = [r["object"] for r in rows if r["action"] == "download"]
    assert any(o.endswith("-metrics.csv") for o in downloads) and any("Q3_plan.csv" in o for o in downloads)
    cli_rows = [r for r in rows if r["client_address"] == "cli"]
    assert [(r["action"], r["object"]) for r in cli_rows] == [("account-password-reset", "set@example.com")]
    assert all(r["client_address"] == "127.0.0.1" for r in rows if r not in cli_rows)
    assert all(r["at"].year >= 2026 for r in rows)

    everything = repr(rows)
    for secret in [*PASSWORDS.values(), one_time, reset_password, SECRET]:
        assert secret not in everything
    assert "$2b$" not in everything and "csrf" not in everything.lower()


def test_a_throttled_sign_in_is_recorded_as_denied(app):
    email, _ = create_user(app)
    client = app.server.test_client()
    statuses = [login(client, email, f"wrong-password-{i}").status_code for i in range(6)]
    assert statuses[-1] == 429
    outcomes = [r["outcome"] for r in _rows(app, action="sign-in")]
    assert outcomes == ["failed"] * 5 + ["denied"]


# -- reading the trail --------------------------------------------------------------------------
def _seed(app) -> None:
    """130 events: 120 of alice's sign-ins 48 minutes apart from 2026-01-10 12:00 UTC, and ten of bob's
    failed downloads a minute apart from 2026-01-11 12:00."""
    from sqlalchemy import insert

    from mmm_dash.web.audit import AuditEvent
    from mmm_dash.web.extensions import db

    start = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    rows = [
        {
            "at": start + dt.timedelta(minutes=48 * i),
            "user_email": "alice@example.com",
            "action": "sign-in",
            "object": "",
            "client_address": "10.0.0.1",
            "outcome": "ok",
            "detail": "",
        }
        for i in range(120)
    ] + [
        {
            "at": start + dt.timedelta(days=1, minutes=i),
            "user_email": "bob@example.com",
            "action": "download",
            "object": f'=HYPERLINK("x") {i}',
            "client_address": "10.0.0.2",
            "outcome": "failed",
            "detail": "-1+1",
        }
        for i in range(10)
    ]
    with app.server.app_context(), db.engine.begin() as connection:
        connection.execute(insert(AuditEvent.__table__), rows)


@pytest.fixture()
def admin(app):
    create_user(app, "admin@example.com", PASSWORDS["admin"], role="admin")
    client = _signed_in(app, "admin@example.com", PASSWORDS["admin"])
    _seed(app)
    return client


def _count(page) -> str:
    return re.search(r'id="audit-count">([^<]+)<', page.text).group(1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_filters_and_pages(admin):
    everything = admin.get("/admin/audit")
    assert everything.status_code == 200 and _count(everything).startswith("131 events")  # + the admin's sign-in
    assert _count(admin.get("/admin/audit?user=BOB")) == "10 events"
    assert _count(admin.get("/admin/audit?action=download&outcome=failed")) == "10 events"
    assert _count(admin.get("/admin/audit?outcome=ok&user=alice")) == "120 events, page 1 of 3"
    # 2026-01-11 is minutes 720 to 2159 of alice's series (i = 15..44), and all of bob's
    assert _count(admin.get("/admin/audit?from=2026-01-11&to=2026-01-11")) == "40 events"
    assert _count(admin.get("/admin/audit?from=2026-01-14&to=2026-01-14")) == "15 events"  # i = 105..119
    assert _count(admin.get("/admin/audit?to=2026-01-10")) == "15 events"  # i = 0..14
    last = admin.get("/admin/audit?user=alice&page=3")
    assert last.text.count("alice@example.com") == 20
    first = admin.get("/admin/audit?user=alice")
    assert first.text.count("alice@example.com") == 50
    assert "2026-01-14T11:12:00+00:00" in first.text and "2026-01-10T12:00:00" not in first.text  # newest first
    bad = admin.get("/admin/audit?from=yesterday", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "must be a date like" in bad.text
    assert admin.get("/admin/audit?from=2026-01-12&to=2026-01-11").status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_csv_has_the_same_filters_and_parses_back(app, admin):
    response = admin.get("/admin/audit.csv?user=bob&outcome=failed")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="mmm-audit-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 10 and {r["user_email"] for r in rows} == {"bob@example.com"}
    assert list(rows[0]) == [
        "id",
        "at",
        "user_id",
        "user_email",
        "action",
        "object",
        "client_address",
        "outcome",
        "detail",
    ]
    assert rows[0]["at"] == "2026-01-11T12:09:00+00:00" and rows[-1]["at"] == "2026-01-11T12:00:00+00:00"
    assert rows[0]["object"] == '\'=HYPERLINK("x") 9' and rows[0]["detail"] == "'-1+1"  # no formulas run
    everything = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv").get_data(as_text=True))))
    assert len(everything) == 130 + 1 + 2  # the admin's sign-in, and both CSV downloads: they are in the trail too
    assert everything[0]["action"] == "download" and everything[0]["object"].startswith("mmm-audit-")


# -- the recorder ---------------------------------------------------------------------------------
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failing_recorder_never_breaks_the_request(app, monkeypatch, caplog):
    from mmm_dash.web import audit

    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(audit, "insert", broken)
    email, password = create_user(app)
    with caplog.at_level(logging.ERROR, logger="mmm_dash.web.audit"):
        assert login(app.server.test_client(), email, password).status_code == 302
    assert "Could not record the audit event sign-in" in caplog.text


def test_an_event_is_its_own_transaction(app):
    from mmm_dash.web import audit
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.auth.models import User
    from mmm_dash.web.extensions import db

    with app.server.test_request_context("/"):
        db.session.add(User(email="pending@example.com", password_hash="x" * 60, role="viewer"))
        audit.record("test-event", "something", detail="kept")
        db.session.rollback()  # the request's work is undone ...
        assert find_user("pending@example.com") is None
    assert [(r["action"], r["detail"]) for r in _rows(app)] == [("test-event", "kept")]  # ... the event stays
