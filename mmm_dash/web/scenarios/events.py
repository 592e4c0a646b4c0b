"""Scenario events (share, unshare, copy) for the audit trail, when the app has one.

The audit trail (`mmm_dash.web.audit`) is built alongside this work; until both are merged this
records nothing. It imports the module lazily so the scenarios work without it. Actions, object
and outcomes follow the audit trail's vocabulary ("scenario-share", "scenario 12", "ok"/"denied").
"""

from __future__ import annotations

import importlib

AUDIT_MODULE = "mmm_dash.web.audit"
SHARE, UNSHARE, COPY = "scenario-share", "scenario-unshare", "scenario-copy"
OK, DENIED = "ok", "denied"


def record(action: str, scenario_id: int | None, outcome: str = OK, detail: str = "") -> None:
    """Record `action` on scenario `scenario_id` in the audit trail, if the app has one."""
    try:
        audit = importlib.import_module(AUDIT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != AUDIT_MODULE:
            raise  # the audit module exists but something it needs is missing: a real error
        return
    audit.record(action, f"scenario {scenario_id}", outcome=outcome, detail=detail)
