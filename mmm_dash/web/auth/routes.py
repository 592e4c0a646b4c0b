"""Login, registration and logout: plain HTML forms that work without JavaScript, except that an
account that has seen wrong passwords asks each sign-in for a proof of work, which the login page's
script computes (see throttle.py)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from mmm_dash.web import audit
from mmm_dash.web.auth import accounts, passwords, throttle
from mmm_dash.web.auth.forms import ChangePasswordForm, LoginForm, RegisterForm, first_error
from mmm_dash.web.extensions import limiter

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "Wrong email or password."
FAILED_LOGIN = 401
TOO_MANY_ATTEMPTS = "Too many sign-in attempts for this account; wait {wait} and try again."
PROOF_NEEDED = (
    "This account has seen wrong passwords recently, so each sign-in first runs a short check in your "
    "browser; allow JavaScript on this page and sign in again."
)
REGISTERED = "If that address was new, its account is ready: sign in with it below."
REGISTRATION_REFUSED = {
    "invite": "Accounts are created by an administrator; ask yours for one.",
    "closed": "Registration is closed.",
}
# Wrong current passwords at /password (within the window) that end every session of the account:
# a stolen cookie cannot be used to guess the password it lacks.
CURRENT_PASSWORD_TRIES = (5, 15 * 60)  # failures, seconds
SIGNED_OUT_AFTER_GUESSES = (
    "The current password was wrong {tries} times, so you were signed out everywhere; sign in again."
)
# Where the sign-in time is kept in the session, for the absolute lifetime (see guard.py).
SIGNED_IN_AT = "signed_in_at"


def safe_next(target: str | None) -> str:
    """Follow `next` only to a local path, never to another host (and never with control characters)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return "/"
    return target


def _wait_words(seconds: int) -> str:
    return "a minute" if seconds <= 60 else f"{-(-seconds // 60)} minutes"


def _start_session(user) -> None:
    session.clear()
    session.permanent = True  # idle expiry after SESSION_MINUTES, refreshed on every request
    session[SIGNED_IN_AT] = int(time.time())
    login_user(user)
    # A fresh CSRF secret in the sign-in response's own cookie: if the first page's parallel requests
    # (layout, dependencies, callbacks) each had to add it, the last cookie written could lack it and
    # the navbar's sign-out form would then be refused.
    g.pop("csrf_token", None)
    generate_csrf()


def registration_mode() -> str:
    return current_app.extensions["mmm_dash"].settings.REGISTRATION


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_path = safe_next(request.values.get("next"))
    page = {"form": form, "next": next_path, "registration": registration_mode()}
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_path)
        info = REGISTERED if request.args.get("registered") else None
        return render_template("login.html", info=info, **page)
    if not form.validate_on_submit():
        return render_template("login.html", error=first_error(form), **page), 400
    email, client = form.email.data, get_remote_address()
    proof = (request.form.get("pow_challenge", ""), request.form.get("pow_answer", ""))
    try:
        with passwords.sign_in_slot():
            verdict = throttle.admit(email, client, throttle.is_known_device(request, email), proof)
            user = accounts.authenticate(email, form.password.data) if verdict.allowed else None
    except passwords.Busy as exc:
        return _refuse(page, str(exc), 1)
    if verdict.proof_needed:
        audit.record(audit.SIGN_IN, outcome=audit.DENIED, detail="no proof of work", user=email)
        return _refuse(page, PROOF_NEEDED, 1)
    if not verdict.allowed:
        audit.record(audit.SIGN_IN, outcome=audit.DENIED, detail="too many attempts", user=email)
        return _refuse(page, TOO_MANY_ATTEMPTS.format(wait=_wait_words(verdict.retry_after)), verdict.retry_after)
    if user is None:
        audit.record(audit.SIGN_IN, outcome=audit.FAILED, detail="wrong email or password", user=email)
        return render_template("login.html", error=BAD_CREDENTIALS, **page), FAILED_LOGIN
    throttle.succeeded(email, client)
    _start_session(user)
    audit.record(audit.SIGN_IN, user=user)
    if user.password_change_required:  # an admin set this password: the user chooses their own first
        next_path = url_for("auth.change_password", next=next_path)
    response = redirect(next_path)
    throttle.remember_device(request, response, user.email)
    return response


def _refuse(page: dict, error: str, retry_after: int):
    response = current_app.make_response((render_template("login.html", error=error, **page), 429))
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/login/challenge")
@limiter.limit("60/minute")
def login_challenge():
    """What the login page's script asks before posting: a fresh proof-of-work challenge, and how many
    leading zero bits the answer needs for this email now (0: none needed, post at once)."""
    email = request.form.get("email", "")[:254]
    needed = throttle.proof_needed(email, throttle.is_known_device(request, email))
    body = {"challenge": throttle.new_challenge(), "bits": throttle.POW_BITS if needed else 0}
    return jsonify(body), 200, {"Cache-Control": "no-store"}


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])  # counted before the view runs, so parallel posts count too
def register():
    mode = registration_mode()
    if mode != "open":
        return render_template("register.html", form=RegisterForm(), closed=REGISTRATION_REFUSED[mode]), 403
    form = RegisterForm()
    if request.method == "GET":
        return render_template("register.html", form=form)
    if not form.validate_on_submit():
        return render_template("register.html", form=form, error=first_error(form)), 400
    typed = form.email.data
    try:
        with passwords.sign_in_slot():  # hashing the new password waits on the same thread as sign-ins
            user = accounts.register(typed, form.password.data)
    except passwords.Busy as exc:  # (Flask-Limiter sets this route's Retry-After to its own window)
        return render_template("register.html", form=form, error=str(exc)), 429
    except accounts.AccountError as exc:
        audit.record(audit.REGISTER, typed, audit.FAILED, str(exc), user=typed)
        return render_template("register.html", form=form, error=str(exc)), 400
    if user is None:
        audit.record(audit.REGISTER, typed, audit.FAILED, "the address already has an account", user=typed)
    else:
        audit.record(audit.REGISTER, user.email, user=user)
    # The same answer whether or not the address already had an account: no enumeration.
    return redirect(url_for("auth.login", registered=1))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out everywhere: the user's session generation moves on, so copied cookies stop working."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as exc:  # missing, expired or forged: a cross-site form cannot sign you out
        raise CSRFError(str(exc)) from None
    if current_user.is_authenticated:
        audit.record(audit.SIGN_OUT)
        accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    response.delete_cookie(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    return response


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """The signed-in user's own password: required after an admin set or reset it (the guard sends
    such a user here first), open to everyone otherwise. Other sessions of the account end."""
    form = ChangePasswordForm()
    next_path = safe_next(request.values.get("next"))
    page = {"form": form, "next": next_path, "required": current_user.password_change_required}
    if request.method == "GET":
        return render_template("password.html", **page)
    if not form.validate_on_submit():
        return render_template("password.html", error=first_error(form), **page), 400
    user = current_user._get_current_object()
    client = get_remote_address()
    # The current password is a password check like sign-in's: it spends the same budgets (per address,
    # per account and address), counted before the check. The session shows whose browser this is, so a
    # stranger's failures on the account ask it no proof of work (its own guesses end its sessions below).
    verdict = throttle.admit(user.email, client, known_device=True)
    if not verdict.allowed:
        audit.record(audit.PASSWORD_CHANGE, user.email, audit.DENIED, "too many attempts")
        error = TOO_MANY_ATTEMPTS.format(wait=_wait_words(verdict.retry_after))
        response = current_app.make_response((render_template("password.html", error=error, **page), 429))
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    guesses = f"mmm-login/current-password/{throttle.account_key(user.email)}"
    try:
        with passwords.sign_in_slot():  # the check and the new hash wait on the same thread as sign-ins
            accounts.change_own_password(user, form.current.data, form.password.data)
    except passwords.Busy as exc:
        response = current_app.make_response((render_template("password.html", error=str(exc), **page), 429))
        response.headers["Retry-After"] = "1"
        return response
    except accounts.WrongPassword as exc:
        audit.record(audit.PASSWORD_CHANGE, user.email, audit.FAILED, str(exc))
        tries, window = CURRENT_PASSWORD_TRIES
        if throttle.counters.incr(guesses, window) >= tries:
            throttle.counters.clear(guesses)
            return _end_sessions_after_guesses(user, tries)
        return render_template("password.html", error=str(exc), **page), 400
    except accounts.AccountError as exc:
        audit.record(audit.PASSWORD_CHANGE, user.email, audit.FAILED, str(exc))
        return render_template("password.html", error=str(exc), **page), 400
    throttle.succeeded(user.email, client)
    throttle.counters.clear(guesses)
    audit.record(audit.PASSWORD_CHANGE, user.email)
    _start_session(user)  # the change moved the session generation on: this browser stays signed in
    return redirect(next_path)


def _end_sessions_after_guesses(user, tries: int):
    """Repeated wrong current passwords: whoever holds this cookie may not own it, so every session of
    the account ends (copies of the cookie too), audited; the owner signs in again."""
    audit.record(
        audit.SIGN_OUT, user.email, audit.DENIED, f"{tries} wrong current passwords at /password: every session ended"
    )
    accounts.end_sessions(user)
    logout_user()
    session.clear()
    page = {"form": LoginForm(), "next": "/", "registration": registration_mode()}
    error = SIGNED_OUT_AFTER_GUESSES.format(tries=tries)
    response = current_app.make_response((render_template("login.html", error=error, **page), FAILED_LOGIN))
    response.delete_cookie(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    return response
