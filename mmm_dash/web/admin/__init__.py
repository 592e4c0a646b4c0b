"""The admin area (`/admin/...`): server-rendered pages, admins only. Who may reach each endpoint is
in `mmm_dash.web.permissions.ENDPOINTS`; the guard enforces it before a view runs."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_wtf.csrf import generate_csrf

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.context_processor
def _template_helpers() -> dict:
    return {"csrf_token": generate_csrf}  # the navbar's sign-out form


@bp.get("/")
def index():
    return redirect(url_for("admin.accounts"))


from mmm_dash.web.admin import accounts, audit_log  # noqa: E402,F401  (register their routes on bp)
