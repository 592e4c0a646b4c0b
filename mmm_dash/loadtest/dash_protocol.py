"""Dash callback requests built the way Dash's browser renderer builds them: from the app's own
callback map (`/_dash-dependencies`) and the components the server sent (`/_dash-layout` and each
callback's answer). Nothing is typed by hand, so a payload cannot drift from the app and silently
answer 204 or 400. Pure JSON work, shared by the CLI's preflight and the Locust process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

CALLBACK_PATH = "/_dash-update-component"
WILDCARDS = ('["ALL"]', '["MATCH"]', '["ALLSMALLER"]')
# Components a page shows instead of its content when something is wrong: a model that failed, one still
# being analysed, no model at all, a model or period the URL named that does not exist, a scenario input
# the planner refused. An answer carrying one of them is a failure even with HTTP 200.
PROBLEM_IDS = {
    "model-error": "the model failed to load",
    "building": "the model is still being analysed",
    "no-models": "no model in MODEL_DIR",
    "view-notice": "the page did not know the model or period asked for",
    "sc-error-message": "the scenario planner refused the input",
}
_PROBLEM = re.compile(r'"id":\s*"(' + "|".join(map(re.escape, PROBLEM_IDS)) + r')"')


def id_key(component_id: str | dict) -> str:
    """A component id as Dash writes it in callback specs and answers (dict ids: sorted, compact JSON)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


def is_pattern(key: str) -> bool:
    return key.startswith("{") and any(w in key for w in WILDCARDS)


def matches(pattern_key: str, component_id: str | dict) -> bool:
    """Whether a component id fits a pattern-matching id (only ALL is supported, which the app uses)."""
    if not isinstance(component_id, dict):
        return False
    pattern = json.loads(pattern_key)
    if set(pattern) != set(component_id):
        return False
    for key, wanted in pattern.items():
        if isinstance(wanted, list):
            if wanted != ["ALL"]:
                raise NotImplementedError(f"pattern {wanted} in {pattern_key}: only ALL is supported")
            continue
        if component_id[key] != wanted:
            return False
    return True


def walk_components(tree) -> Iterator[dict]:
    """Every component (as `{"type", "namespace", "props"}`) in a layout tree, in document order."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and "type" in node and "namespace" in node:
                yield node
                stack.extend(reversed([v for v in props.values() if isinstance(v, dict | list)]))


def components_by_id(tree) -> dict[str, dict]:
    """id key -> {"id", "type", "props"} of every component with an id, in document order."""
    found = {}
    for node in walk_components(tree):
        ident = node["props"].get("id")
        if ident is not None:
            found[id_key(ident)] = {"id": ident, "type": node["type"], "props": node["props"]}
    return found


def split_output(output: str) -> list[dict] | dict:
    """A callback's output spec (`..a.children...b.figure..` or `a.children`) as Dash's renderer splits it."""
    if output.startswith(".."):
        return [_one_output(part) for part in output[2:-2].split("...")]
    return _one_output(output)


def _one_output(spec: str) -> dict:
    ident, prop = spec.rsplit(".", 1)
    return {"id": ident, "property": prop}


def output_ids(dep: dict) -> list[str]:
    specs = split_output(dep["output"])
    return [s["id"] for s in (specs if isinstance(specs, list) else [specs])]


class Page:
    """What the renderer holds: the components on screen, by id key, with their current props."""

    def __init__(self, components: dict[str, dict]):
        self.components = dict(components)

    def value(self, key: str, prop: str):
        return self.components[key]["props"].get(prop) if key in self.components else None

    def has(self, key: str) -> bool:
        if is_pattern(key):
            return True  # ALL matches zero or more
        return key in self.components

    def matching(self, pattern_key: str) -> list[dict]:
        return [c for c in self.components.values() if matches(pattern_key, c["id"])]

    def set(self, key: str, prop: str, value) -> None:
        self.components.setdefault(key, {"id": key, "type": "?", "props": {}})["props"][prop] = value

    def add(self, tree) -> set[str]:
        """Add the components found in `tree` (new content); returns their id keys."""
        found = components_by_id(tree)
        self.components.update(found)
        return set(found)

    def remove_inside(self, tree) -> None:
        for key in components_by_id(tree):
            self.components.pop(key, None)


def _dependency(page: Page, spec: dict, overrides: dict) -> dict | list[dict]:
    key, prop = spec["id"], spec["property"]
    if is_pattern(key):
        return [
            {
                "id": c["id"],
                "property": prop,
                "value": overrides.get(f"{id_key(c['id'])}.{prop}", c["props"].get(prop)),
            }
            for c in page.matching(key)
        ]
    return {"id": key, "property": prop, "value": overrides.get(f"{key}.{prop}", page.value(key, prop))}


def _output(page: Page, spec: dict) -> dict | list[dict]:
    if is_pattern(spec["id"]):
        return [{"id": c["id"], "property": spec["property"]} for c in page.matching(spec["id"])]
    return {"id": spec["id"], "property": spec["property"]}


def callback_body(dep: dict, page: Page, changed: list[str], overrides: dict | None = None) -> dict:
    """The request Dash's renderer sends for `dep` (an entry of `/_dash-dependencies`) with the page's
    current values; `overrides` ("<id key>.<prop>" -> value) are the user's change, `changed` its ids."""
    overrides = overrides or {}
    outputs = split_output(dep["output"])
    return {
        "output": dep["output"],
        "outputs": [_output(page, o) for o in outputs] if isinstance(outputs, list) else _output(page, outputs),
        "inputs": [_dependency(page, s, overrides) for s in dep["inputs"]],
        "state": [_dependency(page, s, overrides) for s in dep.get("state", [])],
        "changedPropIds": list(changed),
    }


def expected_outputs(body: dict) -> list[str]:
    """Id keys the answer must update (pattern outputs: each matched component)."""
    outputs = body["outputs"] if isinstance(body["outputs"], list) else [body["outputs"]]
    keys = []
    for item in outputs:
        for one in item if isinstance(item, list) else [item]:
            keys.append(id_key(one["id"]))
    return keys


def answer_problem(status: int, text: str, body: dict | None = None, tolerate=frozenset()) -> str | None:
    """Why a callback answer is a failure (non-200, not Dash's JSON, an output missing, a problem
    component on the page other than those in `tolerate`), or None."""
    if status != 200:
        return f"HTTP {status}" + (" (no update: PreventUpdate or no output)" if status == 204 else "")
    try:
        answer = json.loads(text)
    except ValueError:
        return "the answer is not JSON"
    response = answer.get("response") if isinstance(answer, dict) else None
    if not isinstance(response, dict):
        return "the answer has no 'response'"
    if body is not None:
        missing = [k for k in expected_outputs(body) if k not in response]
        if missing:
            return f"the answer lacks {', '.join(missing[:3])}"
    for problem in _PROBLEM.finditer(text):
        if problem.group(1) not in tolerate:
            return f"{PROBLEM_IDS[problem.group(1)]} ({problem.group(1)})"
    return None


def option_values(props: dict) -> list:
    """The values a Dropdown or RadioItems offers (options as plain values or {"label", "value"})."""
    values = []
    for option in props.get("options") or []:
        if isinstance(option, dict):
            if not option.get("disabled"):
                values.append(option.get("value"))
        else:
            values.append(option)
    return values
