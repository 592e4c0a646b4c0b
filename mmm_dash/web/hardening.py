"""Browser-facing hardening, one place: security headers on every response, an `Origin` check on
every state-changing request (forms and Dash callbacks alike), and a shape check of Dash callback
requests so a malformed post is a 400 with a message, not a 500 from inside Dash; and a guard around
Dash's callback dispatch so no callback body or page error is ever a 500 with a traceback."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import dash
from dash._callback import _invoke_callback
from dash.exceptions import InvalidCallbackReturnValue, PreventUpdate
from flask import Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from mmm_dash.web.errors import PageError, render_error

log = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DASH_UPDATE = "/_dash-update-component"
# Where a page callback that failed says so (a div in every page's shell, see dashboard/shell.py).
CALLBACK_ERROR_ID = "callback-error"
CALLBACK_FAILED = "That action failed on our side and has been logged; reload the page and try again."
CALLBACK_MISMATCH = "The callback request does not match this page; reload the page."
# Browsers remember for a year to use HTTPS only (sent in production and on any HTTPS request).
HSTS = "max-age=31536000; includeSubDomains"
# Responses that are one user's data and must not be kept by browsers or shared caches.
PRIVATE_PREFIXES = ("/admin",)

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


MAX_JSON_DEPTH = 100
NOT_JSON = "A callback request must be a JSON object."
TOO_DEEP = f"The callback request nests deeper than {MAX_JSON_DEPTH} levels."
# Properties whose value Dash's components always send as one type (None: not set yet).
TEXT_PROPERTIES = frozenset({"search", "pathname", "hash", "href"})
COUNT_PROPERTIES = frozenset({"n_clicks", "n_intervals", "n_submit", "n_blur"})


def nesting_exceeds(value, limit: int) -> bool:
    """True when `value` (parsed JSON) nests lists and objects deeper than `limit` (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def callback_json() -> tuple[object, str | None]:
    """The JSON body of a callback request, parsed once per request, and why it cannot be one (or None):
    not JSON, or nested deeper than MAX_JSON_DEPTH (a 50,000-deep body exhausts Python's recursion)."""
    if "callback_json" not in g:
        try:
            body, problem = json.loads(request.get_data(cache=True)), None
        except ValueError:
            body, problem = None, NOT_JSON
        except RecursionError:
            body, problem = None, TOO_DEEP
        if problem is None and nesting_exceeds(body, MAX_JSON_DEPTH):
            body, problem = None, TOO_DEEP
        g.callback_json = (body, problem)
    return g.callback_json


def _value_fits(prop: str, value) -> bool:
    if value is None:
        return True
    if prop == "pathname":
        return isinstance(value, str) and value.startswith("/")
    if prop in TEXT_PROPERTIES:
        return isinstance(value, str)
    if prop in COUNT_PROPERTIES:
        return isinstance(value, int) and not isinstance(value, bool)
    return True


def _pattern_fits(pattern: dict, component) -> bool:
    """A concrete pattern-matching id against the callback's pattern (wildcards match a str or int)."""
    if not isinstance(component, dict) or component.keys() != pattern.keys():
        return False
    for key, wanted in pattern.items():
        got = component[key]
        if isinstance(wanted, list):  # a wildcard: ["ALL"], ["MATCH"], ["ALLSMALLER"]
            if isinstance(got, bool) or not isinstance(got, str | int):
                return False
        elif got != wanted:
            return False
    return True


def _dependency_fits(wanted: dict, item, with_value: bool) -> bool:
    """One item of a body's inputs/state/outputs against the callback's declared dependency."""
    component, prop = wanted["id"], wanted["property"]

    def one(dep, concrete) -> bool:
        sent = dep.get("property") if isinstance(dep, dict) else None
        if not with_value and isinstance(sent, str):  # an allow_duplicate output is sent as "prop@<hash>"
            sent = sent.split("@", 1)[0]
        return (
            isinstance(dep, dict)
            and sent == prop
            and concrete(dep.get("id"))
            and (not with_value or _value_fits(prop, dep.get("value")))
        )

    if component.startswith("{"):
        pattern = json.loads(component)
        return isinstance(item, list) and all(one(dep, lambda c: _pattern_fits(pattern, c)) for dep in item)
    return one(item, lambda c: c == component)


def _dependencies_fit(wanted: list[dict], items, with_value: bool = True) -> bool:
    return (
        isinstance(items, list)
        and len(items) == len(wanted)
        and all(_dependency_fits(w, i, with_value) for w, i in zip(wanted, items, strict=True))
    )


def _declared_outputs(spec: dict) -> list[dict] | None:
    """The callback's outputs as {"id", "property"} dicts (a list for a multi-output callback)."""
    output = spec.get("output")
    if isinstance(output, list | tuple):
        return [o.to_dict() for o in output]
    return None if output is None else output.to_dict()


def callback_request_problem(body, callback_map: dict) -> str | None:
    """Why a Dash callback request body cannot be a request from Dash's own renderer for the callback it
    names, or None: its inputs, state and outputs must be the callback's own, in its order and shape."""
    if not isinstance(body, dict):
        return NOT_JSON
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "The callback request names no known output."
    spec = callback_map[output]
    inputs, state = body.get("inputs"), body.get("state", [])
    if not isinstance(inputs, list) or not isinstance(state, list):
        return "The callback inputs are malformed."
    if len(inputs) + len(state) != len(spec.get("inputs", [])) + len(spec.get("state", [])):
        return "The callback received the wrong number of inputs."
    if not _dependencies_fit(spec.get("inputs", []), inputs) or not _dependencies_fit(spec.get("state", []), state):
        return "The callback inputs are malformed."
    declared, outputs = _declared_outputs(spec), body.get("outputs")
    if spec.get("no_output"):
        pass
    elif isinstance(declared, list):
        if not _dependencies_fit(declared, outputs, with_value=False):
            return "The callback outputs are malformed."
    elif declared is None or not _dependency_fits(declared, outputs, with_value=False):
        return "The callback outputs are malformed."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "The callback's changed properties are malformed."
    return None


def _raised_by_page(exc: BaseException) -> bool:
    """True when `exc` came from a page's callback function or from Dash checking what it returned
    (a page bug), False when Dash refused the request before calling the page (a malformed body)."""
    if isinstance(exc, InvalidCallbackReturnValue):
        return True
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is _invoke_callback.__code__:
            return tb.tb_next is not None
        tb = tb.tb_next
    return False


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame of `exc` in this package (or the innermost at all)."""
    tb, found = exc.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if found is None or "mmm_dash" in code.co_filename:
            found = f"{code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found or "?"


def callback_failed(output: str, exc: Exception):
    """A page callback that raised: one log line (no traceback, no values), and the page's alert area
    says one sentence (a PageError's own, else CALLBACK_FAILED); the callback's own outputs keep what
    they showed (HTTP 200, Dash's `sideUpdate`)."""
    message = str(exc).replace("\n", " ")[:200]
    if isinstance(exc, PageError):
        log.warning("Callback %s answered: %s", output[:200], message)
        sentence = str(exc)
    else:
        log.error("Callback %s failed: %s: %s (%s)", output[:200], type(exc).__name__, message, _where(exc))
        sentence = CALLBACK_FAILED
    return jsonify(multi=True, response={}, sideUpdate={CALLBACK_ERROR_ID: {"children": sentence}})


def guard_dispatch(dispatch: Callable[[], Response]) -> Callable[[], Response]:
    """Dash's callback view, answering for every exception itself: a page's error is a sentence on the
    page (see callback_failed), a body Dash cannot use is a 400 with one sentence and one log line."""

    @functools.wraps(dispatch)
    def guarded() -> Response:
        try:
            return dispatch()
        except (PreventUpdate, HTTPException):
            raise
        except Exception as exc:
            body, _problem = callback_json()
            output = body.get("output") if isinstance(body, dict) else None
            output = output if isinstance(output, str) else "?"
            if _raised_by_page(exc):
                return callback_failed(output, exc)
            log.warning("Refused callback %s: %s: %s", output[:200], type(exc).__name__, str(exc)[:200])
            return render_error(400, CALLBACK_MISMATCH)

    return guarded


def init_app(app: dash.Dash) -> None:
    server = app.server
    settings = server.extensions["mmm_dash"].settings
    csp_cache: dict[str, str] = {}
    dispatch_endpoint = app.config.routes_pathname_prefix + DASH_UPDATE[1:]
    server.view_functions[dispatch_endpoint] = guard_dispatch(server.view_functions[dispatch_endpoint])

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
            body, problem = callback_json()
            problem = problem or callback_request_problem(body, app.callback_map)
            if problem:
                log.warning("Refused a callback request: %s", problem)
                return render_error(400, problem)
        return None

    @server.after_request
    def security_headers(response: Response) -> Response:
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        if settings.is_production or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.path == app.config.requests_pathname_prefix + DASH_UPDATE[1:] or request.path.startswith(
            PRIVATE_PREFIXES
        ):
            response.headers["Cache-Control"] = "no-store"
        return response
