"""Scenario events (share, unshare, copy) for the audit trail, when the app has one.

The audit trail (`mmm_dash.web.audit`) is built alongside this work; until both are merged this
records nothing. It imports the module lazily so the scenarios work without it.
"""

from __future__ import annotations

import importlib

AUDIT_MODULE = "mmm_dash.web.audit"


def record(action: str, scenario_id: int | None, outcome: str = "success") -> None:
    """Record `action` on scenario `scenario_id` in the audit trail, if the app has one."""
    try:
        audit = importlib.import_module(AUDIT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != AUDIT_MODULE:
            raise  # the audit module exists but something it needs is missing: a real error
        return
    audit.record(action, f"scenario:{scenario_id}", outcome=outcome)
