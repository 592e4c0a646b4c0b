"""`/admin/audit` and `/admin/audit.csv`: the audit trail with filters (part of an email, action,
outcome, UTC date range), a page at a time on screen, every matching event in the CSV."""

from __future__ import annotations

import datetime as dt
import math

from flask import render_template, request, stream_with_context

from mmm_dash.web import audit
from mmm_dash.web.admin import bp
from mmm_dash.web.downloads import attachment
from mmm_dash.web.errors import render_error

OUTCOMES = (audit.OK, audit.DENIED, audit.FAILED)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 1_000_000))
    except ValueError:
        return 1


@bp.get("/audit", endpoint="audit")
def audit_page():
    try:
        audit_filter = audit.AuditFilter.from_args(request.args)
    except audit.FilterError as exc:
        return render_error(400, str(exc))
    number = _page_number()
    events, total = audit.page(audit_filter, number)
    pages = max(1, math.ceil(total / audit.PAGE_SIZE))
    return render_template(
        "admin_audit.html",
        section="audit",
        events=events,
        total=total,
        number=number,
        pages=pages,
        filter=audit_filter,
        args=audit_filter.as_args(),
        actions=audit.known_actions(),
        outcomes=OUTCOMES,
        timestamp=audit.timestamp,
    )


@bp.get("/audit.csv")
def audit_csv():
    try:
        audit_filter = audit.AuditFilter.from_args(request.args)
    except audit.FilterError as exc:
        return render_error(400, str(exc))
    name = f"mmm-audit-{dt.date.today().isoformat()}.csv"
    return attachment(stream_with_context(audit.csv_chunks(audit_filter)), name)
