"""Helpers and constants shared by the test files (fixtures live in conftest.py, helpers here)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_MODEL = ROOT / "data" / "models" / "demo_mmm.pkl"
# Bundles and fitted test models survive between runs (keys include file hashes and versions).
TEST_CACHE = Path(os.environ.get("MMM_TEST_CACHE_DIR", ROOT / "tests" / ".model-cache"))
SECRET = "test-secret-key-0123456789abcdef"


# The keys every export document starts with (the model, the view and how to read its numbers).
EXPORT_HEADER_KEYS = {"format_version", "generated_at", "model", "period", "geo", "currency", "confidence_level"}


def reset_dash_globals() -> None:
    """Forget page callbacks that Dash registered globally for an app built earlier in this process."""
    from dash import _callback

    _callback.GLOBAL_CALLBACK_LIST.clear()
    _callback.GLOBAL_CALLBACK_MAP.clear()


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, empty database on the server named by `admin_url`, dropped afterwards (with any
    connection a test left open)."""
    import sqlalchemy as sa

    name = f"mmm_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(database_url: str, model_dir: Path, cache_dir: Path, **extra):
    """A migrated app on `database_url` with test settings; `extra` overrides any setting."""
    from flask_migrate import upgrade

    from mmm_dash.web import create_app

    overrides = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "MODEL_DIR": str(model_dir),
        "CACHE_DIR": str(cache_dir),
        "ENVIRONMENT": "development",
        "BACKGROUND_BUNDLES": "0",
        **extra,
    }
    # Dash's page modules register their callbacks globally when a new app imports them, and an app
    # takes what is registered when it sets itself up at its first request. Start clean and set up
    # now (without a request, so tests may still add routes), so every app built in one test serves
    # its own pages' callbacks whatever the order of use.
    reset_dash_globals()
    app = create_app(overrides)
    with app.server.test_request_context("/"):
        app._setup_server()
    with app.server.app_context():
        upgrade(directory=str(ROOT / "mmm_dash" / "web" / "migrations"))
    return app


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form on `path`."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def create_user(app, email="analyst@example.com", password="correct-horse", role="analyst"):
    """Create an account in `app`'s database; returns (email, password)."""
    from mmm_dash.web.auth import accounts

    with app.server.app_context():
        accounts.create_user(email, password, role)
    return email, password


def solved_challenge(challenge: dict | None) -> dict:
    """The hidden fields the login page's script fills in from /login/challenge's answer: a solved
    proof of work when the account needs one (see mmm_dash.web.auth.throttle), nothing otherwise."""
    from mmm_dash.web.auth.throttle import solve

    if not challenge or not challenge.get("bits"):
        return {}
    return {"pow_challenge": challenge["challenge"], "pow_answer": solve(challenge["challenge"], challenge["bits"])}


def requests_proof(session, base: str, email: str, headers: dict | None = None) -> dict:
    """solved_challenge over HTTP (a requests.Session against a running server)."""
    answer = session.post(base + "/login/challenge", data={"email": email}, headers=headers, timeout=10)
    return solved_challenge(answer.json())


def login(client, email, password, next_path=None):
    """Post the login form (with its CSRF token) as the login page's script does, solving a proof of
    work when the account asks for one, and return the response."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    data |= solved_challenge(client.post("/login/challenge", data={"email": email}).json)
    if next_path:
        data["next"] = next_path
    return client.post("/login", data=data)


@contextlib.contextmanager
def silent_port():
    """A loopback port that accepts connections and never answers (a hung server, unlike a closed port,
    which refuses at once): what a client's timeouts are for. Yields the port number."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # the kernel completes handshakes; nothing ever reads or writes
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def callback_body(app, function: str, values: dict, changed: list[str]) -> dict:
    """The body Dash's renderer posts for the callback whose function's "module.qualname" ends with
    `function`: inputs and state in the callback's order, valued from `values` (keyed by component
    id, or by the `type` of a pattern-matching id, whose value is then the list of every match's)."""
    import json

    from mmm_dash.web.permissions import callback_name

    key, spec = next((k, s) for k, s in app.callback_map.items() if (callback_name(s) or "").endswith(function))

    def dependency(item: dict):
        component, prop = item["id"], item["property"]
        if component.startswith("{"):
            kind = json.loads(component)["type"]
            return [
                {"id": {"type": kind, "index": i}, "property": prop, "value": v} for i, v in enumerate(values[kind])
            ]
        return {"id": component, "property": prop, "value": values.get(component)}

    def output(component: str, prop: str):
        if component.startswith("{"):
            kind = json.loads(component)["type"]
            return [{"id": {"type": kind, "index": i}, "property": prop} for i in range(len(values[kind]))]
        return {"id": component, "property": prop}

    outputs = [output(*part.split("@")[0].rsplit(".", 1)) for part in key.strip(".").split("...")]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],  # one output: a dict, as Dash's renderer sends
        "inputs": [dependency(i) for i in spec["inputs"]],
        "state": [dependency(s) for s in spec["state"]],
        "changedPropIds": changed,
    }


def post_callback(client, body: dict):
    """POST a callback body the way the browser does (JSON, same origin)."""
    import json

    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": "http://localhost"},
    )


def save_scenario_body(app, bundle, name: str = "Plan A", delete: bool = False, selected=None) -> dict:
    """The scenario page's save (or delete) callback at the historical spend of the demo's whole range."""
    hist = bundle.period("all").curves.historical_spend.tolist()
    values = {
        "sc-save": None if delete else 1,
        "sc-delete": 1 if delete else None,
        "sc-name": name,
        "sc-saved": selected,
        "sc-spend": hist,
        "sc-view": {"model": "demo_mmm", "period": "all"},
        "sc-mode": "fixed",
        "sc-budget": round(sum(hist)),
        "sc-target": 1.0,
        "sc-lower": [70] * len(hist),
        "sc-upper": [130] * len(hist),
    }
    trigger = "sc-delete.n_clicks" if delete else "sc-save.n_clicks"
    return callback_body(app, "scenarios.save_or_delete", values, [trigger])


def app_process_env(tmp_path, database_url: str, model_dir, cache_dir, **extra) -> dict:
    """The environment of an app process the tests start (gunicorn, or a replica behind nginx)."""
    import os

    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "MODEL_DIR": str(model_dir),
        "CACHE_DIR": str(cache_dir),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "ENVIRONMENT": "development",
        "BACKGROUND_BUNDLES": "0",
        **extra,
    }
