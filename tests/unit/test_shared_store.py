"""The team deployment's shared pieces without a server: signed bundles (a tampered row never reaches
pickle), the SQL bundle store and the model manifest, on SQLite files (the same SQL runs on PostgreSQL,
tested in tests/integration/test_celery_builds.py)."""

from __future__ import annotations

import os
import pickle
import time

import pytest
import sqlalchemy as sa

from mmm_dash.builder.discovery import ModelFiles
from mmm_dash.builder.manifest import ManifestModels, sync_manifest
from mmm_dash.builder.signing import MAGIC, TamperedBundle, open_sealed, seal, signing_key
from mmm_dash.builder.store import SqlBundleStore
from mmm_dash.builder.tables import bundle_blobs, metadata
from mmm_dash.config import ConfigError, load_settings
from tests.unit.test_builds import tiny_bundle

KEY = signing_key("a-secret-key-of-this-deployment")
BOUND = {"bound_to": "ab12:2.1.0:7", "sha256": "ab12"}


class Boom:
    """A pickle that runs code when loaded: it leaves a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture()
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    metadata.create_all(engine)
    return engine


def test_a_sealed_bundle_opens_with_its_key_only():
    bundle = tiny_bundle("m")
    sealed = seal(bundle, KEY, **BOUND)
    assert open_sealed(sealed, KEY, **BOUND).info.name == "m"
    with pytest.raises(TamperedBundle, match="signature"):
        open_sealed(sealed, signing_key("another-deployment-key"), **BOUND)


def test_tampered_bytes_are_refused_before_anything_is_unpickled(tmp_path):
    import hashlib
    import hmac
    import zlib

    marker = tmp_path / "code-ran"
    evil = zlib.compress(pickle.dumps(Boom(marker)))
    forged = MAGIC + hmac.new(b"guessed key", evil, hashlib.sha256).digest() + evil
    for data in (forged, pickle.dumps(Boom(marker)), b"", MAGIC + b"short"):
        with pytest.raises(TamperedBundle):
            open_sealed(data, KEY, **BOUND)
    sealed = bytearray(seal(tiny_bundle("m"), KEY, **BOUND))
    sealed[-5] ^= 0xFF  # one flipped bit in the payload
    with pytest.raises(TamperedBundle):
        open_sealed(bytes(sealed), KEY, **BOUND)
    assert not marker.exists()


def test_the_sql_store_round_trips_and_refuses_a_tampered_row(engine, tmp_path):
    writer, reader = SqlBundleStore(engine, KEY), SqlBundleStore(engine, KEY)
    assert reader.get("k") is None
    writer.put("k", tiny_bundle("m"))
    assert reader.get("k").info.name == "m"
    with engine.begin() as conn:
        row = conn.execute(sa.select(bundle_blobs)).one()
        assert row.size == len(row.data) and len(row.content_sha256) == 64
        marker = tmp_path / "code-ran"
        conn.execute(sa.update(bundle_blobs).values(data=pickle.dumps(Boom(marker))))
    with pytest.raises(TamperedBundle):
        SqlBundleStore(engine, KEY).get("k")  # a replica that has not read it yet
    assert not marker.exists()
    writer.delete("k")
    assert SqlBundleStore(engine, KEY).get("k") is None
    reader.check()


def test_the_manifest_follows_model_dir_and_hashes_only_what_changed(engine, tmp_path):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / "a.pkl").write_bytes(b"model a")
    (model_dir / "b.binpb").write_bytes(b"model b")
    files = ModelFiles(model_dir)
    assert sync_manifest(engine, files, "2.1.0") == {"added": 2, "changed": 0, "removed": 0}
    listed = ManifestModels(engine, tmp_path / "elsewhere")  # a replica without the files
    assert [e.name for e in listed.entries()] == ["a", "b"]
    assert listed.sha256(listed.entry("a")) == files.sha256(files.entry("a"))

    hashed = []
    original = files.sha256
    files.sha256 = lambda entry: hashed.append(entry.name) or original(entry)
    assert sync_manifest(engine, files, "2.1.0") == {"added": 0, "changed": 0, "removed": 0}
    assert hashed == []  # nothing changed: nothing read
    (model_dir / "a.pkl").write_bytes(b"model a, refitted")
    os.utime(model_dir / "a.pkl", ns=(time.time_ns(), time.time_ns() + 10**9))
    (model_dir / "b.binpb").unlink()
    assert sync_manifest(engine, files, "2.1.0") == {"added": 0, "changed": 1, "removed": 1}
    assert hashed == ["a"]
    listed.forget_snapshot()
    assert [e.name for e in listed.entries()] == ["a"]
    assert listed.entry("a").sha256 == original(files.entry("a"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"BUNDLE_STORE": "s3"}, "BUNDLE_STORE must be one of"),
        (
            {"BUNDLE_STORE": "postgres", "CELERY_BROKER_URL": "redis://h/1", "SECRET_KEY": "k" * 32},
            "set DATABASE_URL to PostgreSQL",
        ),
        ({"BUNDLE_STORE": "postgres", "DATABASE_URL": "postgresql://u@h/db"}, "set CELERY_BROKER_URL too"),
        (
            {
                "CELERY_BROKER_URL": "redis://h:6379/1",
                "ENVIRONMENT": "production",
                "SECRET_KEY": "9f2c4e1a7b3d8e6f0a5c2b9d4e7f1a3c",
            },
            "set BUNDLE_STORE=postgres",
        ),
        ({"CELERY_BROKER_URL": "redis://h/1"}, "must share one SECRET_KEY"),
        ({"BUILD_LEASE_SECONDS": "0"}, "BUILD_LEASE_SECONDS must be a positive whole number"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be 0 or a positive"),
    ],
)
def test_team_settings_that_cannot_work_are_refused_in_one_sentence(settings, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        load_settings({"INSTANCE_DIR": str(tmp_path), **settings})


def test_proxy_hops_is_still_read_under_its_former_name(tmp_path):
    assert load_settings({"INSTANCE_DIR": str(tmp_path), "PROXY_HOPS": "2"}).TRUSTED_PROXY_COUNT == 2
    team = load_settings(
        {"INSTANCE_DIR": str(tmp_path), "CELERY_BROKER_URL": "redis://h/1", "DATABASE_URL": "postgres://u@h/d",
         "BUNDLE_STORE": "postgres", "SECRET_KEY": "k" * 32}
    )  # fmt: skip
    assert team.distributed and team.DATABASE_URL.startswith("postgresql+psycopg://")
