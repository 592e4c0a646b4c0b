"""Browser-facing hardening, one place: security headers on every response, an `Origin` check on
every state-changing request (forms and Dash callbacks alike), and a shape check of Dash callback
requests so a malformed post is a 400 with a message, not a 500 from inside Dash."""

from __future__ import annotations

from urllib.parse import urlsplit

import dash
from flask import Response, request

from mmm_dash.web.errors import render_error

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DASH_UPDATE = "/_dash-update-component"

# Dash's renderer boots from one inline script, allowed by its hash (Dash computes it); Plotly and
# React set inline styles, hence 'unsafe-inline' for styles only. Images include data:/blob: for
# Bootstrap's icons and Plotly's "download as PNG". No other origin is ever contacted.
CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self' {script_hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def same_origin(origin: str, host: str) -> bool:
    """True when `origin` (an Origin or Referer header) names this host. The scheme is not compared:
    behind a TLS-terminating proxy the app itself sees http while the browser says https."""
    netloc = urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == host.lower()


def cross_site_request() -> bool:
    """A state-changing request a browser sent from another site (no header at all: not a browser)."""
    if request.method not in STATE_CHANGING:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        origin = request.headers.get("Referer")
    if origin is None:
        return False
    return not same_origin(origin, request.host)


def _is_dependency(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("property"), str) and isinstance(
        value.get("id"), str | dict
    )


def _dependency_list(value) -> bool:
    """Dash's inputs/state: a list whose items are one dependency or a list of them (pattern-matching)."""
    return isinstance(value, list) and all(
        _is_dependency(item) or (isinstance(item, list) and all(_is_dependency(i) for i in item)) for item in value
    )


def callback_request_problem(body, callback_map: dict) -> str | None:
    """Why a Dash callback request body cannot be a request from Dash's own renderer, or None."""
    if not isinstance(body, dict):
        return "A callback request must be a JSON object."
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "The callback request names no known output."
    inputs, state = body.get("inputs", []), body.get("state", [])
    if not _dependency_list(inputs) or not _dependency_list(state):
        return "The callback inputs are malformed."
    outputs = body.get("outputs", [])
    if not (_is_dependency(outputs) or _dependency_list(outputs)):
        return "The callback outputs are malformed."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "The callback's changed properties are malformed."
    spec = callback_map[output]
    expected = len(spec.get("inputs", [])) + len(spec.get("state", []))
    if len(inputs) + len(state) != expected:
        return "The callback received the wrong number of inputs."
    return None


def init_app(app: dash.Dash) -> None:
    server = app.server
    csp_cache: dict[str, str] = {}

    def content_security_policy() -> str:
        # Computed on first use: the hashes cover every inline script the pages have registered.
        if "csp" not in csp_cache:
            csp_cache["csp"] = CSP_TEMPLATE.format(script_hashes=" ".join(app.csp_hashes()))
        return csp_cache["csp"]

    @server.before_request
    def refuse_cross_site_and_malformed():
        if cross_site_request():
            return render_error(403, "This request came from another site and was refused.")
        if request.method == "POST" and request.path == app.config.requests_pathname_prefix + DASH_UPDATE[1:]:
            body = request.get_json(silent=True)
            problem = callback_request_problem(body, app.callback_map)
            if problem:
                return render_error(400, problem)
        return None

    @server.after_request
    def security_headers(response: Response) -> Response:
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response
