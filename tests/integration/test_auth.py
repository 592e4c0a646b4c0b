"""Accounts through the real HTTP forms, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import create_user, csrf_token, login


def navbar_csrf_token(client) -> str:
    """The CSRF token the navbar's sign-out form carries (what a signed-in browser posts)."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("name") == "csrf_token":
                return node["props"]["value"]
            return next((t for t in map(walk, node.values()) if t), None)
        if isinstance(node, list):
            return next((t for t in map(walk, node) if t), None)
        return None

    return walk(client.get("/_dash-layout").json)


def logout(client):
    return client.post("/logout", data={"csrf_token": navbar_csrf_token(client)})


def test_login_page_renders_form_with_csrf(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text and 'name="email"' in page.text


def test_login_success_redirects_to_next_and_records_last_login(app, client):
    email, password = create_user(app)
    response = login(client, email, password, next_path="/roi?period=2024")
    assert response.status_code == 302
    assert response.headers["Location"] == "/roi?period=2024"
    from mmm_dash.web.auth.accounts import find_user

    with app.server.app_context():
        assert find_user(email).last_login_at is not None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil"])
def test_next_only_follows_local_paths(app, client, target):
    email, password = create_user(app)
    response = login(client, email, password, next_path=target)
    assert response.headers["Location"] == "/"


def test_email_is_case_insensitive(app, client):
    create_user(app, email="Mixed.Case@Example.com")
    assert login(client, "mixed.case@example.COM", "correct-horse").status_code == 302


def test_wrong_email_and_wrong_password_give_the_same_message(app, client):
    email, _ = create_user(app)
    wrong_password = login(client, email, "nope-nope-nope")
    wrong_email = login(client, "nobody@example.com", "correct-horse")
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert "Wrong email or password." in wrong_password.text
    assert "Wrong email or password." in wrong_email.text


def test_inactive_user_cannot_sign_in(app, client):
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.extensions import db

    email, password = create_user(app)
    with app.server.app_context():
        find_user(email).active = False
        db.session.commit()
    assert login(client, email, password).status_code == 401


def test_login_is_rate_limited_after_five_failures_per_email(app, client):
    email, password = create_user(app)
    for _ in range(5):
        assert login(client, email, "wrong-password").status_code == 401
    blocked = login(client, email, password)
    assert blocked.status_code == 429
    assert "Too many sign-in attempts for this account" in blocked.text
    assert blocked.headers["Retry-After"] == "60"


def test_successful_logins_do_not_count_against_the_limit(app, client):
    email, password = create_user(app)
    for _ in range(7):
        assert login(client, email, password).status_code == 302
        assert logout(client).status_code == 302


def test_missing_or_wrong_csrf_token_is_400(app, client):
    email, password = create_user(app)
    missing = client.post("/login", data={"email": email, "password": password})
    wrong = client.post("/login", data={"email": email, "password": password, "csrf_token": "forged"})
    assert missing.status_code == wrong.status_code == 400
    assert "form expired" in missing.text


@pytest.mark.parametrize(
    "form",
    [
        {"email": "a" * 250 + "@x.io", "password": "longenough"},
        {"email": "ok@example.com", "password": "p" * 1025},
        {"email": "", "password": ""},
        {"unexpected": "field"},
    ],
)
def test_malformed_login_posts_are_400_not_500(client, form):
    response = client.post("/login", data={**form, "csrf_token": csrf_token(client)})
    assert response.status_code == 400


def test_register_creates_an_analyst_who_then_signs_in(app, client):
    data = {
        "email": "New@Example.com",
        "password": "longenough",
        "confirm": "longenough",
        "csrf_token": csrf_token(client, "/register"),
    }
    response = client.post("/register", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/login?registered=1"
    assert "account is ready" in client.get("/login?registered=1").text
    from mmm_dash.web.auth.accounts import find_user

    with app.server.app_context():
        user = find_user("new@example.com")
        assert user.role == "analyst" and user.email == "new@example.com"
    assert login(client, "new@example.com", "longenough").status_code == 302
    assert client.get("/_dash-layout").status_code == 200


@pytest.mark.parametrize(
    ("email", "password", "confirm", "message"),
    [
        ("x@example.com", "short", "short", "at least 8"),
        ("not-an-email", "longenough", "longenough", "not a valid email"),
        ("x@example.com", "longenough", "different1", "do not match"),
        ("x" * 250 + "@example.com", "longenough", "longenough", "254"),
    ],
)
def test_register_rejects_bad_fields_with_a_message(client, email, password, confirm, message):
    data = {"email": email, "password": password, "confirm": confirm, "csrf_token": csrf_token(client, "/register")}
    response = client.post("/register", data=data)
    assert response.status_code == 400
    assert message in response.text


def test_taken_address_gets_the_same_answer_as_a_new_one(app, client):
    """No enumeration: a visitor cannot tell from the answer whether an address has an account."""
    create_user(app, email="taken@example.com")

    def register(email):
        data = {"email": email, "password": "longenough", "confirm": "longenough"}
        return client.post("/register", data={**data, "csrf_token": csrf_token(client, "/register")})

    taken, new = register("TAKEN@example.com"), register("fresh@example.com")
    assert taken.status_code == new.status_code == 302
    assert taken.headers["Location"] == new.headers["Location"]
    assert taken.get_data() == new.get_data()
    assert "already" not in taken.text
    assert login(client, "taken@example.com", "longenough").status_code == 401  # the owner's password stands


def test_concurrent_registrations_leave_exactly_one_account(app, monkeypatch):
    from sqlalchemy import func, select

    from mmm_dash.web.auth import passwords
    from mmm_dash.web.auth.models import User
    from mmm_dash.web.extensions import db

    monkeypatch.setattr(passwords, "SIGN_INS_AT_ONCE", 6)  # all six race to the database (no "try again")
    clients = [app.server.test_client() for _ in range(6)]
    tokens = [csrf_token(c, "/register") for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def register(c, token):
        barrier.wait()
        r = c.post(
            "/register",
            data={"email": "race@example.com", "password": "longenough", "confirm": "longenough", "csrf_token": token},
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=register, args=pair) for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * len(clients)  # the same answer for the winner and the others
    with app.server.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "race@example.com")) == 1


def test_logout_ends_the_session(signed_in):
    assert signed_in.get("/_dash-layout").status_code == 200
    assert logout(signed_in).status_code == 302
    assert signed_in.get("/_dash-layout").status_code == 401


def test_session_cookie_flags(app, client):
    email, password = create_user(app)
    cookie = login(client, email, password).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_expires_after_idle_minutes(app, client):
    assert app.server.permanent_session_lifetime.total_seconds() == 30 * 60
    email, password = create_user(app)
    cookie = login(client, email, password).headers["Set-Cookie"]
    assert "Expires=" in cookie


def test_session_survives_a_restart_with_the_same_secret(app, client, database_url, demo_model_dir, demo_cache_dir):
    from tests.helpers import make_app

    email, password = create_user(app)
    login(client, email, password)
    cookie = client.get_cookie("mmm_session").value
    restarted = make_app(database_url, demo_model_dir, demo_cache_dir).server.test_client()
    restarted.set_cookie("mmm_session", cookie)
    assert restarted.get("/_dash-layout").status_code == 200


def test_idle_session_is_refused_after_session_minutes(app, client, monkeypatch):
    import time as time_module

    email, password = create_user(app)
    login(client, email, password)
    assert client.get("/_dash-layout").status_code == 200
    later = time_module.time() + 31 * 60  # SESSION_MINUTES defaults to 30
    monkeypatch.setattr(time_module, "time", lambda: later)
    assert client.get("/_dash-layout").status_code == 401
