"""One simulated analyst's browser: it signs in through the form, loads the Dash app, and then does
what Dash's renderer does for a person clicking around: navigation fires the pages router, a
changed control fires every callback that has it as an input, an answer's changed props fire the
callbacks that depend on them, and new components fire their initial callbacks. Requests go through
a transport (Locust's client in the load test, `requests` in the CLI's preflight), so the preflight
exercises exactly the payloads the load test sends.

Every request is named by its kind ("login", "page:/roi", "callback:curve-panels", "scenario",
"optimizer", "export:metrics.json", ...) so statistics come per kind."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from mmm_dash.loadtest.dash_protocol import (
    CALLBACK_PATH,
    Page,
    answer_problem,
    callback_body,
    components_by_id,
    id_key,
    is_pattern,
    matches,
    option_values,
)

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ROUTER_CONTENT = "_pages_content"

MAX_CASCADE = 4  # answers firing callbacks firing callbacks: the app needs two levels
# Names of callbacks by their first output (others are "callback:<first output id>").
NAMES_BY_OUTPUT = {"url": "callback:url-search", "sc-summary": "scenario:results", "sc-spend": "scenario"}


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    text: str
    headers: dict  # lower-cased names


SIGN_IN_BUSY_RETRIES = 5


class StepFailed(Exception):
    """A request failed (already recorded by the transport); the user drops what they were doing."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name}: {problem}")
        self.name, self.problem = name, problem


Check = Callable[[Answer], "str | None"]


class Transport(Protocol):
    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        check: Check,
        json_body: dict | None = None,
        form: dict | None = None,
        redirects: bool = True,
    ) -> Answer:
        """Send one request, record it under `name`, and raise StepFailed when `check` finds a problem."""


@dataclasses.dataclass(frozen=True)
class Action:
    """Something an analyst does on a page: change one control (its callbacks are what Dash fires)."""

    name: str
    path: str
    component: str  # a component id, or the `type` of pattern-matching ids (one of them is picked)
    prop: str
    how: str  # "option": another of its options; "slider": another position; "click": one more click
    weight: int


ACTIONS = (
    Action("scenario", "/scenarios", "sc-slider", "value", "slider", 6),
    Action("optimizer", "/scenarios", "sc-optimize", "n_clicks", "click", 2),
    Action("scenario:reset", "/scenarios", "sc-reset", "n_clicks", "click", 1),
    Action("scenario:curve", "/scenarios", "sc-curve-channel", "value", "option", 1),
    Action("callback:curve-panels", "/response-curves", "curve-channel", "value", "option", 3),
    Action("callback:contribution-chart", "/contribution", "contribution-chart-type", "value", "option", 2),
)


def _status_is(*wanted: int) -> Check:
    return lambda a: None if a.status in wanted else f"HTTP {a.status}"


class DashBrowser:
    def __init__(self, transport: Transport, rng: random.Random | None = None, tolerate: frozenset = frozenset()):
        self.transport = transport
        self.rng = rng or random.Random()
        self.tolerate = tolerate  # problem components (dash_protocol.PROBLEM_IDS) not counted as failures
        self.deps: list[dict] = []
        self.page = Page({})
        self.path, self.search = "/", ""
        self.arrived: dict[str, dict] = {}  # the current page's components as they came (before any change)

    # -- session ---------------------------------------------------------------------------------
    def sign_in(self, email: str, password: str) -> None:
        """The sign-in form: GET for its CSRF token, POST; success is the redirect into the app."""
        form = self.transport.send(
            "GET", "/login", name="login:form", check=lambda a: _status_is(200)(a) or _token_problem(a)
        )
        data = {"email": email, "password": password, "csrf_token": CSRF.search(form.text).group(1)}
        for _ in range(SIGN_IN_BUSY_RETRIES):  # "too many sign-ins at once": a person clicks again a second later
            answer = self.transport.send(
                "POST", "/login", name="login", form=data, redirects=False, check=_signed_in_or_busy
            )
            if not _busy(answer):
                return
            time.sleep(1)
        self.transport.send("POST", "/login", name="login", form=data, redirects=False, check=_signed_in)

    def open_app(self, path: str = "/", search: str = "") -> None:
        """What a browser fetches for a link into the app, then the page's callbacks."""
        self.transport.send("GET", path + search, name="app:index", check=_status_is(200))
        layout = self.transport.send("GET", "/_dash-layout", name="app:layout", check=_json_problem)
        deps = self.transport.send("GET", "/_dash-dependencies", name="app:dependencies", check=_json_problem)
        self.page = Page(components_by_id(json.loads(layout.text)))
        self.deps = [d for d in json.loads(deps.text) if not d.get("clientside_function")]
        self.path, self.search = "/", ""
        self.navigate(path, search)

    # -- what a person does ----------------------------------------------------------------------
    def navigate(self, path: str, search: str) -> None:
        """Follow a link inside the app: every dcc.Location sees the new URL; Dash fires what depends on it."""
        changes = self._set_locations(path, search)
        self._fire(changes)

    def nav_links(self) -> dict[str, str]:
        """path -> href of the navbar's page links (carrying the current model and period)."""
        links = {}
        for key, comp in self.page.components.items():
            href = comp["props"].get("href")
            if key.startswith("nav-") and isinstance(href, str) and href.startswith("/"):
                links[urlsplit(href).path] = href
        return links

    def open_page(self, path: str | None = None) -> str:
        """Click a navbar link (a random other page when `path` is None); returns the path opened."""
        links = self.nav_links()
        choices = [p for p in links if p != self.path] or list(links)
        path = path if path in links else self.rng.choice(sorted(choices))
        target = urlsplit(links[path])
        self.navigate(target.path, f"?{target.query}" if target.query else "")
        return target.path

    def change_view(self, control: str | None = None, value=None) -> bool:
        """Pick another model or period in the page's selectors; False when neither offers another."""
        controls = [control] if control else ["period-select", "model-select"]
        options = {
            c: [v for v in option_values(self.page.components[c]["props"]) if v != self.page.value(c, "value")]
            for c in controls
            if c in self.page.components
        }
        options = {c: v for c, v in options.items() if v}
        if not options:
            return False
        control = control if control in options else self.rng.choice(sorted(options))
        value = value if value is not None else self.rng.choice(options[control])
        self.page.set(control, "value", value)
        self._fire({(control, "value")})
        return True

    def actions_here(self) -> list[Action]:
        return [a for a in ACTIONS if a.path == self.path and self._targets(a)]

    def act(self, action: Action, option=None) -> None:
        """Change the action's control as a person would, on its page (opening the page first);
        `option` fixes the choice (the optimizer's mode, or the control's new value)."""
        if self.path != action.path:
            self.open_page(action.path)
        targets = self._targets(action)
        if not targets:
            return
        key = self.rng.choice(targets)
        props = self.page.components[key]["props"]
        if action.how == "option":
            values = [v for v in option_values(props) if v != props.get(action.prop)]
            if not values:
                return
            value = option if option in values else self.rng.choice(values)
        elif action.how == "slider":
            low, high, step = props.get("min", 0), props.get("max", 100), props.get("step") or 1
            positions = [v for v in range(int(low), int(high) + 1, int(step)) if v != props.get(action.prop)]
            value = self.rng.choice(positions)
        else:  # click
            value = (props.get(action.prop) or 0) + 1
            if action.name == "optimizer":
                self._optimizer_settings(option)
        self.page.set(key, action.prop, value)
        self._fire({(key, action.prop)}, name=action.name)

    def exports(self) -> list[str]:
        """The navbar's download links for the current model and period."""
        return sorted(
            c["props"]["href"]
            for c in self.page.components.values()
            if isinstance(c["props"].get("href"), str) and c["props"]["href"].startswith("/export/")
        )

    def download(self, href: str | None = None) -> None:
        """Download `href`, or one of the current view's exports."""
        href = href or self.rng.choice(self.exports())
        filename = urlsplit(href).path.rsplit("/", 1)[-1]
        self.transport.send("GET", href, name=f"export:{filename}", check=_download_problem)

    def tour(self, pages: list[str]) -> list[Callable[[], object]]:
        """Every page, every page action, a change of view and every download, once each (a short run
        then shows every request kind)."""
        steps: list[Callable[[], object]] = [lambda p=p: self.open_page(p) for p in pages]
        steps += [lambda a=a: self.act(a) for a in ACTIONS]
        steps.append(self.change_view)
        steps.append(lambda: [self.download(href) for href in self.exports()])  # the whole Download menu
        return steps

    # -- the renderer ----------------------------------------------------------------------------
    def _targets(self, action: Action) -> list[str]:
        return [
            key
            for key, comp in self.page.components.items()
            if (comp["id"] == action.component)
            or (isinstance(comp["id"], dict) and comp["id"].get("type") == action.component)
        ]

    def _optimizer_settings(self, mode=None) -> None:
        """An analyst picks a mode and, for a fixed budget, types one within the default bounds
        (80-120% of the historical total; the bounds allow 70-130%)."""
        if "sc-mode" in self.page.components:
            modes = option_values(self.page.components["sc-mode"]["props"])
            self.page.set("sc-mode", "value", mode if mode in modes else self.rng.choice(modes))
        historical = (self.arrived.get("sc-spend") or {}).get("props", {}).get("data")
        if isinstance(historical, list) and historical:
            self.page.set("sc-budget", "value", round(sum(historical) * self.rng.uniform(0.8, 1.2)))

    def _set_locations(self, path: str, search: str) -> set[tuple[str, str]]:
        self.path, self.search = path, search
        changes = set()
        for key, comp in self.page.components.items():
            if comp["type"] == "Location":
                for prop, value in (("pathname", path), ("search", search)):
                    if comp["props"].get(prop) != value:
                        comp["props"][prop] = value
                        changes.add((key, prop))
        return changes

    def _inputs_hit(self, dep: dict, changes: set[tuple[str, str]]) -> list[str]:
        hit = []
        for spec in dep["inputs"]:
            for key, prop in changes:
                if prop != spec["property"]:
                    continue
                if key == spec["id"] or (is_pattern(spec["id"]) and key.startswith("{") and _fits(spec["id"], key)):
                    hit.append(f"{key}.{prop}")
        return hit

    def _ready(self, dep: dict) -> bool:
        return all(self.page.has(s["id"]) for s in dep["inputs"])

    def _fire(
        self,
        changes: set[tuple[str, str]],
        name: str | None = None,
        source: dict | None = None,
        new: set[str] = frozenset(),
        depth: int = 0,
    ) -> None:
        """Send every callback that `changes` (or newly added components `new`) trigger, then cascade."""
        if depth > MAX_CASCADE:
            return
        for dep in self.deps:
            if dep is source or not self._ready(dep):
                continue
            hit = self._inputs_hit(dep, changes)
            initial = not hit and not dep.get("prevent_initial_call") and any(s["id"] in new for s in dep["inputs"])
            if not hit and not initial:
                continue
            body = callback_body(dep, self.page, hit)
            kind = name or self._kind(dep)
            answer = self.transport.send(
                "POST",
                CALLBACK_PATH,
                name=kind,
                json_body=body,
                check=lambda a, b=body: answer_problem(a.status, a.text, b, self.tolerate),
            )
            next_changes, added = self._apply(answer)
            if next_changes or added:
                self._fire(next_changes, source=dep, new=added, depth=depth + 1)

    def _kind(self, dep: dict) -> str:
        first = dep["output"].removeprefix("..").split(".", 1)[0]
        if first == ROUTER_CONTENT:
            return f"page:{self.path}"
        if first.startswith("nav-"):
            return "callback:nav-links"
        return NAMES_BY_OUTPUT.get(first, f"callback:{first}")

    def _apply(self, answer: Answer) -> tuple[set[tuple[str, str]], set[str]]:
        """Put the answer's props on the page; returns (changed props, ids of new components)."""
        response = json.loads(answer.text)["response"]
        changes, added = set(), set()
        location = None
        for key, props in response.items():
            for prop, value in props.items():
                old = self.page.value(key, prop)
                if prop == "children":
                    if old is not None:
                        self.page.remove_inside(old)
                    found = self.page.add(value)
                    added |= found
                    if key == ROUTER_CONTENT:
                        self.arrived = {k: {"props": dict(self.page.components[k]["props"])} for k in found}
                if old != value:
                    self.page.set(key, prop, value)
                    changes.add((key, prop))
                    if self.page.components[key]["type"] == "Location" and prop in ("pathname", "search"):
                        location = (key, prop, value)
        if location:  # a Location changed by a callback moves the browser's URL: every Location follows
            _key, prop, value = location
            path, search = (value, self.search) if prop == "pathname" else (self.path, value)
            changes |= self._set_locations(path, search)
        return changes, added


def _fits(pattern: str, key: str) -> bool:
    return matches(pattern, json.loads(key))


def _token_problem(answer: Answer) -> str | None:
    return None if CSRF.search(answer.text) else "the sign-in form has no CSRF token"


def _busy(answer: Answer) -> bool:
    """The app's answer when every sign-in slot of the process is taken (see auth/passwords.py)."""
    return answer.status == 429 and answer.headers.get("retry-after") == "1" and "at once" in answer.text


def _signed_in_or_busy(answer: Answer) -> str | None:
    return None if _busy(answer) else _signed_in(answer)


def _signed_in(answer: Answer) -> str | None:
    """A sign-in succeeds with a redirect into the app; the form again (401, 429, 400) is a failure."""
    if answer.status != 302:
        return f"HTTP {answer.status}" + (" (sign-in throttled)" if answer.status == 429 else "")
    if urlsplit(answer.headers.get("location", "")).path.startswith("/login"):
        return "redirected back to the sign-in form"
    return None


def _json_problem(answer: Answer) -> str | None:
    if answer.status != 200:
        return f"HTTP {answer.status}"
    return None if answer.text.lstrip()[:1] in "[{" else "the answer is not JSON"


def _download_problem(answer: Answer) -> str | None:
    if answer.status != 200:
        return f"HTTP {answer.status}"
    if "attachment" not in answer.headers.get("content-disposition", ""):
        return "not a download (no Content-Disposition: attachment)"
    if answer.text or int(answer.headers.get("content-length") or 0) > 0:  # a binary file (report.pptx) has no text
        return None
    return "an empty file"


def start_search(model: str, period: str) -> str:
    return "?" + urlencode({"model": model, "period": period})


__all__ = ["ACTIONS", "Action", "Answer", "DashBrowser", "StepFailed", "Transport", "id_key", "start_search"]
