"""A page for a model without a bundle only records a build request and polls: no request, from any
signed-in user, starts a process, and without a builder the page says an operator must act."""

from __future__ import annotations

import json
import os
import subprocess

import dash
import plotly
import pytest

from mmm_dash.core.status import BundleStatus
from tests.helpers import create_user, login, make_app


@pytest.fixture()
def pending_app(tmp_path):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / "pending.pkl").write_bytes(b"\x80 not analysed yet")
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", model_dir, tmp_path / "cache")  # BACKGROUND_BUNDLES=0
    create_user(app, "viewer@example.com", "viewer-pass-123", role="viewer")
    return app


@pytest.fixture()
def no_processes(monkeypatch):
    """Every way to start a process fails the test (and is counted)."""
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError(f"a request started a process: {args!r}")

    for module, name in ((subprocess, "Popen"), (os, "fork"), (os, "posix_spawn"), (os, "spawnv")):
        monkeypatch.setattr(module, name, refuse)
    return started


def _render(app, path: str, **query) -> str:
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user

    with app.server.test_request_context("/"):
        login_user(find_user("viewer@example.com"))
        page = next(p for p in dash.page_registry.values() if p["path"] == path)
        return json.dumps(page["layout"](**query), cls=plotly.utils.PlotlyJSONEncoder)


def _poll(client, app, model: str):
    output = next(key for key in app.callback_map if "build-done.data" in key)
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]} for part in output.strip(".").split("...")]
    body = {
        "output": output,
        "outputs": outputs,
        "inputs": [{"id": "build-poll", "property": "n_intervals", "value": 1}],
        "state": [{"id": "build-model", "property": "data", "value": model}],
        "changedPropIds": ["build-poll.n_intervals"],
    }
    return client.post("/_dash-update-component", json=body)


def test_the_page_requests_a_build_and_polling_never_starts_a_process(pending_app, no_processes):
    catalog = pending_app.server.extensions["mmm_dash"].models
    assert catalog.state("pending").status is BundleStatus.MISSING
    page = _render(pending_app, "/", model="pending")
    assert "build-poll" in page and "Analysing pending" in page
    assert catalog.state("pending").status is BundleStatus.QUEUED  # recorded, not started

    client = pending_app.server.test_client()
    login(client, "viewer@example.com", "viewer-pass-123")
    for _ in range(5):
        response = _poll(client, pending_app, "pending")
        assert response.status_code == 200
    assert no_processes == []
    assert catalog.state("pending").status is BundleStatus.QUEUED
    assert len(catalog.book.queued()) == 1  # five polls, one request


def test_without_a_builder_the_page_says_an_operator_must_run_precompute(pending_app, no_processes):
    page = _render(pending_app, "/", model="pending")
    assert "python -m mmm_dash precompute" in page
    client = pending_app.server.test_client()
    login(client, "viewer@example.com", "viewer-pass-123")
    message = _poll(client, pending_app, "pending").json["response"]["build-message"]["children"]
    assert "python -m mmm_dash precompute" in message


def test_polling_stops_when_the_bundle_is_settled(pending_app, no_processes):
    catalog = pending_app.server.extensions["mmm_dash"].models
    client = pending_app.server.test_client()
    login(client, "viewer@example.com", "viewer-pass-123")
    catalog.build("pending")  # the builder's work, done here: the fake file fails to load
    response = _poll(client, pending_app, "pending").json["response"]
    assert response["build-done"]["data"] == {"status": BundleStatus.FAILED}
    assert response["build-poll"]["disabled"] is True


def test_polling_an_unknown_model_settles_instead_of_erroring(pending_app, no_processes):
    client = pending_app.server.test_client()
    login(client, "viewer@example.com", "viewer-pass-123")
    for model in ("nope", ["pending"], 7):
        response = _poll(client, pending_app, model)
        assert response.status_code == 200
        assert response.json["response"]["build-poll"]["disabled"] is True


def test_the_app_owns_one_builder_per_cache_dir(tmp_path):
    import time

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    apps = [
        make_app(f"sqlite:///{tmp_path / f'db{i}.sqlite3'}", model_dir, tmp_path / "cache", BACKGROUND_BUNDLES="1")
        for i in range(2)
    ]
    builders = [app.server.extensions["mmm_dash"].builder for app in apps]
    try:
        catalog = apps[0].server.extensions["mmm_dash"].models
        deadline = time.monotonic() + 10
        while not catalog.builder_running() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert catalog.builder_running()
        assert sum(b.lock._fd is not None for b in builders) == 1  # the other one waits as a standby
    finally:
        for builder in builders:
            builder.stop()
