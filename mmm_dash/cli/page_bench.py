"""How long Dash takes to answer a page, measured on the real path: a signed-in POST to
`/_dash-update-component` for the pages router, through the Flask test client, in a fresh process.

Cold is the page's first render in a process that has started and served what a browser asks for
before the router callback (`/_dash-layout`, `/_dash-dependencies`); warm is the median of the
repeats after it. `/healthz` is timed in the same process as the floor: a request that does nothing.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTER_OUTPUT = "..{content}.children...{store}.data.."
BENCH_EMAIL, BENCH_PASSWORD = "bench@example.com", "bench-password-not-secret"


def router_body(pathname: str, search: str = "") -> dict:
    """The request the browser sends when the URL changes: Dash's pages router callback."""
    from dash.dash import _ID_CONTENT, _ID_LOCATION, _ID_STORE

    return {
        "output": ROUTER_OUTPUT.format(content=_ID_CONTENT, store=_ID_STORE),
        "outputs": [{"id": _ID_CONTENT, "property": "children"}, {"id": _ID_STORE, "property": "data"}],
        "inputs": [
            {"id": _ID_LOCATION, "property": "pathname", "value": pathname},
            {"id": _ID_LOCATION, "property": "search", "value": search},
        ],
        "changedPropIds": [f"{_ID_LOCATION}.pathname"],
    }


def callback_body(output: tuple[str, str], inputs: list[tuple[str, str, object]], state=()) -> dict:
    """A single-output callback request: `inputs` and `state` are (id, property, value)."""
    as_list = [{"id": i, "property": p, "value": v} for i, p, v in inputs]
    return {
        "output": f"{output[0]}.{output[1]}",
        "outputs": {"id": output[0], "property": output[1]},
        "inputs": as_list,
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{i}.{p}" for i, p, _v in inputs],
    }


def signed_in_client(model_dir: str, cache_dir: str, scratch: str):
    """A fresh app on a scratch database with one signed-in user, and its test client."""
    from mmm_dash.web import create_app
    from mmm_dash.web.auth import accounts
    from mmm_dash.web.extensions import db

    app = create_app(
        {
            "MODEL_DIR": model_dir,
            "CACHE_DIR": cache_dir,
            "DATABASE_URL": f"sqlite:///{Path(scratch) / 'bench.sqlite3'}",
            "BACKGROUND_BUNDLES": "0",
            "ENVIRONMENT": "development",
        }
    )
    with app.server.app_context():
        db.create_all()
        accounts.create_user(BENCH_EMAIL, BENCH_PASSWORD)
    client = app.server.test_client()
    # Sign in through the real form, as a person does, so the session is whatever sign-in makes it.
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    answer = client.post("/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise RuntimeError(f"bench sign-in failed with {answer.status_code}")
    return app, client


def _ms(client, method: str, url: str, body=None) -> float:
    start = time.perf_counter()
    response = client.open(url, method=method, json=body)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    return elapsed


def _cold_and_warm(client, body: dict, repeats: int) -> dict:
    cpu_start = time.process_time()
    cold = _ms(client, "POST", "/_dash-update-component", body)
    cold_cpu = (time.process_time() - cpu_start) * 1000  # what the process itself spent: less noisy
    warm = [_ms(client, "POST", "/_dash-update-component", body) for _ in range(repeats)]
    return {"cold_ms": cold, "cold_cpu_ms": cold_cpu, "warm_p50_ms": statistics.median(warm)}


def page_extra_callbacks(path: str, model: str, bundle) -> dict[str, dict]:
    """The page's own callbacks worth timing (the ones that rebuild figures), as request bodies."""
    view = {"model": model, "period": "all"}
    if path == "/response-curves" and len(bundle.info.paid_channels) > 1:
        channel = bundle.info.paid_channels[1]  # not the one the page shows first
        return {
            "channel picker": callback_body(
                ("curve-panels", "children"), [("curve-channel", "value", channel)], [("curves-view", "data", view)]
            )
        }
    if path == "/contribution":
        return {
            "bar/pie switch": callback_body(
                ("contribution-chart", "figure"),
                [("contribution-chart-type", "value", "pie")],
                [("contribution-view", "data", view)],
            )
        }
    return {}


def measure_page(model_dir: str, cache_dir: str, model: str, path: str, repeats: int = 50) -> dict:
    """One page (and its own figure callbacks), cold and warm, with the /healthz floor; run this
    in a fresh process so 'cold' means it."""
    from mmm_dash.web.dashboard.shell import app_pages

    with tempfile.TemporaryDirectory() as scratch:
        app, client = signed_in_client(model_dir, cache_dir, scratch)
        bundle = app.server.extensions["mmm_dash"].models.bundle(model)  # read from disk: not a page cost
        for url in ("/healthz", "/_dash-layout", "/_dash-dependencies"):
            _ms(client, "GET", url)
        search = f"?model={model}"
        result = {"path": path, **_cold_and_warm(client, router_body(path, search), repeats)}
        result["callbacks"] = {
            name: _cold_and_warm(client, body, repeats)
            for name, body in page_extra_callbacks(path, model, bundle).items()
        }
        result["healthz_p50_ms"] = statistics.median(_ms(client, "GET", "/healthz") for _ in range(repeats))
        result["nav_pages"] = app_pages()  # Dash knows the pages once an app exists: tell the caller
        return result


PROBE = """
import json, sys
from mmm_dash.cli.page_bench import measure_page
print(json.dumps(measure_page(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
"""


def measure_in_fresh_process(model_dir: Path, cache_dir: Path, model: str, path: str, repeats: int) -> dict:
    """`measure_page` in a new interpreter (the page's cold render is its first in that process)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(model_dir), str(cache_dir), model, path, str(repeats)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
        raise RuntimeError(f"page probe for {path} failed: {tail}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_runs(model_dir: Path, cache_dir: Path, model: str, path: str, repeats: int, runs: int) -> dict:
    """`runs` fresh processes for one page: medians of their cold times and warm medians (a single
    cold sample on a shared machine is mostly noise), with every cold sample kept."""
    samples = [measure_in_fresh_process(model_dir, cache_dir, model, path, repeats) for _ in range(runs)]

    def combine(timings: list[dict]) -> dict:
        colds = [t["cold_ms"] for t in timings]
        return {
            "cold_ms": statistics.median(colds),
            "cold_runs_ms": colds,
            "cold_cpu_ms": statistics.median(t["cold_cpu_ms"] for t in timings),
            "warm_p50_ms": statistics.median(t["warm_p50_ms"] for t in timings),
        }

    return {
        "path": path,
        **combine(samples),
        "callbacks": {name: combine([s["callbacks"][name] for s in samples]) for name in samples[0]["callbacks"]},
        "healthz_p50_ms": statistics.median(s["healthz_p50_ms"] for s in samples),
        "nav_pages": samples[0]["nav_pages"],
    }
