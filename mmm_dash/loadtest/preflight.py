"""Before the load: one signed-in browser (the same DashBrowser the simulated users run) finds the
ready models, their periods and the pages, then sends every page, every page action and every
export once on the first replica, and a page, an action and a download on each other replica with
the same session cookie. A payload the app refuses stops the run here with its reason, instead of
showing up as a thousand failures."""

from __future__ import annotations

import dataclasses
import random
from urllib.parse import urlsplit

import requests

from mmm_dash.loadtest.browser import ACTIONS, Answer, DashBrowser, StepFailed, start_search
from mmm_dash.loadtest.dash_protocol import option_values
from mmm_dash.loadtest.replicas import LoadTestError

NOT_READY = {"building": "still being analysed", "model-error": "failed to load"}


class RequestsTransport:
    """The DashBrowser's requests through `requests`, from one client address; raises on a problem."""

    def __init__(self, base: str, client_address: str, session: requests.Session | None = None):
        self.base, self.client_address = base, client_address
        self.session = session or requests.Session()
        self.sent = 0

    def send(self, method, path, *, name, check, json_body=None, form=None, redirects=True) -> Answer:
        headers = {"X-Forwarded-For": self.client_address}
        if method == "POST":
            headers["Origin"] = self.base
        response = self.session.request(
            method, self.base + path, json=json_body, data=form, headers=headers, allow_redirects=redirects, timeout=60
        )
        self.sent += 1
        answer = Answer(response.status_code, response.text, {k.lower(): v for k, v in response.headers.items()})
        problem = check(answer)
        if problem:
            raise StepFailed(name, f"{problem} ({method} {self.base}{path})")
        return answer


@dataclasses.dataclass
class Discovery:
    views: list[tuple[str, str]]  # (model, period) of every ready model
    pages: list[str]
    not_ready: dict[str, str]  # model -> why it is left out
    requests: int


def _not_ready_reason(browser: DashBrowser) -> str | None:
    for component, reason in NOT_READY.items():
        if component in browser.page.components:
            return reason
    return None


def discover(hosts: list[str], email: str, password: str, client_address: str, seed: int = 0) -> Discovery:
    """Ready models and periods, and every payload checked once (see the module docstring)."""
    transport = RequestsTransport(hosts[0], client_address)
    rng = random.Random(seed)
    try:
        scout = DashBrowser(transport, rng, tolerate=frozenset(NOT_READY))
        scout.sign_in(email, password)
        scout.open_app("/", "")
        if "model-select" not in scout.page.components:
            raise LoadTestError("the app shows no model selector: is there a model in MODEL_DIR?")
        models = option_values(scout.page.components["model-select"]["props"])
        pages = sorted(scout.nav_links())
        views, not_ready = [], {}
        for model in models:
            scout.navigate("/", start_search(model, "all"))
            reason = _not_ready_reason(scout)
            if reason:
                not_ready[model] = reason
                continue
            views += [(model, p) for p in option_values(scout.page.components["period-select"]["props"])]
        if not views:
            raise LoadTestError(f"no model is ready to serve ({not_ready}); build bundles first (`precompute`).")

        browser = DashBrowser(transport, rng)
        browser.open_app("/", start_search(*views[0]))
        for model, period in views:
            browser.navigate("/", start_search(model, period))
            for path in pages:
                browser.open_page(path)
                for action in browser.actions_here():
                    for option in _options_to_try(browser, action):
                        browser.act(action, option=option)
            for href in browser.exports():
                browser.download(href)
        for host in hosts[1:]:  # the same session cookie on another replica: a shared SECRET_KEY
            other = DashBrowser(RequestsTransport(host, client_address, transport.session), rng)
            if urlsplit(host).hostname != urlsplit(hosts[0]).hostname:  # cookies are per host name
                other.sign_in(email, password)
            other.open_app("/scenarios", start_search(*views[-1]))
            other.act(ACTIONS[0])
            other.download()
            transport.sent += other.transport.sent
    except StepFailed as exc:
        raise LoadTestError(f"preflight failed: {exc}") from None
    except requests.RequestException as exc:
        raise LoadTestError(f"preflight could not reach a replica: {exc}") from None
    return Discovery(views, pages, not_ready, transport.sent)


def _options_to_try(browser: DashBrowser, action) -> list:
    """Every optimizer mode once; one random change for the other actions."""
    if action.name == "optimizer" and "sc-mode" in browser.page.components:
        return option_values(browser.page.components["sc-mode"]["props"])
    return [None]
