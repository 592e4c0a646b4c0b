"""`/admin/models`: admins list, rebuild, archive, choose the default and upload models; nobody else
can; uploads never accept pickles, never escape MODEL_DIR and never leave half a file behind."""

from __future__ import annotations

import re
import shutil
import time

import pytest
import sqlalchemy as sa

from mmm_dash.core.status import BundleStatus
from tests.helpers import DEMO_MODEL, create_user, login, make_app

PROTO = b"\x0a\x04demo"  # bytes only: uploads are checked by name, size and place, then analysed in the background


@pytest.fixture()
def admin_app(tmp_path, demo_cache_dir):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy2(DEMO_MODEL, model_dir / DEMO_MODEL.name)
    (model_dir / "second.pkl").write_bytes(DEMO_MODEL.read_bytes()[:1000])
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", model_dir, demo_cache_dir)
    create_user(app, "admin@example.com", "admin-pass-123", role="admin")
    create_user(app, "analyst@example.com", "analyst-pass-123", role="analyst")
    return app


@pytest.fixture()
def admin(admin_app):
    client = admin_app.server.test_client()
    assert login(client, "admin@example.com", "admin-pass-123").status_code == 302
    return client


def _token(client) -> str:
    page = client.get("/admin/models").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _models(app):
    return app.server.extensions["mmm_dash"].models


def test_only_admins_reach_the_model_admin(admin_app, admin):
    analyst = admin_app.server.test_client()
    login(analyst, "analyst@example.com", "analyst-pass-123")
    assert analyst.get("/admin/models").status_code == 403
    assert analyst.post("/admin/models/demo_mmm/archive", data={"archived": "1"}).status_code == 403
    assert admin_app.server.test_client().get("/admin/models").status_code in (302, 401)
    page = admin.get("/admin/models").get_data(as_text=True)
    demo = DEMO_MODEL.read_bytes()
    import hashlib

    assert "demo_mmm" in page and "second" in page and hashlib.sha256(demo).hexdigest()[:12] in page
    assert "ready" in page and "2.1.0" in page


def test_archive_hides_a_model_from_pages_and_default_puts_one_first(admin_app, admin):
    models = _models(admin_app)
    token = _token(admin)
    assert models.names() == ["demo_mmm", "second"]
    assert admin.post("/admin/models/second/default", data={"csrf_token": token}).status_code == 302
    time.sleep(2.1)  # other processes see flags within their 2 s snapshot; this one was told at once
    assert models.names() == ["second", "demo_mmm"] and models.entry(None).name == "second"
    admin.post("/admin/models/second/archive", data={"csrf_token": token, "archived": "1"})
    assert models.names() == ["demo_mmm"] and models.entry("second") is not None  # a link still resolves
    assert "archived" in admin.get("/admin/models").get_data(as_text=True)
    admin.post("/admin/models/second/archive", data={"csrf_token": token, "archived": "0"})
    assert models.names() == ["demo_mmm", "second"]  # archiving dropped the default flag


def test_rebuild_clears_a_failure_and_requests_a_build(admin_app, admin):
    models = _models(admin_app)
    assert models.build("second").status is BundleStatus.FAILED
    admin.post("/admin/models/second/rebuild", data={"csrf_token": _token(admin)})
    assert models.state("second").status is BundleStatus.QUEUED


def test_forms_without_a_csrf_token_are_refused(admin):
    assert admin.post("/admin/models/demo_mmm/archive", data={"archived": "1"}).status_code == 400


def test_uploads_refuse_pickles_and_write_sanitised_names_atomically(admin_app, admin):
    models = _models(admin_app)
    token = _token(admin)
    from io import BytesIO

    response = admin.post(
        "/admin/models/upload",
        data={"csrf_token": token, "model_file": (BytesIO(b"\x80\x04evil"), "model.pkl")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "pickles are not accepted" in response.get_data(as_text=True)
    assert not (models.model_dir / "model.pkl").exists()

    response = admin.post(
        "/admin/models/upload",
        data={"csrf_token": token, "model_file": (BytesIO(PROTO * 400_000), "../../Q3 refit (final).binpb")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Uploaded Q3_refit_final.binpb" in response.get_data(as_text=True)
    written = models.model_dir / "Q3_refit_final.binpb"
    assert written.read_bytes() == PROTO * 400_000  # 2.4 MB: past the app's 1 MB form limit, within the upload's
    assert sorted(p.name for p in models.model_dir.iterdir() if p.name.startswith(".")) == []  # no draft left
    assert models.state("Q3_refit_final").status is BundleStatus.QUEUED

    again = admin.post(
        "/admin/models/upload",
        data={"csrf_token": token, "model_file": (BytesIO(b"other"), "Q3 refit (final).binpb")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "already exists" in again.get_data(as_text=True) and written.read_bytes() == PROTO * 400_000


def test_team_uploads_wait_in_the_database_until_a_worker_writes_them(tmp_path):
    from mmm_dash.builder.discovery import ModelFiles
    from mmm_dash.builder.model_admin import UploadRefused, deliver_uploads, queue_upload, upload_name
    from mmm_dash.builder.tables import metadata, model_uploads

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    metadata.create_all(engine)
    queue_upload(engine, upload_name("fit.binpb"), b"model bytes", "admin@example.com", False, set())
    with pytest.raises(UploadRefused, match="already exists"):  # the model's name, whatever the suffix
        queue_upload(engine, "fit.txtpb", b"x", "admin@example.com", False, {"fit"})
    with pytest.raises(UploadRefused, match="still waiting"):  # one upload per model name waits at a time
        queue_upload(engine, "fit.txtpb", b"x", "admin@example.com", True, set())
    assert deliver_uploads(engine, tmp_path / "models") == ["fit.binpb"]
    assert (tmp_path / "models" / "fit.binpb").read_bytes() == b"model bytes"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(model_uploads)).scalar() == 0
    queue_upload(engine, "fit.txtpb", b"a refit", "admin@example.com", True, {"fit"})  # an explicit replace
    (delivered,) = deliver_uploads(engine, tmp_path / "models")
    assert delivered.startswith("fit/") and (tmp_path / "models" / delivered).read_bytes() == b"a refit"
    versions = ModelFiles(tmp_path / "models").entries()  # newest first
    assert [(e.model, e.path.read_bytes()) for e in versions] == [("fit", b"a refit"), ("fit", b"model bytes")]
    for bad, reason in (("x.pickle", "pickle"), ("x.csv", "Upload a Meridian model"), ("....binpb", "no usable")):
        with pytest.raises(UploadRefused, match=reason):
            upload_name(bad)


def test_the_same_operations_from_the_command_line(admin_app, monkeypatch):
    from click.testing import CliRunner

    from mmm_dash.cli import cli

    settings = admin_app.server.extensions["mmm_dash"].settings
    for name in ("DATABASE_URL", "SECRET_KEY", "MODEL_DIR", "CACHE_DIR", "INSTANCE_DIR"):
        monkeypatch.setenv(name, str(getattr(settings, name)))
    runner = CliRunner()
    assert runner.invoke(cli, ["archive-model", "second"]).exit_code == 0
    assert "second" not in _models(make_app(settings.DATABASE_URL, settings.MODEL_DIR, settings.CACHE_DIR)).names()
    assert runner.invoke(cli, ["archive-model", "second", "--undo"]).exit_code == 0
    assert runner.invoke(cli, ["default-model", "second"]).exit_code == 0
    fresh = _models(make_app(settings.DATABASE_URL, settings.MODEL_DIR, settings.CACHE_DIR))
    assert fresh.names() == ["second", "demo_mmm"]
    result = runner.invoke(cli, ["rebuild-model", "second"])
    assert result.exit_code == 0 and "queued" in result.output
    assert runner.invoke(cli, ["default-model", "nope"]).exit_code == 1


def test_model_operations_are_in_the_audit_trail(admin_app, admin):
    from mmm_dash.web import audit

    token = _token(admin)
    admin.post("/admin/models/second/archive", data={"csrf_token": token, "archived": "1"})
    admin.post("/admin/models/demo_mmm/default", data={"csrf_token": token})
    from io import BytesIO

    admin.post(
        "/admin/models/upload",
        data={"csrf_token": token, "model_file": (BytesIO(b"\x80evil"), "x.pkl")},
        content_type="multipart/form-data",
    )
    with admin_app.server.app_context():
        events = [(e.action, e.object, e.outcome, e.user_email) for e in audit.AuditEvent.query.all()]
    assert (audit.MODEL_ARCHIVE, "second", audit.OK, "admin@example.com") in events
    assert (audit.MODEL_DEFAULT, "demo_mmm", audit.OK, "admin@example.com") in events
    assert (audit.MODEL_UPLOAD, "x.pkl", audit.DENIED, "admin@example.com") in events


# -- uploads never replace a model silently (issue 22, C) ----------------------------------------------
def _upload(client, token: str, filename: str, data: bytes, replace: bool = False):
    from io import BytesIO

    form = {"csrf_token": token, "model_file": (BytesIO(data), filename)}
    if replace:
        form["replace"] = "1"
    return client.post("/admin/models/upload", data=form, content_type="multipart/form-data", follow_redirects=True)


def _events(app, action):
    from mmm_dash.web import audit

    with app.server.app_context():
        return [(e.object, e.outcome, e.detail) for e in audit.AuditEvent.query.filter_by(action=action).all()]


def test_an_upload_under_a_models_name_is_refused_without_replace(admin_app, admin):
    from mmm_dash.web import audit

    models = _models(admin_app)
    refused = _upload(admin, _token(admin), "demo_mmm.binpb", PROTO)  # the model demo_mmm is demo_mmm.pkl
    assert "A model named demo_mmm already exists" in refused.text and "Uploaded" not in refused.text
    assert not (models.model_dir / "demo_mmm.binpb").exists()
    assert models.entry("demo_mmm").path.name == "demo_mmm.pkl"
    assert models.state("demo_mmm").status is BundleStatus.READY
    assert admin.get("/export/metrics.json?model=demo_mmm&period=all").status_code == 200
    assert ("demo_mmm.binpb", audit.DENIED) in [e[:2] for e in _events(admin_app, audit.MODEL_UPLOAD)]


def test_replace_adds_the_newest_version_and_keeps_the_old_file_as_the_previous_one(admin_app, admin):
    from mmm_dash.web import audit

    models = _models(admin_app)
    replaced = _upload(admin, _token(admin), "demo_mmm.binpb", PROTO, replace=True)
    assert "the newest version of demo_mmm" in replaced.text and "kept as the previous version" in replaced.text
    folder = models.model_dir / "demo_mmm"
    assert not (models.model_dir / "demo_mmm.pkl").exists() and not (models.model_dir / "demo_mmm.binpb").exists()
    newest, previous = models.versions("demo_mmm")
    assert newest.path.parent == previous.path.parent == folder
    assert newest.path.read_bytes() == PROTO and newest.path.suffix == ".binpb"
    assert previous.path.read_bytes() == DEMO_MODEL.read_bytes() and previous.path.suffix == ".pkl"
    assert models.models() == ["demo_mmm", "second"]
    assert models.state(previous.name).status is BundleStatus.READY  # the old file's analysis still serves
    assert models.state(newest.name).status is BundleStatus.QUEUED
    old = admin.get(f"/export/metrics.json?model=demo_mmm&version={previous.version}&period=all")
    assert old.status_code == 200
    ((obj, _outcome, detail),) = [e for e in _events(admin_app, audit.MODEL_UPLOAD) if e[1] == audit.OK]
    assert obj == "demo_mmm.binpb" and detail.startswith(f"{len(PROTO)} bytes; replace") and previous.name in detail

    again = _upload(admin, _token(admin), "demo_mmm.txtpb", b"a third fit", replace=True)
    assert "the newest version of demo_mmm" in again.text
    fits = [e.path.read_bytes() for e in models.versions("demo_mmm")]  # newest first
    assert fits == [b"a third fit", PROTO, DEMO_MODEL.read_bytes()]


def test_the_default_flag_of_a_model_follows_it_into_its_versions(admin_app, admin):
    models = _models(admin_app)
    token = _token(admin)
    admin.post("/admin/models/second/default", data={"csrf_token": token})
    _upload(admin, token, "second.binpb", PROTO, replace=True)
    assert models.models() == ["second", "demo_mmm"]


def test_simultaneous_uploads_of_one_new_name_write_one_file_and_tell_the_others(admin_app):
    import threading

    models = _models(admin_app)
    clients = []
    for _ in range(6):
        client = admin_app.server.test_client()
        assert login(client, "admin@example.com", "admin-pass-123").status_code == 302
        clients.append((client, _token(client)))
    # the same model name from every admin: four as .binpb, two as .txtpb
    uploads = [(f"q4.{'binpb' if i < 4 else 'txtpb'}", bytes([i]) * 3_000_000) for i in range(len(clients))]
    start, answers = threading.Barrier(len(clients)), [None] * len(clients)

    def send(i):
        client, token = clients[i]
        start.wait()
        answers[i] = _upload(client, token, *uploads[i]).text

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [i for i, text in enumerate(answers) if "Uploaded" in text]
    assert len(won) == 1, [re.findall(r"(Uploaded[^<]*|A model named[^<]*|Another upload[^<]*)", t) for t in answers]
    assert all("already exists" in t or "Another upload" in t for i, t in enumerate(answers) if i != won[0])
    files = [p for p in models.model_dir.iterdir() if p.name.startswith("q4")]
    assert [p.name for p in files] == [uploads[won[0]][0]] and files[0].read_bytes() == uploads[won[0]][1]


@pytest.mark.postgres
def test_simultaneous_team_uploads_of_one_name_queue_one_on_postgres(postgres_database):
    import threading

    from mmm_dash.builder.model_admin import UploadRefused, queue_upload
    from mmm_dash.builder.tables import metadata, model_uploads

    engine = sa.create_engine(postgres_database, pool_size=8)
    metadata.create_all(engine)
    names = ["q4.binpb"] * 4 + ["q4.txtpb"] * 4  # one model name, two file names
    start, outcomes = threading.Barrier(len(names)), []

    def send(i):
        start.wait()
        try:
            queue_upload(engine, names[i], bytes([i]) * 100_000, "admin@example.com", False, set())
            outcomes.append("queued")
        except UploadRefused as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == len(names) and outcomes.count("queued") == 1, outcomes
    assert all("still waiting" in o for o in outcomes if o != "queued")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(model_uploads)).scalar() == 1
    engine.dispose()
