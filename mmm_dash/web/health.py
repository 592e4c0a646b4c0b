"""Liveness and readiness for load balancers and container health checks; no secrets shown."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from mmm_dash.web.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


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
    return jsonify(status="ready" if ready else "not ready", checks=checks), (200 if ready else 503)
