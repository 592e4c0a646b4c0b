"""The one place that decides who may reach what: signed-in users everywhere, anonymous only on the
allow-list. Anything not listed, including routes added later, is refused by default. A sign-in
also ends on its own after SESSION_MAX_HOURS, however active the user is (the idle timeout is the
cookie's lifetime, SESSION_MINUTES)."""

from __future__ import annotations

import time
from urllib.parse import quote

from flask import Flask, current_app, jsonify, redirect, request, session
from flask_login import current_user, logout_user

from mmm_dash.web.auth.routes import SIGNED_IN_AT

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.register",
        "health.healthz",
        "health.readyz",
        "static",  # Flask's own static folder
        "_dash_assets.static",  # files in assets/ (CSS, favicon): needed to style the login page
    }
)


def login_redirect_target() -> str:
    query = request.query_string.decode("utf-8", "replace")
    path = request.path + (f"?{query}" if query else "")
    return "/login?next=" + quote(path, safe="/")


def sign_in_expired() -> bool:
    """True when the session's sign-in is older than SESSION_MAX_HOURS (or carries no sign-in time)."""
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        return True
    max_seconds = current_app.extensions["mmm_dash"].settings.SESSION_MAX_HOURS * 3600
    return time.time() - signed_in_at > max_seconds


def init_app(server: Flask, page_endpoints: frozenset[str]) -> None:
    """Register the guard; `page_endpoints` are Dash's HTML page routes (redirect, not 401)."""

    @server.before_request
    def require_login():
        if current_user.is_authenticated and sign_in_expired():
            logout_user()
            session.clear()
        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        if request.method == "GET" and request.endpoint in page_endpoints:
            return redirect(login_redirect_target())
        return jsonify(error="Sign in required."), 401
