"""A stored bundle is bound to its model file, on the real PostgreSQL: a genuine row copied under another
model's key is refused, and a row signed the older way (over its bytes only) is rebuilt, not served."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import pickle
import zlib

import pytest
import sqlalchemy as sa

from mmm_dash.builder.catalog import ModelCatalog
from mmm_dash.builder.signing import signing_key
from mmm_dash.builder.store import SqlBundleStore
from mmm_dash.builder.tables import bundle_blobs, metadata
from mmm_dash.core.status import BundleStatus
from tests.unit.test_builds import tiny_bundle

pytestmark = pytest.mark.postgres

KEY = signing_key("the-deployment-secret-key")


def step(entry, sha256, progress):
    """A build that takes no time: the bundle names its model and file, as a real build does."""
    bundle = tiny_bundle(entry.name)
    return dataclasses.replace(bundle, info=dataclasses.replace(bundle.info, sha256=sha256))


@pytest.fixture()
def shared(postgres_database, tmp_path):
    engine = sa.create_engine(postgres_database)
    metadata.create_all(engine)
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    (model_dir / "demo.binpb").write_bytes(b"the demo model")
    (model_dir / "other.binpb").write_bytes(b"a different model")

    def catalog() -> ModelCatalog:  # a replica that has not read any bundle yet
        return ModelCatalog(model_dir, tmp_path / "cache", step=step, store=SqlBundleStore(engine, KEY))

    yield engine, catalog
    engine.dispose()


def test_a_genuine_row_copied_under_another_models_key_is_refused(shared):
    engine, catalog = shared
    writer = catalog()
    assert writer.build("demo").status is BundleStatus.READY
    demo_key, other_key = writer.key(writer.entry("demo")), writer.key(writer.entry("other"))
    with engine.begin() as conn:  # someone with database access copies the demo's row to the other model
        row = conn.execute(sa.select(bundle_blobs).where(bundle_blobs.c.key == demo_key)).one()._asdict()
        conn.execute(sa.insert(bundle_blobs).values({**row, "key": other_key}))

    reader = catalog()
    state = reader.state("other")
    assert state.status is BundleStatus.FAILED and state.bundle is None
    assert "failed its integrity check" in state.message and "copied" in state.message
    assert reader.state("demo").status is BundleStatus.READY  # the genuine row still serves its own model


def test_a_row_signed_the_old_way_is_rebuilt_not_served(shared):
    engine, catalog = shared
    writer = catalog()
    entry = writer.entry("demo")
    key = writer.key(entry)
    payload = zlib.compress(pickle.dumps(step(entry, writer.sha256(entry), None)))
    old = b"MMMB1\n" + hmac.new(KEY, payload, hashlib.sha256).digest() + payload  # the former format, genuine
    with engine.begin() as conn:
        conn.execute(
            sa.insert(bundle_blobs).values(key=key, content_sha256="0" * 64, size=len(old), created_at=0.0, data=old)
        )

    reader = catalog()
    state = reader.state("demo")
    assert state.status is BundleStatus.MISSING and state.bundle is None
    assert "signed by an older mmm-dash" in state.message and "being rebuilt" in state.message
    queued = reader.request_build("demo")  # what a page does for a missing bundle
    assert queued.status is BundleStatus.QUEUED and "being rebuilt" in queued.message
    assert reader.build("demo").status is BundleStatus.READY
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(bundle_blobs.c.data).where(bundle_blobs.c.key == key))
            .scalar()
            .startswith(b"MMMB2\n")
        )
    assert catalog().state("demo").status is BundleStatus.READY
