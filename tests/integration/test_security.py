"""Findings of the security review (issue 10), each as a test that failed on the code before it:
sessions that end, a generated secret key, limits that a stranger cannot turn against the owner,
registration rules, 400 instead of 500, headers and cross-site checks."""

from __future__ import annotations

import os
import stat
import time

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.helpers import create_user, csrf_token, login, make_app, solved_challenge
from tests.integration.test_auth import logout, navbar_csrf_token

OLD_PUBLIC_KEY = "dev-only-insecure-secret-key-change-me"  # the constant the source used to hold
OTHER_ADDRESS = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture()
def database_url(tmp_path):
    """SQLite only: these checks are about HTTP, not the database (test_auth runs both)."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def _copy_cookie(app, client):
    copy = app.server.test_client()
    copy.set_cookie("mmm_session", client.get_cookie("mmm_session").value)
    return copy


# -- sessions that end ---------------------------------------------------------------------------
def test_a_cookie_copied_before_sign_out_is_refused_afterwards(app, client):
    login(client, *create_user(app))
    stolen = _copy_cookie(app, client)
    assert stolen.get("/_dash-layout").status_code == 200
    assert logout(client).status_code == 302
    assert stolen.get("/_dash-layout").status_code == 401
    assert stolen.get("/export/insights.json").status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda accounts, email: accounts.set_password(email, "a-brand-new-passphrase"),
        lambda accounts, email: accounts.set_role(email, "viewer"),
        lambda accounts, email: accounts.set_active(email, False),
    ],
    ids=["password", "role", "deactivation"],
)
def test_password_role_and_active_changes_end_existing_sessions(app, client, change):
    from mmm_dash.web.auth import accounts

    email, password = create_user(app)
    login(client, email, password)
    assert client.get("/_dash-layout").status_code == 200
    with app.server.app_context():
        change(accounts, email)
    assert client.get("/_dash-layout").status_code == 401


def test_a_sign_in_ends_after_session_max_hours_however_active(app, client, monkeypatch):
    login(client, *create_user(app))
    start = time.time()
    for minutes in range(25, 12 * 60, 25):  # active every 25 minutes: the idle timeout never fires
        monkeypatch.setattr(time, "time", lambda m=minutes: start + m * 60)
        assert client.get("/_dash-layout").status_code == 200, minutes
    monkeypatch.setattr(time, "time", lambda: start + 12 * 3600 + 60)
    assert client.get("/_dash-layout").status_code == 401


def test_sign_out_needs_the_csrf_token(app, client):
    login(client, *create_user(app))
    refused = client.post("/logout")
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 200  # a cross-site form cannot sign you out
    assert navbar_csrf_token(client)


def test_the_sign_in_response_already_carries_the_csrf_secret(app, client):
    """A page's first requests run in parallel and each rewrites the cookie: had they to add the CSRF
    secret, the last cookie written could lack it and the navbar's sign-out would be refused (seen in
    Chromium under load). So the sign-in response itself sets it."""
    login(client, *create_user(app))
    parallel = _copy_cookie(app, client)  # a request of the first page that started before the layout answered
    token = navbar_csrf_token(client)
    assert parallel.post("/logout", data={"csrf_token": token}).status_code == 302


# -- the secret key ----------------------------------------------------------------------------
def _forged_cookie(secret: str, user_id: str) -> str:
    forger = Flask("forger")
    forger.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": user_id, "_fresh": True, "signed_in_at": int(time.time())})


def test_without_secret_key_a_random_key_is_kept_in_the_instance_folder(
    tmp_path, demo_model_dir, demo_cache_dir, monkeypatch
):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = make_app(url, demo_model_dir, demo_cache_dir, SECRET_KEY="", INSTANCE_DIR=str(tmp_path / "inst"))
    key_file = tmp_path / "inst" / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first.server.secret_key == key_file.read_text().strip() and len(first.server.secret_key) >= 32
    assert first.server.secret_key != OLD_PUBLIC_KEY

    email, password = create_user(first, email="admin@example.com", role="admin")
    client = first.server.test_client()
    login(client, email, password)
    again = make_app(url, demo_model_dir, demo_cache_dir, SECRET_KEY="", INSTANCE_DIR=str(tmp_path / "inst"))
    assert again.server.secret_key == first.server.secret_key  # reused across restarts
    assert _copy_cookie(again, client).get("/_dash-layout").status_code == 200

    for user_id in ("1", "1:0"):  # forged with the constant that used to be in the source
        forged = again.server.test_client()
        forged.set_cookie("mmm_session", _forged_cookie(OLD_PUBLIC_KEY, user_id))
        assert forged.get("/_dash-layout").status_code == 401


def test_production_still_refuses_to_start_without_its_own_key(tmp_path, monkeypatch):
    from mmm_dash.config import ConfigError, load_settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"ENVIRONMENT": "production", "SECRET_KEY": "", "INSTANCE_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_no_constant_secret_key_in_the_source():
    import mmm_dash.config as config

    assert not hasattr(config, "DEV_SECRET_KEY")
    from pathlib import Path

    assert OLD_PUBLIC_KEY not in Path(config.__file__).read_text()


# -- limits a stranger cannot turn against the owner --------------------------------------------
def test_a_stranger_cannot_lock_the_owner_out(app):
    email, password = create_user(app)
    stranger = app.server.test_client()
    stranger.environ_base.update(OTHER_ADDRESS)
    for _ in range(6):
        login(stranger, email, "wrong-password")
    assert login(stranger, email, "wrong-password").status_code == 429
    owner = app.server.test_client()
    assert login(owner, email, password).status_code == 302


def _new_browser(app, address: str):
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_guesser_rotating_addresses_never_locks_the_owner_out_of_a_new_browser(app):
    email, password = create_user(app)
    statuses = []
    for i in range(25):  # a distributed guesser, a new address (and a new browser) for every attempt
        statuses.append(login(_new_browser(app, f"10.0.0.{i + 1}"), email, "wrong-password").status_code)
    assert statuses == [401] * 25  # each guess paid its proof of work and had its password checked
    for i in range(3):  # the owner, from browsers that never signed in before: always in, at once
        assert login(_new_browser(app, f"198.51.100.{i + 1}"), email, password).status_code == 302


def test_past_a_few_failures_every_attempt_needs_a_fresh_proof_of_work(app):
    from mmm_dash.web.auth import throttle
    from mmm_dash.web.auth.routes import PROOF_NEEDED

    email, password = create_user(app)
    failures, _window = throttle.POW_AFTER
    for i in range(failures):
        browser = _new_browser(app, f"10.0.1.{i + 1}")
        data = {"email": email, "password": "wrong-password", "csrf_token": csrf_token(browser)}
        assert browser.post("/login", data=data).status_code == 401  # no proof asked for yet
    browser = _new_browser(app, "198.51.100.9")
    challenge = browser.post("/login/challenge", data={"email": email}).json
    assert challenge["bits"] == throttle.POW_BITS
    # without a proof even the right password is refused before it is checked: no oracle
    data = {"email": email, "password": password, "csrf_token": csrf_token(browser)}
    refused = browser.post("/login", data=data)
    assert refused.status_code == 429 and PROOF_NEEDED in refused.text and refused.headers["Retry-After"] == "1"
    answer = throttle.solve(challenge["challenge"])
    unsolved = next(str(n) for n in range(9, 99) if throttle.leading_zero_bits(challenge["challenge"], str(n)) < 8)
    not_solved = {"pow_challenge": challenge["challenge"], "pow_answer": unsolved}
    not_ours = {"pow_challenge": challenge["challenge"] + "x", "pow_answer": answer}
    for bad in (not_solved, not_ours):
        assert browser.post("/login", data={**data, **bad}).status_code == 429
    solved = {**data, "pow_challenge": challenge["challenge"], "pow_answer": answer}
    assert browser.post("/login", data=solved).status_code == 302
    # a solved challenge is good for one attempt only
    again = _new_browser(app, "198.51.100.10")
    assert again.post("/login", data={**solved, "csrf_token": csrf_token(again)}).status_code == 429
    # the browser that signed in is known: it is not asked again
    assert logout(browser).status_code == 302
    assert browser.post("/login/challenge", data={"email": email}).json["bits"] == 0
    assert browser.post("/login", data={**data, "csrf_token": csrf_token(browser)}).status_code == 302


def test_successful_sign_ins_count_against_nobody(app):
    from mmm_dash.web.auth import throttle

    email, password = create_user(app)
    many = throttle.PER_CLIENT[0] + 5  # more than one address may try in a minute, and than the old ceiling (20)
    statuses = [login(_new_browser(app, "198.51.100.20"), email, password).status_code for _ in range(many)]
    assert statuses == [302] * many
    assert _new_browser(app, "198.51.100.20").post("/login/challenge", data={"email": email}).json["bits"] == 0


def test_registration_is_rate_limited(app):
    client = app.server.test_client()
    statuses = []
    for i in range(11):
        data = {"email": f"r{i}@example.com", "password": "longenough", "confirm": "longenough"}
        data["csrf_token"] = csrf_token(client, "/register")
        statuses.append(client.post("/register", data=data).status_code)
    assert statuses[:10] == [302] * 10 and statuses[10] == 429


# -- registration rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["password", "12345678", "iloveyou", "Password", "qwertyuiop"])
def test_common_passwords_are_refused(client, password):
    data = {"email": "p@example.com", "password": password, "confirm": password}
    response = client.post("/register", data={**data, "csrf_token": csrf_token(client, "/register")})
    assert response.status_code == 400 and "most common" in response.text


def test_password_policy_applies_to_password_changes_but_not_the_dev_seeds(app):
    from mmm_dash.web.auth import accounts

    email, _ = create_user(app)
    with app.server.app_context():
        with pytest.raises(accounts.AccountError, match="common"):
            accounts.set_password(email, "12345678")
        seeded = accounts.create_user("seed@example.com", "test123", "analyst", enforce_policy=False)
        assert seeded.id


@pytest.mark.parametrize(("mode", "message"), [("invite", "administrator"), ("closed", "closed")])
def test_registration_can_be_invite_only_or_closed(database_url, demo_model_dir, demo_cache_dir, mode, message):
    app = make_app(database_url, demo_model_dir, demo_cache_dir, REGISTRATION=mode)
    client = app.server.test_client()
    page = client.get("/register")
    assert page.status_code == 403 and message in page.text
    data = {"email": "x@example.com", "password": "longenough", "confirm": "longenough", "csrf_token": "x"}
    assert client.post("/register", data=data).status_code == 403
    assert 'id="to-register"' not in client.get("/login").text
    from mmm_dash.web.auth.accounts import find_user

    with app.server.app_context():
        assert find_user("x@example.com") is None


# -- 400, not 500 ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {},
        {"output": 5},
        {"output": "no-such.children"},
        {"output": "page-content.children", "inputs": "abc"},
        {"output": "page-content.children", "inputs": [{"id": "url"}]},
        {"output": "page-content.children", "inputs": [1, 2]},
        {"output": "page-content.children", "inputs": [], "changedPropIds": "x"},
    ],
)
def test_malformed_dash_callback_posts_are_400(signed_in, body):
    response = signed_in.post("/_dash-update-component", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert response.json["error"]


def test_malformed_json_to_dash_is_400(signed_in):
    response = signed_in.post("/_dash-update-component", data="{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["/roi\r\nSet-Cookie: x=1", "/roi\nX: y", "/\x00"])
def test_control_characters_in_next_are_not_followed(app, client, target):
    response = login(client, *create_user(app), next_path=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


# -- headers and cross-site checks --------------------------------------------------------------
def test_security_headers_on_every_response(signed_in):
    for path in ("/login", "/", "/_dash-layout", "/healthz", "/assets/app.css", "/no-such-page.json"):
        headers = signed_in.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0], path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_cross_site_posts_are_refused(app, client):
    email, password = create_user(app)
    token = csrf_token(client)
    data = {"email": email, "password": password, "csrf_token": token}
    evil = {"Origin": "https://evil.example"}
    assert client.post("/login", data=data, headers=evil).status_code == 403
    assert client.post("/login", data=data, headers={"Origin": "http://localhost"}).status_code == 302
    callback = {"output": "page-content.children", "inputs": [], "changedPropIds": []}
    assert client.post("/_dash-update-component", json=callback, headers=evil).status_code == 403
    referer = {"Referer": "https://evil.example/x"}
    assert client.post("/_dash-update-component", json=callback, headers=referer).status_code == 403


def test_readyz_details_only_for_signed_in_users_or_loopback(app, client):
    stranger = app.server.test_client()
    stranger.environ_base.update(OTHER_ADDRESS)
    anonymous = stranger.get("/readyz")
    assert anonymous.status_code == 200 and anonymous.json == {"status": "ready"}
    assert "checks" in client.get("/readyz").json  # loopback (the container's health check)
    login(stranger, *create_user(app))
    assert stranger.get("/readyz").json["checks"]["models"]["ready"] == 1


# -- operator commands ---------------------------------------------------------------------------
def test_cli_changes_end_sessions_and_apply_the_policy(app, client, database_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from mmm_dash.cli import cli
    from tests.helpers import SECRET

    for name, value in {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "ENVIRONMENT": "development",
                        "MODEL_DIR": str(tmp_path / "models"), "CACHE_DIR": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(name, value)
    email, password = create_user(app)
    runner = CliRunner()
    for args in (["set-role", email, "viewer"], ["deactivate-user", email]):
        login(client, email, password)
        assert client.get("/_dash-layout").status_code == 200
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0 and "sessions have ended" in result.output
        assert client.get("/_dash-layout").status_code == 401
    assert login(client, email, password).status_code == 401  # deactivated
    assert runner.invoke(cli, ["deactivate-user", email, "--reactivate"]).exit_code == 0
    assert login(client, email, password).status_code == 302
    weak = runner.invoke(cli, ["set-password", email], input="12345678\n12345678\n")
    assert weak.exit_code != 0 and "common" in weak.output
    seeded = runner.invoke(cli, ["seed-users"], catch_exceptions=False)  # dev passwords below the policy still work
    assert seeded.exit_code == 0 and seeded.output.count("created") == 3


def test_behind_a_proxy_clients_are_told_apart_and_the_public_host_is_checked(
    database_url, demo_model_dir, demo_cache_dir
):
    app = make_app(database_url, demo_model_dir, demo_cache_dir, PROXY_HOPS="1")
    email, password = create_user(app)
    via_proxy = {"X-Forwarded-Host": "mmm.example.com", "X-Forwarded-Proto": "https"}

    def attempt(address, pw, origin="https://mmm.example.com"):
        client = app.server.test_client()
        token = csrf_token(client)
        headers = {**via_proxy, "X-Forwarded-For": address, "Origin": origin}
        proof = solved_challenge(client.post("/login/challenge", data={"email": email}, headers=headers).json)
        data = {"email": email, "password": pw, "csrf_token": token, **proof}
        return client.post("/login", data=data, headers=headers)

    for _ in range(6):
        attempt("203.0.113.9", "wrong-password")
    assert attempt("203.0.113.9", "wrong-password").status_code == 429
    assert attempt("198.51.100.4", password).status_code == 302  # another client behind the same proxy
    assert attempt("198.51.100.4", password, origin="https://evil.example").status_code == 403


# -- cheap starvation (issue 22 D) ----------------------------------------------------------------
def test_sign_ins_never_hold_every_request_thread(app, monkeypatch):
    """Past SIGN_INS_AT_ONCE password checks in flight, a sign-in is answered at once (429, one
    sentence, Retry-After 1) instead of waiting for the hashing thread with a request thread."""
    import threading
    import time

    from mmm_dash.web.auth import passwords

    email, _password = create_user(app)
    checking, peak, lock = [0], [0], threading.Lock()
    real_check = passwords._check

    def slow_check(raw, password_hash):
        with lock:
            checking[0] += 1
            peak[0] = max(peak[0], checking[0])
        time.sleep(0.5)
        with lock:
            checking[0] -= 1
        return real_check(raw, password_hash)

    monkeypatch.setattr(passwords, "_check", slow_check)
    n = 6
    browsers = [_new_browser(app, f"10.0.2.{i + 1}") for i in range(n)]
    forms = [{"email": email, "password": "wrong-password", "csrf_token": csrf_token(b)} for b in browsers]
    barrier, answers = threading.Barrier(n), [None] * n

    def post(i):
        barrier.wait()
        answers[i] = browsers[i].post("/login", data=forms[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    busy = [a for a in answers if a.status_code == 429]
    assert busy and all("Too many sign-ins at once; try again in a second." in a.text for a in busy)
    assert all(a.headers["Retry-After"] == "1" for a in busy)
    assert {a.status_code for a in answers} <= {401, 429}
    assert peak[0] <= passwords.SIGN_INS_AT_ONCE
    assert time.monotonic() - started < n * 0.5  # nobody queued behind everybody else


def test_one_users_expensive_requests_are_limited_per_user(app, monkeypatch):
    import threading

    from mmm_dash.core.exports import files
    from mmm_dash.web import costly

    email, password = create_user(app)
    other_email, other_password = create_user(app, email="other@example.com")
    hog, other = app.server.test_client(), app.server.test_client()
    assert login(hog, email, password).status_code == 302
    assert login(other, other_email, other_password).status_code == 302

    release, running = threading.Event(), threading.Semaphore(0)
    real_render = files.render

    def slow_render(*args):
        running.release()
        release.wait(20)
        return real_render(*args)

    monkeypatch.setattr("mmm_dash.web.exports.render", slow_render)
    threads = [threading.Thread(target=hog.get, args=("/export/metrics.csv",)) for _ in range(costly.AT_ONCE)]
    for t in threads:
        t.start()
    for _ in threads:
        assert running.acquire(timeout=20)
    try:
        refused = hog.get("/export/metrics.csv")  # one more from the same user: answered at once
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert refused.json["error"].startswith(f"You already have {costly.AT_ONCE} exports running")
        monkeypatch.setattr("mmm_dash.web.exports.render", real_render)
        assert other.get("/export/metrics.csv").status_code == 200  # another user is not held up
    finally:
        release.set()
        for t in threads:
            t.join(20)

    monkeypatch.setattr(costly, "RATE", (5, 60))  # the per-minute count, small enough to reach quickly
    limit, window = costly.RATE
    statuses = [hog.get("/compare/download.csv").status_code for _ in range(limit + 1)]
    assert statuses[-1] == 429 and 429 not in statuses[:limit], statuses
    assert hog.get("/compare/download.csv").headers["Retry-After"] == str(window)
    assert hog.get("/scenarios/compare.csv?compare=historical").status_code == 429  # plans' comparisons too
    assert other.get("/compare/download.csv").status_code != 429


def test_registrations_take_a_sign_in_slot_too(app, monkeypatch):
    from mmm_dash.web.auth import passwords

    monkeypatch.setattr(passwords, "SIGN_INS_AT_ONCE", 0)  # every slot taken
    client = app.server.test_client()
    data = {"email": "new@example.com", "password": "longenough", "confirm": "longenough"}
    refused = client.post("/register", data={**data, "csrf_token": csrf_token(client, "/register")})
    assert refused.status_code == 429
    assert "Too many sign-ins at once; try again in a second." in refused.text
    email, password = create_user(app)
    assert login(client, email, password).status_code == 429
