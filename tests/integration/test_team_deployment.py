"""The team deployment with real processes on loopback: the test's own redis-server (Celery broker on
db 1, sign-in limits on db 0), a fresh PostgreSQL database, two gunicorn replicas and a Celery worker.

A fast fake build step (tests.fake_build) stands in for Meridian, returning the real demo bundle under
each model's name, so pages and exports render; one slow test runs a real Meridian build end to end.
The tests share one deployment and run in file order; each uses models of its own.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import time
import zlib

import pytest
import requests
import sqlalchemy as sa

from tests.fake_build import FAKE_BUNDLE, FAKE_LOG, FAKE_SECONDS, read_log, renamed
from tests.helpers import ROOT, SECRET, TEST_CACHE, fresh_postgres_database, requests_proof
from tests.integration.deployment import (
    Deployment,
    RedisServer,
    free_port,
    redis_server_binary,
    wait_for,
)

DASH = "/_dash-update-component"
LEASE_SECONDS = 3
BUILD_SECONDS = 4.0  # the fake build's total sleep: long enough to kill a worker in the middle
BUILD_WAIT = 40  # seconds allowed for a requested build to be stored
EMAIL, PASSWORD = "analyst@example.com", "team-deployment-password-1"
TARGET = "target@example.com"  # the account whose sign-ins are guessed at
INTEGRITY = "failed its integrity check"


# -- the deployment ------------------------------------------------------------------------------
def require_redis_server() -> None:
    if redis_server_binary():
        return
    if os.environ.get("MMM_REQUIRE_REDIS") == "1":
        pytest.fail("redis-server is not installed and MMM_REQUIRE_REDIS=1")
    pytest.skip("redis-server is not installed (apt-get install redis-server)")


def write_model(model_dir, name: str) -> None:
    """A model file the fake step never reads; its bytes (hence its bundle key) are its own."""
    draft = model_dir / f".{name}.part"
    draft.write_bytes(f"fake model {name}\n".encode() * 10)
    draft.rename(model_dir / f"{name}.binpb")  # appears whole, as an operator's `mv` would


def migrate_and_add_users(team: Deployment, users) -> None:
    """`init-db` and `create-user`, in this process, with the deployment's settings."""
    from flask_migrate import upgrade

    from mmm_dash.web.app_factory import create_server
    from mmm_dash.web.auth import accounts
    from mmm_dash.web.extensions import db

    env = team.env("init")
    names = ("DATABASE_URL", "SECRET_KEY", "MODEL_DIR", "CACHE_DIR", "INSTANCE_DIR", "ENVIRONMENT")
    server = create_server({name: env[name] for name in names} | {"BACKGROUND_BUNDLES": "0"})
    with server.app_context():
        upgrade(directory=str(ROOT / "mmm_dash" / "web" / "migrations"))
        for email, password in users:
            accounts.create_user(email, password)
        db.session.remove()
        db.engine.dispose()


def start(tmp_root, database_url, extra: dict[str, str], replicas=("A", "B")) -> Deployment:
    """Redis, the schema, the replicas and one worker, all started and answering."""
    redis = RedisServer(free_port(), tmp_root / "redis").start()
    model_dir = tmp_root / "models"
    model_dir.mkdir(exist_ok=True)
    team = Deployment(tmp_root, database_url, redis, model_dir, extra)
    try:
        migrate_and_add_users(team, [(EMAIL, PASSWORD), (TARGET, PASSWORD)])
        for name in replicas:  # started together: their imports overlap with the worker's
            team.start_replica(name)
        worker = team.start_worker()
        for name in replicas:
            team.wait_replica(name)
        team.wait_worker(worker)
    except BaseException:
        print(team.logs())
        team.stop()
        raise
    return team


@pytest.fixture(scope="module")
def redis_server_installed():
    require_redis_server()


@pytest.fixture(scope="module")
def team(redis_server_installed, postgres_admin_url, tmp_path_factory, demo_bundle):
    """The deployment the fast tests share (skipped before the demo bundle is built when a service is missing)."""
    root = tmp_path_factory.mktemp("team")
    source = root / "source-bundle.pkl"
    source.write_bytes(pickle.dumps(demo_bundle, protocol=pickle.HIGHEST_PROTOCOL))
    extra = {
        "BUILD_STEP": "tests.fake_build:demo_bundle_step",
        "BUILD_LEASE_SECONDS": str(LEASE_SECONDS),
        "BUILD_MAX_ATTEMPTS": "3",
        FAKE_BUNDLE: str(source),
        FAKE_SECONDS: str(BUILD_SECONDS),
        FAKE_LOG: str(root / "fake-builds.log"),
    }
    (root / "models").mkdir()
    for name in ("alpha", "delta", "epsilon", "zeta"):  # all but gamma, the "new model" of its test
        write_model(root / "models", name)
    with fresh_postgres_database(postgres_admin_url) as database_url:
        deployment = start(root, database_url, extra)
        deployment.fake_log = root / "fake-builds.log"
        try:
            # one signed-in cookie for the tests, and alpha built: the ready model every test may show
            deployment.cookie = sign_in(requests.Session(), deployment.base("A"), EMAIL, PASSWORD)
            browser = session_with(deployment.cookie)
            assert page_kind(open_page(browser, deployment.base("A"), "/", "alpha")) == "building"
            wait_built(deployment, "alpha")
        except BaseException:
            print(deployment.logs())
            deployment.stop()
            raise
        try:
            yield deployment
        finally:
            deployment.stop()


@pytest.fixture(autouse=True)
def logs_on_failure(request):
    """Print what the processes logged during the test; pytest shows it only when the test fails."""
    if "team" not in request.fixturenames:
        yield
        return
    team = request.getfixturevalue("team")
    offsets = team.log_offsets()
    yield
    print(team.logs(offsets))


# -- talking to a replica, as a browser does -------------------------------------------------------
def csrf_token(session: requests.Session, base: str) -> str:
    page = session.get(base + "/login", timeout=10).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def post_sign_in(session: requests.Session, base: str, email: str, password: str) -> requests.Response:
    """The sign-in form of `base`, filled in and sent to `base` (form, token and, once the account has
    seen failures, the proof of work the page's script solves, all from that replica)."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(session, base)}
    data |= requests_proof(session, base, email)
    return session.post(base + "/login", data=data, allow_redirects=False, timeout=20)


def sign_in(session: requests.Session, base: str, email: str, password: str) -> str:
    """Sign in and return the session cookie's value."""
    response = post_sign_in(session, base, email, password)
    assert response.status_code == 302, response.text[:500]
    return session.cookies.get("mmm_session")


def session_with(cookie: str) -> requests.Session:
    """A browser that holds only this session cookie (sent to whichever replica it talks to)."""
    session = requests.Session()
    session.cookies.set("mmm_session", cookie)
    return session


def open_page(session: requests.Session, base: str, path: str, model: str) -> dict:
    """Dash's page router callback for `path?model=...`: what the browser asks when the URL changes."""
    from mmm_dash.cli.page_bench import router_body

    response = session.post(base + DASH, json=router_body(path, f"?model={model}"), timeout=30)
    assert response.status_code == 200, f"{path} on {base}: {response.status_code} {response.text[:500]}"
    return response.json()["response"]["_pages_content"]["children"]


def components(tree):
    """Every Dash component in a serialized layout, depth first."""
    if isinstance(tree, list):
        for item in tree:
            yield from components(item)
    elif isinstance(tree, dict):
        if "type" in tree and "props" in tree:
            yield tree
            yield from components(tree["props"].get("children"))
        else:
            for value in tree.values():
                yield from components(value)


def component(tree, id_: str) -> dict | None:
    return next((c for c in components(tree) if c["props"].get("id") == id_), None)


def text_of(tree) -> str:
    return json.dumps(tree)


def page_kind(tree) -> str:
    """ready (the model's figures), building (the progress page) or failed (an error alert)."""
    if component(tree, "building"):
        return "building"
    if component(tree, "model-error"):
        return "failed"
    periods = component(tree, "period-select")
    assert periods and periods["props"]["options"], f"neither a page nor a known placeholder: {text_of(tree)[:500]}"
    return "ready"


def shows_model(tree, model: str) -> bool:
    return component(tree, "model-select")["props"]["value"] == model


POLL_OUTPUTS = [
    ("build-progress", "value"),
    ("build-progress", "label"),
    ("build-message", "children"),
    ("build-done", "data"),
    ("build-poll", "disabled"),
]


def poll_build(session: requests.Session, base: str, model: str, n: int = 1) -> dict:
    """The building page's interval callback: the model's progress as this replica reads it."""
    body = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in POLL_OUTPUTS) + "..",
        "outputs": [{"id": i, "property": p} for i, p in POLL_OUTPUTS],
        "inputs": [{"id": "build-poll", "property": "n_intervals", "value": n}],
        "state": [{"id": "build-model", "property": "data", "value": model}],
        "changedPropIds": ["build-poll.n_intervals"],
    }
    response = session.post(base + DASH, json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json()["response"]


def contribution_pie(session: requests.Session, base: str, model: str) -> dict:
    """A page's own figure callback (the contribution page's bar/pie switch)."""
    from mmm_dash.cli.page_bench import callback_body

    body = callback_body(
        ("contribution-chart", "figure"),
        [("contribution-chart-type", "value", "pie")],
        [("contribution-view", "data", {"model": model, "period": "all"})],
    )
    response = session.post(base + DASH, json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json()["response"]["contribution-chart"]["figure"]


def export(session: requests.Session, base: str, filename: str, model: str) -> requests.Response:
    return session.get(f"{base}/export/{filename}", params={"model": model}, timeout=30)


def same_second_exports(session, bases: list[str], filename: str, model: str) -> list[bytes]:
    """The export from each replica, fetched until all carry the same `generated_at` second."""
    for _ in range(5):
        bodies = []
        for base in bases:
            response = export(session, base, filename, model)
            assert response.status_code == 200, response.text[:500]
            bodies.append(response.content)
        stamps = {json.loads(b)["generated_at"] for b in bodies}
        if len(stamps) == 1:
            return bodies
    raise AssertionError("the exports never came within one second of each other")


def without_volatile(document: dict) -> dict:
    """An export document without what differs between two models built from one source."""
    return {k: v for k, v in document.items() if k not in ("generated_at", "model")}


# -- waiting on the shared state -------------------------------------------------------------------
def wait_built(team: Deployment, name: str, timeout: float = BUILD_WAIT) -> dict:
    def built():
        row = team.build_row(name)
        assert not (row and row["failed"]), f"the build of {name} failed: {row['error']}"
        return row if row and row["built_at"] else None

    return wait_for(built, timeout, f"the bundle of {name} to be stored", interval=0.2)


def wait_in_manifest(team: Deployment, name: str) -> None:
    # the worker scans MODEL_DIR every MANIFEST_SCAN_SECONDS (10 s) from a 5 s housekeeping loop
    wait_for(lambda: name in team.manifest_names(), 25, f"{name} in the model manifest", interval=0.3)


def stored_bundle(team: Deployment, name: str):
    """The bundle of `name` as stored in bundle_blobs, its signature checked."""
    from mmm_dash.builder.keys import key_sha256
    from mmm_dash.builder.signing import open_sealed, signing_key

    key = team.manifest_key(name)
    with team.engine.connect() as conn:
        data = conn.execute(sa.text("SELECT data FROM bundle_blobs WHERE key = :k"), {"k": key}).scalar_one()
    return open_sealed(data, signing_key(SECRET), bound_to=key, sha256=key_sha256(key))


def fake_builds(team: Deployment, name: str, event: str = "start") -> list[int]:
    """PIDs of the processes that started (or finished) the fake build of `name`."""
    return [pid for e, n, pid in read_log(team.fake_log) if e == event and n == name]


# -- 1. one sign-in, every replica -------------------------------------------------------------------
def test_signed_in_on_a_the_cookie_opens_pages_and_exports_on_b(team):
    a, b = team.base("A"), team.base("B")
    browser = requests.Session()
    cookie = sign_in(browser, a, EMAIL, PASSWORD)

    from mmm_dash.cli.page_bench import router_body

    anonymous = requests.Session().post(b + DASH, json=router_body("/", "?model=alpha"), timeout=10)
    assert anonymous.status_code == 401  # B does not answer pages to anyone: the cookie is what counts

    on_b = session_with(cookie)
    for path in ("/", "/roi", "/contribution", "/response-curves"):
        tree = open_page(on_b, b, path, "alpha")
        assert page_kind(tree) == "ready" and shows_model(tree, "alpha"), path
    pie = contribution_pie(on_b, b, "alpha")
    assert pie["data"][0]["type"] == "pie"
    metrics = export(on_b, b, "metrics.json", "alpha")
    assert metrics.status_code == 200 and metrics.headers["Content-Disposition"].startswith("attachment")
    document = metrics.json()
    assert document["model"]["name"] == "alpha" and document["channels"]
    report = export(on_b, b, "report.html", "alpha")
    assert report.status_code == 200 and b"alpha" in report.content


# -- 2. sign-in limits shared through Redis ------------------------------------------------------
def test_five_failed_sign_ins_on_a_make_the_sixth_on_b_answer_429(team):
    import redis

    a, b = team.base("A"), team.base("B")
    statuses = [post_sign_in(requests.Session(), a, TARGET, f"wrong-{i}").status_code for i in range(5)]
    assert statuses == [401] * 5
    sixth = post_sign_in(requests.Session(), b, TARGET, "wrong-6")
    assert sixth.status_code == 429 and sixth.headers["Retry-After"] == "60"
    counters = redis.Redis(host="127.0.0.1", port=team.redis.port, db=0).keys("*mmm-login*")
    assert counters, "the counters are not in the deployment's Redis"


# -- 3. a new model: in the manifest, requested on A, built once, served by B ---------------------------
def test_a_new_model_is_built_once_by_the_worker_and_served_by_both_replicas(team):
    a, b = team.base("A"), team.base("B")
    browser = session_with(team.cookie)
    write_model(team.model_dir, "gamma")
    wait_in_manifest(team, "gamma")

    assert page_kind(open_page(browser, a, "/", "gamma")) == "building"  # requested on A
    assert page_kind(open_page(browser, b, "/", "gamma")) in ("building", "ready")  # asked again, on B

    seen = []  # what B's progress poll shows of a build that A asked for

    def done_on_b():
        answer = poll_build(browser, b, "gamma", n=len(seen) + 1)
        seen.append(answer)
        return answer.get("build-done", {}).get("data")

    assert wait_for(done_on_b, BUILD_WAIT, "B's progress poll to see gamma ready", interval=0.5) == {"status": "ready"}
    progress = [s["build-progress"]["value"] for s in seen if "build-progress" in s and s["build-progress"]["value"]]
    assert any(2 < p < 100 for p in progress), f"B never showed the build's progress: {progress}"

    for base in (a, b):
        tree = open_page(browser, base, "/", "gamma")
        assert page_kind(tree) == "ready" and shows_model(tree, "gamma")
    on_a, on_b = same_second_exports(browser, [a, b], "metrics.json", "gamma")
    assert on_a == on_b
    assert json.loads(on_a)["model"]["name"] == "gamma"

    row = team.build_row("gamma")
    assert row["attempts"] == 1 and row["built_at"]
    assert len(fake_builds(team, "gamma")) == 1 and len(fake_builds(team, "gamma", "done")) == 1


# -- 4. a worker killed in the middle of a build --------------------------------------------------
def test_a_worker_killed_mid_build_is_replaced_and_the_build_completes_as_if_uninterrupted(team):
    a, b = team.base("A"), team.base("B")
    browser = session_with(team.cookie)
    wait_in_manifest(team, "delta")
    assert page_kind(open_page(browser, a, "/", "delta")) == "building"

    def midway():
        row = team.build_row("delta")
        return row if row and row["owner"] and 0.2 <= row["progress"] < 0.9 else None

    before = wait_for(midway, BUILD_WAIT, "the build of delta to be half way", interval=0.05)
    killed = team.worker
    killed.kill()  # SIGKILL to the worker and its build child: no clean-up, no message, the lease just stops
    assert not killed.running()
    assert team.build_row("delta")["built_at"] is None and before["attempts"] == 1

    try:
        fresh = team.start_worker()
        team.wait_worker(fresh)
        row = wait_built(team, "delta")
    finally:
        if not team.worker.running():  # leave a worker for the tests after this one
            team.wait_worker(team.start_worker())
    assert row["attempts"] == 2 and not row["failed"]
    started, finished = fake_builds(team, "delta"), fake_builds(team, "delta", "done")
    assert len(started) == 2 and len(finished) == 1 and finished[0] != started[0], (started, finished)

    # the stored result is what an uninterrupted build (alpha's) stored, up to the model's name
    delta, alpha = stored_bundle(team, "delta"), stored_bundle(team, "alpha")
    assert delta.info.name == "delta"
    assert pickle.dumps(renamed(delta, "x", "x", "x")) == pickle.dumps(renamed(alpha, "x", "x", "x"))
    exported = [json.loads(export(browser, b, "metrics.json", m).content) for m in ("delta", "alpha")]
    assert without_volatile(exported[0]) == without_volatile(exported[1])


# -- 5. a tampered bundle ---------------------------------------------------------------------------
class _CreatesFile:
    """Unpickling this opens (creates) a file: the proof that a payload ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "x"))


def test_a_tampered_stored_bundle_is_refused_before_unpickling(team, tmp_path):
    from mmm_dash.builder.signing import MAC_BYTES, MAGIC

    a, b = team.base("A"), team.base("B")
    browser = session_with(team.cookie)
    wait_in_manifest(team, "epsilon")
    assert page_kind(open_page(browser, a, "/", "epsilon")) == "building"
    wait_built(team, "epsilon")  # read from the database only: no replica has loaded the bundle

    marker = tmp_path / "payload-ran"
    payload = zlib.compress(pickle.dumps(_CreatesFile(marker)))
    key = team.manifest_key("epsilon")
    with team.engine.begin() as conn:
        signed = conn.execute(sa.text("SELECT data FROM bundle_blobs WHERE key = :k"), {"k": key}).scalar_one()
        tampered = signed[: len(MAGIC) + MAC_BYTES] + payload  # the real signature, other bytes
        conn.execute(sa.text("UPDATE bundle_blobs SET data = :d WHERE key = :k"), {"d": tampered, "k": key})

    for base in (a, b):
        tree = open_page(browser, base, "/", "epsilon")
        assert page_kind(tree) == "failed"
        assert INTEGRITY in text_of(component(tree, "model-error")), text_of(tree)[:1000]
        refused = export(browser, base, "metrics.json", "epsilon")
        assert refused.status_code == 422 and INTEGRITY in refused.json()["error"], refused.text[:500]
    assert not marker.exists(), "a replica unpickled the tampered bytes"
    assert fake_builds(team, "epsilon") and len(fake_builds(team, "epsilon")) == 1  # refused, not rebuilt

    pickle.loads(zlib.decompress(payload))  # noqa: S301  (the test's own payload, to show it was live)
    assert marker.exists()


# -- 6. Redis stopped, then started again ------------------------------------------------------------
def test_without_redis_ready_pages_answer_new_builds_wait_and_resume_when_it_is_back(team):
    a, b = team.base("A"), team.base("B")
    browser = session_with(team.cookie)
    wait_in_manifest(team, "zeta")
    team.redis.stop()
    try:
        for base in (a, b):
            tree = open_page(browser, base, "/", "alpha")
            assert page_kind(tree) == "ready" and shows_model(tree, "alpha")
            assert contribution_pie(browser, base, "alpha")["data"]
            assert export(browser, base, "metrics.json", "alpha").status_code == 200

        started = time.monotonic()
        assert page_kind(open_page(browser, a, "/", "zeta")) == "building"
        asked_in = time.monotonic() - started
        assert asked_in < 10, f"asking for a build with the broker down took {asked_in:.1f} s"
        time.sleep(LEASE_SECONDS + 1)  # long enough for any sent task to have been claimed
        row = team.build_row("zeta")
        assert row["owner"] is None and row["attempts"] == 0 and row["built_at"] is None, row
        polled = poll_build(browser, b, "zeta")  # B's poll also tries to send it: still no broker
        assert "build-done" not in polled and polled["build-poll"]["disabled"] is False
        assert team.build_row("zeta")["attempts"] == 0
    finally:
        if not team.redis.running():
            team.redis.start()  # the same port: every process finds it where it was
    wait_built(team, "zeta", timeout=45)
    assert len(fake_builds(team, "zeta")) == 1
    tree = open_page(browser, b, "/", "zeta")
    assert page_kind(tree) == "ready" and shows_model(tree, "zeta")


def test_sign_in_while_redis_is_down_still_works(team):
    """Sign-in limits fall back to each process's memory for the length of the outage."""
    team.redis.stop()
    try:
        answer = post_sign_in(requests.Session(), team.base("B"), EMAIL, PASSWORD)
    finally:
        team.redis.start()
    assert answer.status_code == 302, f"sign-in answered {answer.status_code} while Redis was down"


# -- a real Meridian build, end to end -----------------------------------------------------------------
@pytest.mark.slow
def test_a_real_model_is_built_by_a_worker_as_it_is_in_process(tmp_path, postgres_admin_url):
    """No fake step: the worker runs Meridian on a small fitted model; its export on a replica equals
    the export of the same model built in this process."""
    require_redis_server()
    from mmm_dash.builder.catalog import ModelCatalog
    from mmm_dash.core.exports.files import BY_NAME, render
    from mmm_dash.core.status import BundleStatus
    from tests.model.shapes import fitted_model_path

    model = fitted_model_path("national_revenue", TEST_CACHE)  # fitted once per machine (minutes), then cached
    in_process_dir = tmp_path / "in-process-models"
    in_process_dir.mkdir()
    shutil.copy2(model, in_process_dir / "national_revenue.pkl")
    state = ModelCatalog(in_process_dir, TEST_CACHE / "cache").build("national_revenue")
    assert state.status is BundleStatus.READY, state.message
    expected = json.loads(render(BY_NAME["metrics.json"], state.bundle, state.bundle.period("all")))

    root = tmp_path / "team"
    root.mkdir()
    (root / "models").mkdir()
    shutil.copy2(model, root / "models" / "national_revenue.pkl")
    with fresh_postgres_database(postgres_admin_url) as database_url:
        team = start(root, database_url, {"BUILD_TIME_LIMIT": "900"}, replicas=("A",))
        try:
            browser = session_with(sign_in(requests.Session(), team.base("A"), EMAIL, PASSWORD))
            wait_in_manifest(team, "national_revenue")
            assert page_kind(open_page(browser, team.base("A"), "/", "national_revenue")) == "building"
            row = wait_built(team, "national_revenue", timeout=900)
            assert row["attempts"] == 1
            response = export(browser, team.base("A"), "metrics.json", "national_revenue")
            assert response.status_code == 200, response.text[:500]
        except BaseException:
            print(team.logs())
            raise
        finally:
            team.stop()
    got = response.json()
    assert got["model"] == expected["model"]
    assert_close(without_volatile(got), without_volatile(expected))


def assert_close(got, expected, path: str = "", rel: float = 1e-9) -> None:
    """Equal documents, numbers equal up to `rel` (the same computation, in another process)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), path
        for key in expected:
            assert_close(got[key], expected[key], f"{path}.{key}", rel)
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), path
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_close(g, e, f"{path}[{i}]", rel)
    elif isinstance(expected, float) and isinstance(got, float):
        assert got == pytest.approx(expected, rel=rel, abs=1e-12), path
    else:
        assert got == expected, path
