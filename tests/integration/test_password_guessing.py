"""The current-password check at /password is a password check like sign-in's (issue 22, F): it spends
the sign-in limits, and repeated wrong guesses end every session of the account, audited, so a stolen
cookie cannot be used to guess the password it lacks."""

from __future__ import annotations

import pytest

from tests.helpers import create_user, csrf_token, login

NEW_PASSWORD = "a-brand-new-passphrase"
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.9"}  # the owner, not the thief's address (whose budget is spent)


@pytest.fixture()
def database_url(tmp_path):
    """SQLite only: these checks are about HTTP, not the database."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def _change(client, current: str, token: str | None = None):
    data = {"current": current, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return client.post("/password", data={**data, "csrf_token": token or csrf_token(client, "/password")})


def _elsewhere(app):
    client = app.server.test_client()
    client.environ_base.update(ELSEWHERE)
    return client


def _copy_cookie(app, client):
    copy = app.server.test_client()
    copy.set_cookie("mmm_session", client.get_cookie("mmm_session").value)
    return copy


def test_repeated_wrong_current_passwords_end_every_session_and_are_audited(app, client):
    from mmm_dash.web import audit

    email, password = create_user(app)
    assert login(client, email, password).status_code == 302
    stolen = _copy_cookie(app, client)
    token = csrf_token(stolen, "/password")
    tries = 5  # CURRENT_PASSWORD_TRIES in web/auth/routes.py
    for _ in range(tries - 1):
        wrong = _change(stolen, "a-guess")
        assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    assert stolen.get("/_dash-layout").status_code == 200  # a slip or two keeps the session

    ended = _change(stolen, "one-guess-too-many")
    assert ended.status_code == 401 and "signed out everywhere" in ended.text
    assert stolen.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-layout").status_code == 401  # the owner's session (the cookie's origin) too
    assert _change(stolen, password, token).status_code != 302  # the right password no longer helps
    assert stolen.get("/_dash-layout").status_code == 401
    assert login(_elsewhere(app), email, NEW_PASSWORD).status_code == 401  # nothing was changed

    with app.server.app_context():
        events = [(e.action, e.outcome, e.detail) for e in audit.AuditEvent.query.all()]
    assert [e for e in events if e[0] == audit.PASSWORD_CHANGE].count(
        (audit.PASSWORD_CHANGE, audit.FAILED, "The current password is wrong.")
    ) == tries
    assert any(a == audit.SIGN_OUT and o == audit.DENIED and "wrong current passwords" in d for a, o, d in events)
    assert login(_elsewhere(app), email, password).status_code == 302  # the owner signs in again


def test_the_current_password_check_spends_the_sign_in_limits(app):
    email, password = create_user(app)
    owner = app.server.test_client()
    assert login(owner, email, password).status_code == 302
    stolen = _copy_cookie(app, owner)
    for _ in range(5):  # guesses at /login from the thief's address use up its budget for the account
        assert login(app.server.test_client(), email, "wrong-password").status_code == 401
    refused = _change(stolen, password)  # even the right password is not checked now
    assert refused.status_code == 429 and "Too many" in refused.text and refused.headers["Retry-After"]
    assert login(_elsewhere(app), email, NEW_PASSWORD).status_code == 401  # the password did not change
