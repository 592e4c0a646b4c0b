"""Errors as one sentence a person can act on: HTML for browsers, JSON for everything else."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class PageError(Exception):
    """Raised by a page callback when it cannot answer; its message is one sentence for the user, which the
    callback guard (hardening.py) shows on the page instead of the generic one."""


MESSAGES = {
    400: "The request was malformed; please check what you sent.",
    401: "Sign in required.",
    403: "You do not have access to this.",
    404: "Nothing here: check the address.",
    405: "That method is not allowed here.",
    413: "The request is too large.",
    429: "Too many attempts; wait a minute and try again.",
    500: "Something went wrong on our side; it has been logged.",
}


def wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and not request.path.startswith(("/_dash", "/export/", "/api/"))


def render_error(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Request failed.")
    if wants_html():
        return render_template("error.html", status=status, message=message), status
    return jsonify(error=message), status


def init_app(server: Flask) -> None:
    @server.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return render_error(400, "Your form expired or was not sent from this site; reload the page and try again.")

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 429 and request.endpoint == "auth.register":
            from mmm_dash.web.auth.forms import RegisterForm

            msg = "Too many sign-up attempts from your address; wait an hour and try again."
            return render_template("register.html", form=RegisterForm(), error=msg), 429
        return render_error(exc.code or 500)

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)
