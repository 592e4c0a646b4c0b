"""The load benchmark's own logic, without servers: callback requests built from a callback map and
a layout as Dash's renderer builds them, the renderer's cascade (navigation, answers, new
components), what counts as a failed answer, the loopback-only rule, and the report's figures."""

from __future__ import annotations

import csv
import json

import pytest

from mmm_dash.loadtest.browser import Answer, DashBrowser, StepFailed
from mmm_dash.loadtest.dash_protocol import (
    CALLBACK_PATH,
    Page,
    answer_problem,
    callback_body,
    components_by_id,
    id_key,
)
from mmm_dash.loadtest.replicas import LoadTestError, loopback_url
from mmm_dash.loadtest.report import read_result, table

SLIDERS = '{"index":["ALL"],"type":"sc-slider"}'


def component(kind: str, **props) -> dict:
    return {"type": kind, "namespace": "dash_core_components", "props": props}


def scenario_layout() -> dict:
    sliders = [component("Slider", id={"type": "sc-slider", "index": i}, value=100, min=0, max=200) for i in range(3)]
    return component(
        "Div",
        children=[
            component("Store", id="sc-spend", data=[1.0, 2.0, 3.0]),
            component("Div", children=list(reversed(sliders))),  # document order, not index order
        ],
    )


UPDATE = {
    "output": f"..sc-spend.data...{SLIDERS}.value..",
    "inputs": [{"id": SLIDERS, "property": "value"}],
    "state": [{"id": "sc-spend", "property": "data"}],
    "prevent_initial_call": True,
}


def test_a_callback_request_is_built_from_the_map_and_the_page():
    page = Page(components_by_id(scenario_layout()))
    moved = id_key({"type": "sc-slider", "index": 1})
    body = callback_body(UPDATE, page, [f"{moved}.value"], {f"{moved}.value": 150})

    order = [2, 1, 0]  # as the layout lists them
    assert body["output"] == UPDATE["output"]
    assert body["outputs"][0] == {"id": "sc-spend", "property": "data"}
    assert body["outputs"][1] == [{"id": {"type": "sc-slider", "index": i}, "property": "value"} for i in order]
    assert [(d["id"]["index"], d["value"]) for d in body["inputs"][0]] == [(2, 100), (1, 150), (0, 100)]
    assert body["state"] == [{"id": "sc-spend", "property": "data", "value": [1.0, 2.0, 3.0]}]
    assert body["changedPropIds"] == ['{"index":1,"type":"sc-slider"}.value']


def test_an_answer_is_a_failure_unless_it_updates_every_output_and_shows_no_problem():
    body = {"outputs": [{"id": "a", "property": "children"}, [{"id": {"type": "s", "index": 0}, "property": "value"}]]}
    ok = json.dumps({"multi": True, "response": {"a": {"children": "x"}, '{"index":0,"type":"s"}': {"value": 1}}})
    assert answer_problem(200, ok, body) is None
    assert "PreventUpdate" in answer_problem(204, "", body)
    assert answer_problem(500, "boom", body) == "HTTP 500"
    assert "lacks" in answer_problem(200, json.dumps({"response": {"a": {"children": "x"}}}), body)
    refused = json.dumps({"response": {"a": {"children": {"props": {"id": "sc-error-message"}}}}})
    assert "refused" in answer_problem(200, refused)
    building = json.dumps({"response": {"a": {"children": {"props": {"id": "building"}}}}})
    assert "being analysed" in answer_problem(200, building)
    assert answer_problem(200, building, tolerate=frozenset({"building"})) is None


class ScriptedApp:
    """A transport answering like the app would, recording what the browser sent."""

    def __init__(self, deps: list[dict], layout: dict, pages: dict[str, dict]):
        self.deps, self.layout, self.pages = deps, layout, pages
        self.sent: list[tuple[str, str, dict | None]] = []

    def send(self, method, path, *, name, check, json_body=None, form=None, redirects=True) -> Answer:
        self.sent.append((name, path, json_body))
        if path == "/_dash-layout":
            answer = Answer(200, json.dumps(self.layout), {})
        elif path == "/_dash-dependencies":
            answer = Answer(200, json.dumps(self.deps), {})
        elif path == CALLBACK_PATH:
            answer = Answer(200, json.dumps({"multi": True, "response": self._respond(json_body)}), {})
        else:
            answer = Answer(200, "<html></html>", {})
        problem = check(answer)
        if problem:
            raise StepFailed(name, problem)
        return answer

    def _respond(self, body: dict) -> dict:
        values = {f"{d['id']}.{d['property']}": d.get("value") for d in body["inputs"] if isinstance(d, dict)}
        if body["output"].startswith(".._pages_content"):
            return {"_pages_content": {"children": self.pages[values["_pages_location.pathname"]]}}
        if body["output"] == "links.children":
            return {"links": {"children": f"links for {values['url.search']}"}}
        if body["output"] == "results.children":
            return {"results": {"children": f"results for {values['chart-type.value']}"}}
        raise AssertionError(body["output"])


def test_the_browser_fires_what_the_renderer_would():
    deps = [
        {"output": "..links.children..", "inputs": [{"id": "url", "property": "search"}], "state": []},
        {"output": "results.children", "inputs": [{"id": "chart-type", "property": "value"}], "state": []},
        {
            "output": ".._pages_content.children..",
            "inputs": [{"id": "_pages_location", "property": "pathname"}],
            "state": [],
            "prevent_initial_call": True,
        },
        {"output": "x.y", "inputs": [{"id": "url", "property": "search"}], "clientside_function": {"x": 1}},
    ]
    deps[0]["output"] = "links.children"
    shell = component(
        "Div",
        children=[
            component("Location", id="url"),
            component("Location", id="_pages_location"),
            component("Div", id="_pages_content"),
            component("Div", id="links"),
        ],
    )
    chart = component("Div", children=[component("RadioItems", id="chart-type", value="bar", options=["bar", "pie"])])
    app = ScriptedApp(deps, shell, {"/chart": chart, "/plain": component("Div", id="plain")})
    browser = DashBrowser(app)
    browser.open_app("/chart", "?model=m")

    calls = [(name, body["output"]) for name, path, body in app.sent if path == CALLBACK_PATH]
    # the URL fires the links and the router; the new page's radio fires its (initial) callback; the
    # clientside callback sends nothing
    assert calls == [
        ("callback:links", "links.children"),
        ("page:/chart", ".._pages_content.children.."),
        ("callback:results", "results.children"),
    ]
    assert browser.page.value("results", "children") == "results for bar"
    app.sent.clear()
    from mmm_dash.loadtest.browser import Action

    browser.act(Action("callback:results", "/chart", "chart-type", "value", "option", 1))
    assert [(n, b["changedPropIds"]) for n, _p, b in app.sent] == [("callback:results", ["chart-type.value"])]
    assert browser.page.value("results", "children") == "results for pie"
    app.sent.clear()
    browser.navigate("/plain", "?model=m")  # same search: only the router fires; the old page's parts are gone
    assert [n for n, _p, _b in app.sent] == ["page:/plain"]
    assert "chart-type" not in browser.page.components and "plain" in browser.page.components


@pytest.mark.parametrize("url", ["http://127.0.0.1:8050", "http://localhost:8050/", "http://[::1]:9000"])
def test_loopback_targets_are_accepted(url):
    assert loopback_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://192.0.2.10:8050", "http://10.0.0.1", "ftp://127.0.0.1", "127.0.0.1:8050"])
def test_other_targets_are_refused(url):
    with pytest.raises(LoadTestError):
        loopback_url(url)


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)


STATS_HEADER = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
                "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
                "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]  # fmt: skip


def _stat(kind, method, n, failed, p50, p95, p99):
    return [method, kind, n, failed, p50, p50, 1, p99, 100, n / 60, 0, p50, p50, p50, p50, p95, p95, p99, p99, p99, p99,
            p99]  # fmt: skip


def test_the_report_reads_locusts_csv_and_judges_the_goals(tmp_path):
    prefix = tmp_path / "final"
    _write_csv(f"{prefix}_stats.csv", STATS_HEADER, [
        _stat("page:/roi", "POST", 100, 0, 12, 80, 140),
        _stat("login", "POST", 50, 0, 300, 900, 1200),
        _stat("Aggregated", "", 150, 0, 15, 600, 1100),
    ])  # fmt: skip
    _write_csv(f"{prefix}_failures.csv", ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"], [])
    _write_csv(f"{prefix}_exceptions.csv", ["Count", "Message", "Traceback", "Nodes"], [])
    group = tmp_path / "callbacks.json"
    group.write_text(json.dumps({"name": "Dash callbacks", "requests": 100, "failures": 0, "p50_ms": 12, "p95_ms": 80,
                                 "p99_ms": 140, "max_ms": 150, "rps": 1.7}))  # fmt: skip
    samples = tmp_path / "requests.csv"
    _write_csv(samples, ["start", "kind", "ms", "ok"], [
        [100.0, "login", 500, 1], [101.0, "login", 1500, 1],  # the last sign-in ends at 102.5
        [102.0, "page:/roi", 400, 1], [103.0, "page:/roi", 10, 1], [104.0, "scenario", 30, 1],
        [105.0, "export:x", 5, 1],
    ])  # fmt: skip

    result = read_result(prefix, group, max_failures=0, p99_target_ms=250, samples_file=samples)
    assert [r.kind for r in result.kinds] == ["login", "page:/roi"]
    assert result.problems == []
    assert (result.settled.requests, result.settled.p99_ms) == (2, 30)  # the 400 ms one came before
    assert "| page:/roi | 100 | 0 | 12 | 80 | 140 |" in table(result)

    strict = read_result(prefix, group, max_failures=0, p99_target_ms=100)
    assert strict.problems == ["p99 of Dash callbacks 140 ms (goal: ≤ 100 ms)"]
    _write_csv(f"{prefix}_exceptions.csv", ["Count", "Message", "Traceback", "Nodes"], [[2, "KeyError", "tb", "local"]])
    assert "2 errors in the simulated users' code" in read_result(prefix, group, 0, 250).problems[0]


def test_in_app_timings_come_from_the_replicas_request_logs(tmp_path):
    import datetime as dt

    from mmm_dash.loadtest.report import in_app_callbacks

    def stamp(seconds: float) -> str:
        return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]

    log = tmp_path / "replica-0.log"
    log.write_text(
        "\n".join(
            [
                f"{stamp(1000.0)} INFO mmm_dash.requests: POST /_dash-update-component 200 99.0ms",  # the preflight
                f"{stamp(1010.0)} INFO mmm_dash.requests: POST /_dash-update-component 200 4.0ms",
                f"{stamp(1011.0)} INFO mmm_dash.requests: GET /export/metrics.json 200 50.0ms",
                f"{stamp(1012.0)} INFO mmm_dash.requests: POST /_dash-update-component 500 8.0ms",
                "[2026-11-25 13:12:11 +0000] [15177] [INFO] Starting gunicorn 27.0.1",
            ]
        )
    )
    row = in_app_callbacks([log], since=1005.0, until=1020.0)
    assert (row.requests, row.failures, row.p50_ms, row.max_ms) == (2, 1, 4.0, 8.0)
    assert in_app_callbacks([log], since=2000.0, until=2001.0) is None


def test_a_binary_download_is_not_an_empty_file():
    """report.pptx has no text for the load generator to read; its length says it is not empty."""
    from mmm_dash.loadtest.browser import _download_problem

    headers = {"content-disposition": 'attachment; filename="report.pptx"'}
    assert _download_problem(Answer(200, "", {**headers, "content-length": "61234"})) is None
    assert _download_problem(Answer(200, "", {**headers, "content-length": "0"})) == "an empty file"
    assert _download_problem(Answer(200, "a,b\r\n", headers)) is None


def test_a_simulated_analyst_clicks_sign_in_again_when_the_app_is_busy(monkeypatch):
    """The app answers "too many sign-ins at once" (429, Retry-After: 1) rather than queueing; like a
    person, the simulated browser tries again a second later, and that answer is not a failure."""
    import mmm_dash.loadtest.browser as browser_module

    busy = Answer(429, "Too many sign-ins at once; try again in a second.", {"retry-after": "1"})
    answers = iter([Answer(200, 'name="csrf_token" type="hidden" value="t"', {}), busy, busy,
                    Answer(302, "", {"location": "/"})])  # fmt: skip
    posts = []

    class Busy:
        def send(self, method, path, *, name, check, json_body=None, form=None, redirects=True):
            answer = next(answers)
            posts.append((method, check(answer)))
            if check(answer):
                raise StepFailed(name, check(answer))
            return answer

    monkeypatch.setattr(browser_module.time, "sleep", lambda _s: None)
    DashBrowser(Busy()).sign_in("a@example.com", "pw")
    assert posts == [("GET", None), ("POST", None), ("POST", None), ("POST", None)]
