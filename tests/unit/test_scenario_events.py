"""Scenario events reach the audit trail when the app has one, and cost nothing when it has not."""

from __future__ import annotations

import importlib.util
import sys
import types

from mmm_dash.web.scenarios import events


def test_without_an_audit_module_nothing_happens(monkeypatch):
    if importlib.util.find_spec(events.AUDIT_MODULE) is not None:
        monkeypatch.setitem(sys.modules, events.AUDIT_MODULE, None)  # as if it were missing
    events.record(events.SHARE, 7)  # no error, nothing to record into


def test_with_an_audit_module_each_event_is_recorded(monkeypatch):
    recorded = []
    audit = types.ModuleType(events.AUDIT_MODULE)
    audit.record = lambda action, obj, outcome="ok", detail="": recorded.append((action, obj, outcome, detail))
    monkeypatch.setitem(sys.modules, events.AUDIT_MODULE, audit)
    events.record(events.SHARE, 7)
    events.record(events.COPY, 8, outcome=events.DENIED, detail="needs the analyst role")
    assert recorded == [
        ("scenario-share", "scenario 7", "ok", ""),
        ("scenario-copy", "scenario 8", "denied", "needs the analyst role"),
    ]
