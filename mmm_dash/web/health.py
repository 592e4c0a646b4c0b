"""Liveness and readiness for load balancers and container health checks. Anonymous callers from
elsewhere learn only ready / not ready; the details (which service answers, the build backlog) are
for signed-in users and for probes on the machine itself (loopback), such as the container's health check.

A replica is ready when what it needs to answer requests answers: the database and, when configured,
the Redis behind the sign-in counters, the Celery broker and the bundle store. Bundles still building
(or none built yet) do not make it unready: pages say "being analysed" on their own, and a load
balancer that took every replica out of rotation until the first build finished would serve nothing.
The backlog is reported in the details instead."""

from __future__ import annotations

import ipaddress
import logging

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import text

from mmm_dash.web.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

PROBE_TIMEOUT = 1.0  # seconds per service: a health check must answer before the prober gives up
OK, UNREACHABLE = "ok", "unreachable"
# limits' spellings of a plain Redis (or Valkey) URL -> the redis client's
REDIS_CLIENT_SCHEMES = {
    "redis": "redis",
    "rediss": "rediss",
    "redis+unix": "unix",
    "valkey": "redis",
    "valkeys": "rediss",
    "valkey+unix": "unix",
}


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def may_see_details() -> bool:
    if current_user.is_authenticated:
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _probe(name: str, check) -> str:
    """Run one check; any error means "unreachable" (the reason goes to the log, not to the caller)."""
    try:
        check()
    except Exception as exc:  # every driver has its own errors; all mean "does not answer"
        log.warning("readyz: %s does not answer: %s", name, exc)
        return UNREACHABLE
    return OK


def _redis_url(url: str) -> str | None:
    """`url` in the redis client's spelling, or None when it is not a plain Redis (or Valkey) URL."""
    scheme, sep, rest = url.partition("://")
    client_scheme = REDIS_CLIENT_SCHEMES.get(scheme.lower())
    return f"{client_scheme}://{rest}" if sep and client_scheme else None


def ping_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)
    try:
        if not client.ping():
            raise ConnectionError("PING was not answered with PONG")
    finally:
        client.close()


def ping_broker(url: str) -> None:
    """The Celery broker: Redis through the redis client, any other transport (e.g. amqp://) through kombu."""
    redis_url = _redis_url(url)
    if redis_url:
        ping_redis(redis_url)
        return
    from kombu import Connection

    with Connection(url, connect_timeout=PROBE_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=PROBE_TIMEOUT)


def check_of(part):
    """`part.check` when the part (bundle store, build book) can tell whether it answers, else None:
    the local diskcache store has nothing to reach, the shared PostgreSQL one does."""
    check = getattr(part, "check", None)
    return check if callable(check) else None


def _database() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise


def _checks(state) -> dict:
    settings = state.settings
    checks = {"database": _probe("database", _database)}
    limits_uri = settings.RATELIMIT_STORAGE_URI
    if not limits_uri.startswith("memory://"):
        redis_url = _redis_url(limits_uri)
        checks["rate_limits"] = _probe(
            "rate-limit storage", (lambda: ping_redis(redis_url)) if redis_url else limiter_storage_check
        )
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _probe("Celery broker", lambda: ping_broker(settings.CELERY_BROKER_URL))
    catalog = state.models
    for name, part in (("bundle_store", "store"), ("build_state", "book")):
        check = check_of(getattr(catalog, part, None))
        if check is not None:
            checks[name] = _probe(name.replace("_", " "), check)
    return checks


def limiter_storage_check() -> None:
    """Storage schemes other than plain Redis (sentinel, cluster, memcached): ask limits itself."""
    if not limiter.storage.check():
        raise ConnectionError("the rate-limit storage's health check failed")


def _backlog(catalog) -> dict:
    """The build backlog for the details; reported, never failed on."""
    try:
        return catalog.readiness()
    except Exception as exc:  # e.g. the manifest's database is down: already a failed check above
        log.warning("readyz: the build backlog is not available: %s", exc)
        return {"error": "not available"}


@bp.get("/readyz")
def readyz():
    state = current_app.extensions["mmm_dash"]
    checks = _checks(state)
    ready = all(value == OK for value in checks.values())
    body = {"status": "ready" if ready else "not ready"}
    if may_see_details():
        body["checks"] = {**checks, "models": _backlog(state.models)}
    return jsonify(body), (200 if ready else 503)
