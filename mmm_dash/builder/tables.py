"""The shared tables of a team deployment (created by the web app's migrations, `init-db`).

With CELERY_BROKER_URL set, web replicas and workers on several machines share what one machine
keeps in CACHE_DIR: build requests and leases (`bundle_builds`), which workers are alive
(`build_workers`), which model files exist (`model_manifest`, written by workers, so replicas never
open model files), uploaded model files on their way to a worker's MODEL_DIR (`model_uploads`) and,
with BUNDLE_STORE=postgres, the signed bundles themselves (`bundle_blobs`). `model_flags` (archived,
default) is used on one machine too: an admin's choices live in the database, not in file names.
Plain SQLAlchemy Core: the builder runs in workers that have no Flask app.
"""

from __future__ import annotations

import functools
import os

import sqlalchemy as sa

metadata = sa.MetaData()

bundle_builds = sa.Table(
    "bundle_builds",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),  # <file sha256>:<Meridian version>:<schema>
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("path", sa.String(1000), nullable=False),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("enqueued_at", sa.Float, nullable=False, server_default="0"),  # last task sent for it
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("owner", sa.String(120)),  # the attempt holding the lease
    sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
    sa.Column("message", sa.String(500), nullable=False, server_default=""),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("failed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("built_at", sa.Float),  # set when the bundle was stored
)

build_workers = sa.Table(
    "build_workers",
    metadata,
    sa.Column("owner", sa.String(120), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False),
)

model_manifest = sa.Table(
    "model_manifest",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("file", sa.String(300), nullable=False),  # file inside MODEL_DIR: "demo_mmm.pkl", "acme/2025-06.binpb"
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("meridian_version", sa.String(40), nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
)

bundle_blobs = sa.Table(
    "bundle_blobs",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),  # signed, see builder.signing
)


model_flags = sa.Table(
    "model_flags",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),  # hidden from pages, file kept
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),  # listed and opened first
    sa.Column("updated_at", sa.Float, nullable=False),
)

model_uploads = sa.Table(
    "model_uploads",
    metadata,
    sa.Column("file", sa.String(300), primary_key=True),  # sanitised file name to write into MODEL_DIR
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_at", sa.Float, nullable=False),
    sa.Column("uploaded_by", sa.String(320), nullable=False, server_default=""),
)


_engines: list[sa.Engine] = []
CONNECT_TIMEOUT_SECONDS = 3


def engine_options(url: str) -> dict:
    """pool_pre_ping: a restarted database costs one reconnect, not an error page; a connect timeout:
    a database that is down answers "not ready" in seconds instead of hanging a request."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return options


@functools.cache
def engine_for(url: str) -> sa.Engine:
    """One small pool per database per process: workers and replicas multiply connections."""
    options = engine_options(url)
    if not url.startswith("sqlite"):
        options.update(pool_size=2, max_overflow=4, pool_recycle=1800)
    engine = sa.create_engine(url, **options)
    _engines.append(engine)
    return engine


def _leave_parent_connections() -> None:
    """In a forked child (each build of Celery's prefork pool), start with empty pools: a pooled
    connection inherited from the worker's main process is the same socket its housekeeping thread
    keeps using, and two processes talking on one socket corrupt each other's queries.
    `close=False` leaves those sockets open for the parent (SQLAlchemy's advice for forks)."""
    for engine in _engines:
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_leave_parent_connections)
