"""Which pieces a catalog is made of, from the settings: the one place that decides between one
machine (files, diskcache, a local builder) and a team deployment (manifest, database, Celery)."""

from __future__ import annotations

import importlib

from mmm_dash.builder.catalog import BuildStep, ModelCatalog, meridian_step
from mmm_dash.builder.discovery import ModelFileError
from mmm_dash.builder.state import BuildBook
from mmm_dash.config import ConfigError, Settings


def step_named(dotted: str) -> BuildStep:
    """`module:function`, or Meridian's own build step when empty."""
    if not dotted:
        return meridian_step
    module, _, attr = dotted.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"BUILD_STEP {dotted!r} names no function ({exc}).") from None


def time_limited(step: BuildStep, seconds: int) -> BuildStep:
    """Celery's soft time limit, said in the words an operator needs (and final: a retry would repeat it)."""
    from celery.exceptions import SoftTimeLimitExceeded

    def limited(entry, sha256, progress):
        try:
            return step(entry, sha256, progress)
        except SoftTimeLimitExceeded:
            raise ModelFileError(
                f"The analysis of {entry.path.name} took longer than BUILD_TIME_LIMIT ({seconds} s) and was stopped."
            ) from None

    return limited


def catalog_for(settings: Settings, *, worker: bool = False, step: BuildStep | None = None) -> ModelCatalog:
    """The catalog of a web process (`worker=False`) or of a build worker, as the settings say."""
    from mmm_dash.builder.model_admin import ModelFlags
    from mmm_dash.builder.tables import engine_for

    step = step or step_named(settings.BUILD_STEP)
    engine = engine_for(settings.DATABASE_URL)
    flags = ModelFlags(engine)
    if not settings.distributed:  # one machine: bundles and build state in CACHE_DIR, a local builder
        book = BuildBook(
            settings.CACHE_DIR, max_attempts=settings.BUILD_MAX_ATTEMPTS, lease_seconds=settings.BUILD_LEASE_SECONDS
        )
        return ModelCatalog(settings.MODEL_DIR, settings.CACHE_DIR, step=step, book=book, flags=flags)

    store = None  # BUNDLE_STORE=diskcache: CACHE_DIR, for a worker on the web's own machine (development)
    if settings.BUNDLE_STORE == "postgres":
        from mmm_dash.builder.signing import signing_key
        from mmm_dash.builder.store import SqlBundleStore

        store = SqlBundleStore(engine, signing_key(settings.SECRET_KEY))
    from mmm_dash.builder.manifest import ManifestModels
    from mmm_dash.builder.shared_state import SqlBuildBook
    from mmm_dash.builder.tasks import CeleryQueue

    book = SqlBuildBook(engine, max_attempts=settings.BUILD_MAX_ATTEMPTS, lease_seconds=settings.BUILD_LEASE_SECONDS)
    if worker:
        step = time_limited(step, settings.BUILD_TIME_LIMIT)
    files = None if worker else ManifestModels(engine, settings.MODEL_DIR)  # only workers read MODEL_DIR
    return ModelCatalog(
        settings.MODEL_DIR, settings.CACHE_DIR, step=step, book=book, files=files, store=store,
        queue=CeleryQueue(settings, book), flags=flags,
    )  # fmt: skip
