"""Every Dash callback the server answers, posted hostile bodies: the shapes that answered 500 once (no
`outputs`, a non-string `url.search`, a stored view of `null`, an unknown channel, 50,000-deep JSON)
and seeded random ones. Each answer is a 4xx or a 200/204 (a page sentence or no update), never a
500, and nothing is logged with a traceback."""

from __future__ import annotations

import copy
import json
import logging
import random
import time

import pytest

from tests.helpers import create_user, login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SEED = 20261205
RANDOM_BODIES_PER_CALLBACK = 24
VIEW = {"model": "demo_mmm", "period": "all"}

# Values a browser (or an attacker) may put in any input or state.
HOSTILE = [
    None,
    "",
    "x",
    "Nope",
    "TV",
    "demo_mmm",
    "all",
    "?model=demo_mmm&period=all",
    "?model=../../etc/passwd",
    0,
    -1,
    7,
    1.5,
    1e308,
    -1e308,
    True,
    [],
    {},
    [None],
    [1, 2],
    [100.0] * 5,
    [-1.0] * 5,
    ["a"] * 5,
    {"model": None},
    VIEW,
    {"model": "demo_mmm", "period": "nope"},
    {"model": "nope", "period": "all"},
    {"model": ["demo_mmm"], "period": {"a": 1}},
    {"spend": "x"},
    {"spend": [1e308] * 5},
    "a" * 5000,
    "\u202etxt.exe",
    [[[[[]]]]],
    {"a": {"b": {"c": [1, {"d": None}]}}},
]


def _is_pattern(component: str) -> bool:
    return component.startswith("{")


def _pattern_id(component: str, index: int) -> dict:
    kind = json.loads(component)["type"]
    return {"type": kind, "index": index}


def _outputs(key: str, matches: int) -> list | dict:
    """The `outputs` Dash's renderer sends for the callback keyed `key` (`matches` items per wildcard):
    a list for a multi-output callback, one dict for a single output; an allow_duplicate output keeps
    its "@<hash>" in the property, as the renderer sends it."""
    parts = [part.rsplit(".", 1) for part in key.strip(".").split("...")]
    outputs = [
        [{"id": _pattern_id(c, i), "property": p} for i in range(matches)]
        if _is_pattern(c)
        else {"id": c, "property": p}
        for c, p in parts
    ]
    return outputs if key.startswith("..") else outputs[0]


def _dependency(item: dict, value_of, matches: int):
    component, prop = item["id"], item["property"]
    if _is_pattern(component):
        return [{"id": _pattern_id(component, i), "property": prop, "value": value_of()} for i in range(matches)]
    return {"id": component, "property": prop, "value": value_of()}


def _changed(item: dict) -> str:
    component = item["id"]
    if _is_pattern(component):
        component = json.dumps(_pattern_id(component, 0), separators=(",", ":"))
    return f"{component}.{item['property']}"


def well_formed(key: str, spec: dict, rng: random.Random, value_of=None, matches: int = 5) -> dict:
    """A body shaped exactly as Dash's renderer shapes it, with values from `value_of` (random hostile ones)."""
    value_of = value_of or (lambda: copy.deepcopy(rng.choice(HOSTILE)))
    inputs = spec["inputs"]
    return {
        "output": key,
        "outputs": _outputs(key, matches),
        "inputs": [_dependency(i, value_of, matches) for i in inputs],
        "state": [_dependency(s, value_of, matches) for s in spec["state"]],
        "changedPropIds": [_changed(rng.choice(inputs))] if inputs else [],
    }


def _nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def shape_mutations(key: str, spec: dict, rng: random.Random) -> list:
    """The named malformed shapes, each a change of one well-formed body."""
    base = well_formed(key, spec, rng, value_of=lambda: None)
    bodies = []

    def variant(**changes):
        body = copy.deepcopy(base)
        for name, value in changes.items():
            if value is KeyError:
                body.pop(name, None)
            else:
                body[name] = value
        bodies.append(body)

    variant(outputs=KeyError)  # no outputs
    variant(outputs="x")
    variant(outputs=[1, 2])
    variant(outputs={"id": 5, "property": "children"})
    variant(outputs=[{"id": "nope", "property": "children"}])
    variant(outputs=[])
    variant(outputs=[_outputs(key, 5)])  # a list around a single output
    variant(outputs=_outputs(key, 0))  # a wildcard output matching nothing
    variant(outputs=_outputs(key, 2))  # fewer matches than the inputs carry
    variant(inputs=KeyError)
    variant(state=KeyError)
    variant(inputs=[{"id": "nope", "property": "value", "value": 1}] * len(spec["inputs"]))
    variant(inputs=[{"id": {"type": "nope", "index": "x"}, "property": "value"}] * len(spec["inputs"]))
    variant(changedPropIds=["nope.value"])
    variant(changedPropIds=[])
    variant(changedPropIds=['{"index":99,"type":"sc-slider"}.value'])
    variant(output=rng.choice([k for k in CALLBACK_KEYS if k != key]))  # another callback's outputs
    for value in ([], 123, {"a": 1}, ["?model=demo_mmm"], None, _nested(150)):
        bodies.append(well_formed(key, spec, rng, value_of=lambda v=value: copy.deepcopy(v)))
    bodies.append(well_formed(key, spec, rng, value_of=lambda: copy.deepcopy(rng.choice(HOSTILE)), matches=0))
    bodies.append(well_formed(key, spec, rng, value_of=lambda: copy.deepcopy(rng.choice(HOSTILE)), matches=40))
    return bodies


CALLBACK_KEYS: list[str] = []

NOT_A_CALLBACK = [
    b"",
    b"{not json",
    b"[]",
    b'"text"',
    b"1",
    b"null",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"output": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    json.dumps({"output": "url.search", "inputs": _nested(300)}).encode(),
    json.dumps({"output": "url.search", "inputs": ["x" * 1_100_000]}).encode(),  # over MAX_CONTENT_LENGTH
]


@pytest.fixture()
def fuzz_client(app):
    create_user(app)
    client = app.server.test_client()
    assert login(client, "analyst@example.com", "correct-horse").status_code == 302
    client.get("/healthz")  # Dash adds the pages' router callback at the first request
    return client


def _post(client, data: bytes):
    return client.post(
        "/_dash-update-component",
        data=data,
        content_type="application/json",
        headers={"Origin": "http://localhost"},
    )


def test_no_callback_body_answers_500_or_logs_a_traceback(app, fuzz_client, caplog):
    rng = random.Random(SEED)
    CALLBACK_KEYS[:] = sorted(app.callback_map)
    assert len(CALLBACK_KEYS) >= 20, "the app's callbacks were not all registered"
    bodies = [raw for raw in NOT_A_CALLBACK]
    for key in CALLBACK_KEYS:
        spec = app.callback_map[key]
        bodies += [json.dumps(b).encode() for b in shape_mutations(key, spec, rng)]
        bodies += [json.dumps(well_formed(key, spec, rng)).encode() for _ in range(RANDOM_BODIES_PER_CALLBACK)]
    started = time.monotonic()
    failures = []
    statuses, refusals = {}, {}
    with caplog.at_level(logging.INFO):
        for raw in bodies:
            response = _post(fuzz_client, raw)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 400:
                refusals[response.json["error"]] = refusals.get(response.json["error"], 0) + 1
            if response.status_code >= 500:
                failures.append((response.status_code, raw[:300]))
    assert not failures, f"{len(failures)} of {len(bodies)} bodies answered 5xx, e.g. {failures[:3]}"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, f"{len(tracebacks)} tracebacks logged, e.g. {tracebacks[0].getMessage()}"
    assert time.monotonic() - started < 60
    assert statuses.get(200, 0) + statuses.get(204, 0) > 300, statuses  # most shapes reach the pages' code
    assert len(refusals) >= 5, refusals  # each malformed shape is named in one sentence


def _router_body(app, search) -> dict:
    key = "url.search"
    return well_formed(key, app.callback_map[key], random.Random(1), value_of=lambda: search)


def test_a_non_string_search_or_deep_json_is_a_400_with_one_sentence_and_one_log_line(app, fuzz_client, caplog):
    with caplog.at_level(logging.INFO):
        deep = _post(fuzz_client, b"[" * 50_000 + b"]" * 50_000)
        search = _post(fuzz_client, json.dumps(_router_body(app, {"model": "x"})).encode())
    assert deep.status_code == 400 and deep.json == {"error": "The callback request nests deeper than 100 levels."}
    assert search.status_code == 400 and search.json == {"error": "The callback inputs are malformed."}
    refusals = [r for r in caplog.records if r.name == "mmm_dash.web.hardening"]
    assert len(refusals) == 2 and not any(r.exc_info for r in caplog.records)


def _roi_over_time(app, view) -> bytes:
    key = "roi-over-time.children"
    values = iter(["week", view])
    return json.dumps(well_formed(key, app.callback_map[key], random.Random(1), value_of=lambda: next(values))).encode()


def test_a_page_callback_that_raises_says_one_sentence_on_the_page(app, fuzz_client, caplog, monkeypatch):
    from mmm_dash.web.pages import roi

    def broken(_selected):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(roi, "stored_view", broken)
    with caplog.at_level(logging.INFO):
        response = _post(fuzz_client, _roi_over_time(app, VIEW))
    assert response.status_code == 200
    sentence = "That action failed on our side and has been logged; reload the page and try again."
    assert response.json["sideUpdate"] == {"callback-error": {"children": sentence}}
    assert "secret internals" not in response.text and response.json["response"] == {}
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failed) == 1 and "RuntimeError" in failed[0].getMessage() and not failed[0].exc_info


@pytest.mark.parametrize("view", [None, [], {"model": "demo_mmm"}, {"model": "demo_mmm", "period": "nope"}])
def test_a_stored_view_the_page_cannot_use_says_why(app, fuzz_client, view):
    response = _post(fuzz_client, _roi_over_time(app, view))
    assert response.status_code == 200
    sentence = response.json["sideUpdate"]["callback-error"]["children"]
    assert "reload" in sentence or "Unknown period 'nope'" in sentence


@pytest.fixture()
def rebuilding_app(database_url, tmp_path, demo_cache_dir):
    """A MODEL_DIR with the demo and a model whose bundle is not built (being analysed) or failed."""
    import shutil

    from tests.helpers import DEMO_MODEL, make_app

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(DEMO_MODEL, model_dir / DEMO_MODEL.name)
    (model_dir / "pending.pkl").write_bytes(DEMO_MODEL.read_bytes() + b"\0")  # a new file: no bundle yet
    (model_dir / "broken.pkl").write_bytes(DEMO_MODEL.read_bytes()[:1000])
    app = make_app(database_url, model_dir, demo_cache_dir)
    app.server.extensions["mmm_dash"].models.build("broken")
    return app


TRIGGERS = ["sc-reset.n_clicks", "sc-optimize.n_clicks", '{"index":1,"type":"sc-slider"}.value']


@pytest.mark.parametrize(("model", "says"), [("pending", "being analysed"), ("broken", "could not be analysed")])
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_the_planner_says_when_its_model_is_being_rebuilt_or_failed(rebuilding_app, model, says, trigger):
    app = rebuilding_app
    create_user(app)
    client = app.server.test_client()
    login(client, "analyst@example.com", "correct-horse")
    key = next(k for k in app.callback_map if "..sc-spend.data..." in k)
    body = well_formed(key, app.callback_map[key], random.Random(1), value_of=lambda: 100)
    body["state"][0]["value"] = {"model": model, "period": "all"}  # sc-view
    body["state"][1]["value"] = "fixed"  # sc-mode
    body["changedPropIds"] = [trigger]
    response = _post(client, json.dumps(body).encode())
    assert response.status_code == 200, response.text[:300]
    answer = response.json["response"]
    assert says in json.dumps(answer["sc-error"]) and "sc-spend" not in answer


def test_every_callback_accepts_the_body_dashs_renderer_sends(app, fuzz_client):
    """The shape check refuses only what the renderer never sends: a body shaped as the renderer shapes
    it (one output as a dict, an allow_duplicate output's property as "prop@<hash>") passes for each."""
    from mmm_dash.web.hardening import callback_request_problem

    rng = random.Random(SEED)
    for key, spec in app.callback_map.items():
        body = well_formed(key, spec, rng, value_of=lambda: None)
        assert callback_request_problem(body, app.callback_map) is None, key
    assert any("@" in key and key.startswith("..") for key in app.callback_map)  # the duplicate case is covered
