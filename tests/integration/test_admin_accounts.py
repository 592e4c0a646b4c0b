"""The admin accounts area and its CLI twins, on SQLite and PostgreSQL: every operation, the
last-admin rule (web, CLI, and two admins at once), sessions ending on each change, CSRF, and
non-admins refused."""

from __future__ import annotations

import re
import threading

import pytest
from click.testing import CliRunner

from tests.helpers import SECRET, create_user, csrf_token, login

ADMIN = ("admin@example.com", "admin-pass-1234")


def _user(app, email):
    from mmm_dash.web.auth.accounts import find_user

    with app.server.app_context():
        user = find_user(email)
        return (
            None
            if user is None
            else {c: getattr(user, c) for c in ("id", "role", "active", "password_change_required")}
        )


def _events(app, action=None):
    from sqlalchemy import select

    from mmm_dash.web.audit import AuditEvent
    from mmm_dash.web.extensions import db

    with app.server.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [
            {c: getattr(e, c) for c in ("user_email", "action", "object", "outcome", "detail", "client_address")}
            for e in db.session.scalars(query)
        ]


@pytest.fixture()
def admin(app):
    """A signed-in admin's client."""
    client = app.server.test_client()
    create_user(app, *ADMIN, role="admin")
    assert login(client, *ADMIN).status_code == 302
    return client


def _post(client, path, **data):
    token = csrf_token(client, "/admin/accounts")
    return client.post(path, data={"csrf_token": token, **data})


def _one_time_password(response) -> str:
    return re.search(r'id="one-time-password-value">([^<]+)<', response.text).group(1)


def test_the_list_shows_every_account(app, admin):
    create_user(app, "viewer@example.com", "viewer-pass-1234", role="viewer")
    page = admin.get("/admin/accounts")
    assert page.status_code == 200
    assert "viewer@example.com" in page.text and ADMIN[0] in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_create_with_a_password_the_admin_sets(app, admin):
    response = _post(admin, "/admin/accounts/new", email="New@Example.com", role="viewer", password="a-long-passphrase")
    assert response.status_code == 302
    created = _user(app, "new@example.com")
    assert created["role"] == "viewer" and created["password_change_required"] is False
    assert login(app.server.test_client(), "new@example.com", "a-long-passphrase").headers["Location"] == "/"
    assert _events(app, "account-create")[-1]["object"] == "new@example.com"


def test_create_with_a_one_time_password_shown_once_then_replaced(app, admin):
    response = _post(admin, "/admin/accounts/new", email="otp@example.com", role="analyst", password="")
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    one_time = _one_time_password(response)
    assert one_time not in admin.get("/admin/accounts").text  # shown once
    user = app.server.test_client()
    signed_in = login(user, "otp@example.com", one_time, next_path="/roi")
    assert signed_in.headers["Location"] == "/password?next=/roi"
    # Until the password is replaced, pages lead to the form and everything else is refused.
    assert user.get("/").headers["Location"] == "/password"
    assert user.get("/export/metrics.csv").status_code == 403
    token = csrf_token(user, "/password")
    same = user.post(
        "/password",
        data={"csrf_token": token, "current": one_time, "password": one_time, "confirm": one_time, "next": "/roi"},
    )
    assert same.status_code == 400 and "different" in same.text
    changed = user.post(
        "/password",
        data={
            "csrf_token": token,
            "current": one_time,
            "password": "my-own-passphrase",
            "confirm": "my-own-passphrase",
            "next": "/roi",
        },
    )
    assert changed.status_code == 302 and changed.headers["Location"] == "/roi"
    assert user.get("/_dash-layout").status_code == 200  # still signed in, in this browser
    assert _user(app, "otp@example.com")["password_change_required"] is False
    assert login(app.server.test_client(), "otp@example.com", one_time).status_code == 401
    assert login(app.server.test_client(), "otp@example.com", "my-own-passphrase").status_code == 302


def test_change_role_ends_the_users_sessions(app, admin):
    email, password = create_user(app, "analyst@example.com", "analyst-pass-1234", role="analyst")
    user = app.server.test_client()
    login(user, email, password)
    assert user.get("/_dash-layout").status_code == 200
    response = _post(admin, f"/admin/accounts/{_user(app, email)['id']}/role", role="viewer")
    assert response.status_code == 302
    assert "is now viewer" in admin.get("/admin/accounts").text
    assert _user(app, email)["role"] == "viewer"
    assert user.get("/_dash-layout").status_code == 401  # the old cookie no longer works
    event = _events(app, "account-role")[-1]
    assert event["detail"] == "analyst -> viewer" and event["user_email"] == ADMIN[0] and event["object"] == email


def test_deactivate_then_reactivate(app, admin):
    email, password = create_user(app, "analyst@example.com", "analyst-pass-1234")
    user = app.server.test_client()
    login(user, email, password)
    user_id = _user(app, email)["id"]
    assert _post(admin, f"/admin/accounts/{user_id}/active", active="0").status_code == 302
    assert user.get("/_dash-layout").status_code == 401
    assert login(app.server.test_client(), email, password).status_code == 401
    assert _post(admin, f"/admin/accounts/{user_id}/active", active="1").status_code == 302
    assert login(app.server.test_client(), email, password).status_code == 302
    assert [e["action"] for e in _events(app) if e["object"] == email] == ["account-deactivate", "account-reactivate"]


def test_reset_password_shows_a_one_time_password_and_ends_sessions(app, admin):
    email, password = create_user(app, "analyst@example.com", "analyst-pass-1234")
    user = app.server.test_client()
    login(user, email, password)
    response = _post(admin, f"/admin/accounts/{_user(app, email)['id']}/password")
    assert response.status_code == 200
    one_time = _one_time_password(response)
    assert user.get("/_dash-layout").status_code == 401
    assert login(app.server.test_client(), email, password).status_code == 401
    assert login(app.server.test_client(), email, one_time).headers["Location"].startswith("/password")
    assert _user(app, email)["password_change_required"] is True


def test_an_admin_clears_an_accounts_sign_in_counters_and_it_is_audited(app, admin):
    from mmm_dash.web.auth import throttle

    email, password = create_user(app, "analyst@example.com", "analyst-pass-1234")
    user = app.server.test_client()  # the owner, mistyping from their usual address until locked out
    statuses = [login(user, email, "mistyped-password").status_code for _ in range(throttle.PER_PAIR[0] + 1)]
    assert statuses == [401] * throttle.PER_PAIR[0] + [429]
    assert user.post("/login/challenge", data={"email": email}).json["bits"] == throttle.POW_BITS
    response = _post(admin, f"/admin/accounts/{_user(app, email)['id']}/sign-in-counters")
    assert response.status_code == 302
    assert "failed sign-ins are forgotten" in admin.get("/admin/accounts").text
    assert user.post("/login/challenge", data={"email": email}).json["bits"] == 0
    assert login(user, email, password).status_code == 302
    (event,) = _events(app, "account-sign-in-counters-clear")
    assert event["user_email"] == ADMIN[0] and event["object"] == email and event["outcome"] == "ok"


def test_the_last_active_admin_is_neither_demoted_nor_deactivated(app, admin):
    me = _user(app, ADMIN[0])["id"]
    demote = _post(admin, f"/admin/accounts/{me}/role", role="analyst")
    assert demote.status_code == 409 and "last active admin" in demote.text
    deactivate = _post(admin, f"/admin/accounts/{me}/active", active="0")
    assert deactivate.status_code == 409
    assert _user(app, ADMIN[0]) == {"id": me, "role": "admin", "active": True, "password_change_required": False}
    assert {e["outcome"] for e in _events(app) if e["object"] == ADMIN[0] and e["action"] != "sign-in"} == {"denied"}
    # With a second active admin, one may go; then the other is the last.
    other, _ = create_user(app, "second@example.com", "second-pass-1234", role="admin")
    assert _post(admin, f"/admin/accounts/{_user(app, other)['id']}/role", role="viewer").status_code == 302
    assert _post(admin, f"/admin/accounts/{me}/role", role="viewer").status_code == 409
    # A deactivated admin does not count.
    create_user(app, "third@example.com", "third-pass-1234", role="admin")
    assert (
        _post(admin, f"/admin/accounts/{_user(app, 'third@example.com')['id']}/active", active="0").status_code == 302
    )
    assert _post(admin, f"/admin/accounts/{me}/active", active="0").status_code == 409


def test_two_admins_demoting_each_other_at_once_leave_one(app):
    from mmm_dash.web.auth import accounts

    create_user(app, "a@example.com", "a-pass-123456", role="admin")
    create_user(app, "b@example.com", "b-pass-123456", role="admin")
    barrier, results = threading.Barrier(2), {}

    def demote(email):
        with app.server.app_context():
            barrier.wait(timeout=10)
            try:
                accounts.set_role(email, "analyst")
                results[email] = "ok"
            except accounts.LastAdmin:
                results[email] = "refused"

    threads = [threading.Thread(target=demote, args=(e,)) for e in ("a@example.com", "b@example.com")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == ["ok", "refused"]
    assert sorted(_user(app, e)["role"] for e in ("a@example.com", "b@example.com")) == ["admin", "analyst"]


def test_forms_need_their_csrf_token(app, admin):
    email, _ = create_user(app, "analyst@example.com", "analyst-pass-1234")
    user_id = _user(app, email)["id"]
    for path, data in (
        (f"/admin/accounts/{user_id}/role", {"role": "viewer"}),
        (f"/admin/accounts/{user_id}/active", {"active": "0"}),
        (f"/admin/accounts/{user_id}/password", {}),
        ("/admin/accounts/new", {"email": "x@example.com", "role": "admin", "password": "a-long-passphrase"}),
    ):
        response = admin.post(path, data=data)
        assert response.status_code == 400 and "expired" in response.text, path
    assert _user(app, email) == {"id": user_id, "role": "analyst", "active": True, "password_change_required": False}
    assert _user(app, "x@example.com") is None


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_non_admins_are_refused(app, role):
    email, password = create_user(app, f"{role}@example.com", f"{role}-pass-1234", role=role)
    client = app.server.test_client()
    login(client, email, password)
    token = csrf_token(client, "/password")
    for path in ("/admin/", "/admin/accounts", "/admin/audit", "/admin/audit.csv"):
        response = client.get(path)
        assert response.status_code == 403 and "needs the admin role" in response.json["error"], path
    me = _user(app, email)["id"]
    assert client.post(f"/admin/accounts/{me}/role", data={"csrf_token": token, "role": "admin"}).status_code == 403
    assert _user(app, email)["role"] == role
    denied = [e for e in _events(app, "permission") if e["user_email"] == email]
    assert len(denied) == 5 and {e["outcome"] for e in denied} == {"denied"}
    assert denied[-1]["object"] == "endpoint admin.change_role"
    # and no Admin link in their navbar
    assert "nav-admin" not in client.get("/_dash-layout").text


def test_the_navbar_links_admins_to_the_admin_area(app, admin):
    assert "nav-admin" in admin.get("/_dash-layout").text


# -- the same rules from the command line --------------------------------------------------------
@pytest.fixture()
def cli(app, database_url, tmp_path, monkeypatch):
    from mmm_dash.cli import cli as command

    for name, value in {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "ENVIRONMENT": "development",
        "MODEL_DIR": str(tmp_path / "models"),
        "CACHE_DIR": str(tmp_path / "cache"),
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(command, list(args))


def test_cli_keeps_the_last_admin_and_reactivates(app, cli):
    create_user(app, *ADMIN, role="admin")
    for args in (["set-role", ADMIN[0], "viewer"], ["deactivate-user", ADMIN[0]]):
        result = cli(*args)
        assert result.exit_code != 0 and "last active admin" in result.output, args
    assert _user(app, ADMIN[0])["role"] == "admin" and _user(app, ADMIN[0])["active"] is True
    email, password = create_user(app, "analyst@example.com", "analyst-pass-1234")
    assert cli("deactivate-user", email).exit_code == 0
    assert login(app.server.test_client(), email, password).status_code == 401
    result = cli("reactivate-user", email)
    assert result.exit_code == 0 and "active" in result.output
    assert login(app.server.test_client(), email, password).status_code == 302
    listing = cli("list-users")
    assert listing.exit_code == 0 and f"{email}\tanalyst\tactive" in listing.output
    events = [e for e in _events(app) if e["client_address"] == "cli"]
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("account-role", "denied"),
        ("account-deactivate", "denied"),
        ("account-deactivate", "ok"),
        ("account-reactivate", "ok"),
    ]
