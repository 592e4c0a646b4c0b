"""The one place that decides who may reach what. Anonymous requests reach only the allow-list;
signed-in ones reach an endpoint, and a Dash callback, only when the permission table
(`permissions.ENDPOINTS`, `permissions.CALLBACKS`) lists it and the user's role is high enough.
Anything not listed, including routes and callbacks added later, is refused (fail closed), and
every refusal of a signed-in user is audited. A sign-in also ends on its own after
SESSION_MAX_HOURS, however active the user is (the idle timeout is the cookie's lifetime,
SESSION_MINUTES); a user whose password an admin set must choose a new one before anything else."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from urllib.parse import quote

from flask import Flask, current_app, jsonify, redirect, request, session
from flask_login import current_user, logout_user

from mmm_dash.web import audit
from mmm_dash.web.auth.routes import SIGNED_IN_AT
from mmm_dash.web.errors import render_error, wants_html
from mmm_dash.web.hardening import callback_json
from mmm_dash.web.permissions import Action, allows, callback_action, callback_name, denial, endpoint_action

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.login_challenge",  # the login page's proof-of-work challenge
        "auth.register",
        "health.healthz",
        "health.readyz",
        "static",  # Flask's own static folder
        "_dash_assets.static",  # files in assets/ (CSS, favicon): needed to style the login page
    }
)
DASH_CALLBACK_ENDPOINT = "/_dash-update-component"
# What a user who must replace an admin-set password may still reach.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout"})
UNLISTED_ENDPOINT = "This address is not in the permission table, so it is refused."
UNLISTED_CALLBACK = "This action is not in the permission table, so it is refused."
CHANGE_PASSWORD_FIRST = "Choose a new password first: your password was set by an administrator."


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


def refuse(where: str, needed: Action | None = None):
    """403 with one sentence (a page for browsers, JSON otherwise), audited as a denial; `needed` is
    None when `where` has no entry in the permission table at all."""
    if needed is None:
        log.warning("Refused %s: it has no entry in the permission table", where)
        message = UNLISTED_CALLBACK if where.startswith("callback") else UNLISTED_ENDPOINT
        detail = "not in the permission table"
    else:
        message, detail = denial(needed), f"needs {needed.value}"
    audit.record(audit.PERMISSION, where, audit.DENIED, f"{detail}; role {current_user.role}")
    return render_error(403, message)


def check_callback(callbacks: Mapping[str, dict]):
    """The callback named by a Dash update's body: refused unless listed and allowed. A body naming
    no known callback is left to the shape check in hardening.py, which answers 400."""
    body, _problem = callback_json()  # never raises: 50,000-deep JSON is a problem, not a RecursionError
    output = body.get("output") if isinstance(body, dict) else None
    spec = callbacks.get(output) if isinstance(output, str) else None
    if spec is None:
        return None
    action = callback_action(spec)
    where = f"callback {callback_name(spec) or output}"
    if action is None:
        return refuse(where)
    if not allows(current_user.role, action):
        return refuse(where, action)
    return None


def authorize(page_endpoints: frozenset[str], callbacks: Mapping[str, dict]):
    """A signed-in request: the permission table's verdict (None lets it through)."""
    endpoint = request.endpoint
    if endpoint is None:  # no such route (or method): Flask answers 404/405 itself
        return None
    if current_user.password_change_required and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if request.method == "GET" and (endpoint in page_endpoints or wants_html()):
            return redirect("/password")
        return render_error(403, CHANGE_PASSWORD_FIRST)
    action = endpoint_action(endpoint)
    if action is None:
        return refuse(f"endpoint {endpoint}")
    if not allows(current_user.role, action):
        return refuse(f"endpoint {endpoint}", action)
    if endpoint == DASH_CALLBACK_ENDPOINT and request.method == "POST":
        return check_callback(callbacks)
    return None


def init_app(server: Flask, page_endpoints: frozenset[str], callbacks: Mapping[str, dict]) -> None:
    """Register the guard; `page_endpoints` are Dash's HTML page routes (redirect, not 401), and
    `callbacks` is the Dash app's callback map (Dash fills it in place, so it is read per request)."""

    @server.before_request
    def require_login():
        if current_user.is_authenticated and sign_in_expired():
            logout_user()
            session.clear()
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if current_user.is_authenticated:
            return authorize(page_endpoints, callbacks)
        if request.method == "GET" and request.endpoint in page_endpoints:
            return redirect(login_redirect_target())
        return jsonify(error="Sign in required."), 401
