"""Simulated analysts for Locust (run by `python -m mmm_dash loadtest`, in a process of its own:
Locust monkey-patches the standard library with gevent).

The run's plan is a JSON file named by MMM_LOADTEST_PLAN: replica URLs, accounts, the ready models
and periods, think time, the goals. User i talks to replica i mod N (as sticky sessions behind a
load balancer would) and sends `X-Forwarded-For: 10.<run>.<i div 250>.<i mod 250 + 1>`: the replicas
trust one proxy hop, so each user has its own client address for the sign-in limits (30 attempts a
minute per address), as real users behind a load balancer do. Without it every simulated user would
share 127.0.0.1 and the limit would, correctly, refuse most of them.

What a user does, between actions thinking 1-3 s (the plan's "wait"), by weight out of 22:
- works on a page (12), opening it first when needed; one of: move a scenario slider (6), run the
  optimizer with a mode and budget of its choice (2), reset the scenario (1), show another scenario
  curve (1), pick a response-curve channel (3), switch the contribution chart (2);
- opens another page from the navbar (6);
- picks another period or model in the page's selectors (2);
- downloads an export of the current view from the Download menu (2).
Each of these is what Dash's renderer would send for it (see browser.py), named by request kind.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import random
import time
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV, StatsEntry

from mmm_dash.loadtest.browser import ACTIONS, Answer, DashBrowser, StepFailed, start_search
from mmm_dash.loadtest.dash_protocol import CALLBACK_PATH

PLAN = json.loads(Path(os.environ["MMM_LOADTEST_PLAN"]).read_text())
CALLBACKS = "Dash callbacks (every kind)"  # the group the p99 goal is about
SIGN_IN_ATTEMPTS = 3
_numbers = itertools.count()
_callbacks: dict[str, StatsEntry] = {}
_samples: list[tuple[float, str, float, bool]] = []  # every request: start (epoch s), kind, ms, succeeded


class LocustTransport:
    """Requests through Locust's client, each recorded under its kind; a failed check is a failure."""

    def __init__(self, client, origin: str, client_address: str):
        self.client, self.origin, self.client_address = client, origin, client_address

    def send(self, method, path, *, name, check, json_body=None, form=None, redirects=True) -> Answer:
        headers = {"X-Forwarded-For": self.client_address}
        payload = None
        if json_body is not None:
            payload = json.dumps(json_body)
            headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        elif form is not None:
            payload = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST":
            headers["Origin"] = self.origin  # a browser's same-origin POST says where it comes from
        with self.client.request(
            method, path, name=name, data=payload, headers=headers, allow_redirects=redirects, catch_response=True
        ) as response:
            error = getattr(response, "error", None)
            raw_headers = response.headers or {}
            answer = Answer(
                response.status_code or 0,
                (response.text or "") if response.status_code else "",
                {str(k).lower(): v for k, v in raw_headers.items()},
            )
            problem = check(answer)
            if problem and not response.status_code and error is not None:
                problem = f"{problem}: {error!r}"
            if problem:
                response.failure(problem)
            else:
                response.success()
        if problem:
            raise StepFailed(name, problem)
        return answer


class Analyst(FastHttpUser):
    host = PLAN["hosts"][0]
    wait_time = between(*PLAN["wait"])
    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment):
        self.number = next(_numbers)
        self.host = PLAN["hosts"][self.number % len(PLAN["hosts"])]
        super().__init__(environment)
        n = self.number
        address = f"10.{PLAN['address_octet']}.{n // 250}.{n % 250 + 1}"
        rng = random.Random(f"{PLAN['seed']}-{n}")
        self.browser = DashBrowser(LocustTransport(self.client, self.host, address), rng)
        self.email, self.password = PLAN["accounts"][n % len(PLAN["accounts"])]
        self.signed_in = False
        self.sign_ins = 0
        self.tour = self.browser.tour(PLAN["pages"]) if PLAN.get("tour") else []

    def on_start(self) -> None:
        self._arrive()

    def _arrive(self) -> None:
        """Sign in, then open a link to some page of some ready model and period (as from a bookmark)."""
        rng = self.browser.rng
        try:
            if not self.signed_in:
                if self.sign_ins >= SIGN_IN_ATTEMPTS:
                    raise StopUser()
                self.sign_ins += 1
                self.browser.sign_in(self.email, self.password)
                self.signed_in = True
            model, period = rng.choice(PLAN["views"])
            self.browser.open_app(rng.choice(PLAN["pages"]), start_search(model, period))
        except StepFailed:
            pass

    def _do(self, step) -> None:
        if not self.signed_in or not self.browser.nav_links():
            self._arrive()
            return
        if self.tour:  # --tour: everything once first, whatever task came up
            step = self.tour.pop(0)
        with contextlib.suppress(StepFailed):  # recorded; the user carries on from where the page is
            step()

    @task(6)
    def browse(self) -> None:
        self._do(self.browser.open_page)

    @task(12)
    def work_on_a_page(self) -> None:
        action = self.browser.rng.choices(ACTIONS, weights=[a.weight for a in ACTIONS])[0]
        self._do(lambda: self.browser.act(action))

    @task(2)
    def change_view(self) -> None:
        self._do(self.browser.change_view)

    @task(2)
    def download(self) -> None:
        self._do(self.browser.download)


@events.init.add_listener
def _group_stats(environment, **_kwargs) -> None:
    _callbacks["all"] = StatsEntry(environment.stats, CALLBACKS, "POST")


@events.request.add_listener
def _log_callback(
    request_type, name, response_time, response_length, exception=None, url=None, start_time=None, **_kwargs
) -> None:
    _samples.append((start_time or time.time(), name, response_time, exception is None))
    if url and url.endswith(CALLBACK_PATH) and "all" in _callbacks:
        _callbacks["all"].log(response_time, response_length or 0)
        if exception:
            _callbacks["all"].log_error(exception)


def group_summary(entry: StatsEntry) -> dict:
    return {
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "p50_ms": entry.get_response_time_percentile(0.5),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "max_ms": entry.max_response_time,
        "rps": entry.total_rps,
    }


@events.quitting.add_listener
def _final_figures(environment, **_kwargs) -> None:
    """Write the final statistics (Locust's own CSV format) and the callback group's figures; exit
    non-zero when a goal is missed. Locust's `--csv` files are rewritten once a second while it runs,
    so they can miss the requests of the last second and of users finishing during the stop; this
    listener runs after every user has stopped."""
    if PLAN.get("final_csv"):
        writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
        for suffix, write in (
            ("stats", writer.requests_csv),
            ("failures", writer.failures_csv),
            ("exceptions", writer.exceptions_csv),
        ):
            with open(f"{PLAN['final_csv']}_{suffix}.csv", "w", newline="") as fh:
                write(csv.writer(fh))
    if PLAN.get("samples_out"):
        with open(PLAN["samples_out"], "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["start", "kind", "ms", "ok"])
            out.writerows((f"{t:.3f}", kind, f"{ms:.1f}", int(ok)) for t, kind, ms, ok in _samples)
    summary = group_summary(_callbacks["all"]) if "all" in _callbacks else None
    if PLAN.get("group_out") and summary is not None:
        Path(PLAN["group_out"]).write_text(json.dumps(summary))
    total = environment.stats.total
    missed = total.num_failures > PLAN["max_failures"] or (summary or {}).get("p99_ms", 0) > PLAN["p99_ms"]
    environment.process_exit_code = 1 if missed else 0
