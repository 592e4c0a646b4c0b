"""Scenario events (share, unshare, copy) in the audit trail, named as the trail names them."""

from __future__ import annotations

from mmm_dash.web import audit

SHARE, UNSHARE, COPY = audit.SCENARIO_SHARE, audit.SCENARIO_UNSHARE, audit.SCENARIO_COPY
OK, DENIED = audit.OK, audit.DENIED


def record(action: str, scenario_id: int | None, outcome: str = OK, detail: str = "") -> None:
    audit.record(action, f"scenario {scenario_id}", outcome=outcome, detail=detail)
