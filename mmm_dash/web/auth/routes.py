"""Login, registration and logout: plain HTML forms that work without JavaScript."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from mmm_dash.web.auth import accounts
from mmm_dash.web.auth.forms import LoginForm, RegisterForm, first_error
from mmm_dash.web.extensions import limiter

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "Wrong email or password."
FAILED_LOGIN = 401


def safe_next(target: str | None) -> str:
    """Follow `next` only to a local path, never to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code == FAILED_LOGIN


def _start_session(user) -> None:
    session.clear()
    session.permanent = True  # idle expiry after SESSION_MINUTES, refreshed on every request
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
# Two budgets of failed attempts: per client (password spraying) and per email (guessing one account).
@limiter.limit("5/minute", methods=["POST"], deduct_when=_failed)
@limiter.limit("5/minute", methods=["POST"], deduct_when=_failed, key_func=_email_key, scope="login-email")
def login():
    form = LoginForm()
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_path)
        return render_template("login.html", form=form, next=next_path)
    if not form.validate_on_submit():
        return render_template("login.html", form=form, next=next_path, error=first_error(form)), 400
    user = accounts.authenticate(form.email.data, form.password.data)
    if user is None:
        return render_template("login.html", form=form, next=next_path, error=BAD_CREDENTIALS), FAILED_LOGIN
    _start_session(user)
    return redirect(next_path)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if request.method == "GET":
        return render_template("register.html", form=form)
    if not form.validate_on_submit():
        return render_template("register.html", form=form, error=first_error(form)), 400
    try:
        user = accounts.create_user(form.email.data, form.password.data, role="analyst")
    except accounts.AccountError as exc:
        status = 409 if "already exists" in str(exc) else 400
        return render_template("register.html", form=form, error=str(exc)), status
    _start_session(user)
    return redirect("/")


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
