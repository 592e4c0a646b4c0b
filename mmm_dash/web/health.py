"""Liveness and readiness for load balancers and container health checks. Anonymous callers from
elsewhere learn only ready / not ready; the details (database, model counts) are for signed-in
users and for probes on the machine itself (loopback), such as the container's health check."""

from __future__ import annotations

import ipaddress

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import text

from mmm_dash.web.extensions import db

bp = Blueprint("health", __name__)


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


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # any driver error means "not ready"
        db.session.rollback()
        checks["database"] = "unreachable"
    models = current_app.extensions["mmm_dash"].models
    checks["models"] = models.readiness()
    ready = checks["database"] == "ok" and checks["models"]["ready"] > 0
    body = {"status": "ready" if ready else "not ready"}
    if may_see_details():
        body["checks"] = checks
    return jsonify(body), (200 if ready else 503)
