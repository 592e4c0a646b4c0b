"""The one place that decides who may reach what: signed-in users everywhere, anonymous only on the
allow-list. Anything not listed, including routes added later, is refused by default."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, jsonify, redirect, request
from flask_login import current_user

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


def init_app(server: Flask, page_endpoints: frozenset[str]) -> None:
    """Register the guard; `page_endpoints` are Dash's HTML page routes (redirect, not 401)."""

    @server.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        if request.method == "GET" and request.endpoint in page_endpoints:
            return redirect(login_redirect_target())
        return jsonify(error="Sign in required."), 401
