"""The audit trail: who did what, to what, from where, and how it ended.

`record(...)` is called by sign-in, sign-out, registration, the admin area and the CLI, downloads,
saved scenarios and the guard's refusals. It writes in its own transaction on its own connection,
so an event survives a request that fails afterwards and never commits the request's half-done
work; and it never raises into the request (a failed write is logged). Events never hold
passwords or tokens: callers pass an action, an object (an email, a file, a scenario) and at most a
short reason. Emails are kept next to the user id, so events of a deleted account stay readable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator, Mapping

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, Select, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from mmm_dash.web.extensions import db

log = logging.getLogger(__name__)

# Outcomes
OK = "ok"
DENIED = "denied"  # refused: a role too low, a throttled sign-in, the last-admin rule
FAILED = "failed"  # tried and did not work: a wrong password, a refused form

# Actions (the vocabulary of the `action` column; other modules may add their own, e.g. model events)
SIGN_IN = "sign-in"
SIGN_OUT = "sign-out"
REGISTER = "register"
PASSWORD_CHANGE = "password-change"
ACCOUNT_CREATE = "account-create"
ACCOUNT_ROLE = "account-role"
ACCOUNT_DEACTIVATE = "account-deactivate"
ACCOUNT_REACTIVATE = "account-reactivate"
ACCOUNT_PASSWORD_RESET = "account-password-reset"
ACCOUNT_SIGN_IN_COUNTERS_CLEAR = "account-sign-in-counters-clear"
DOWNLOAD = "download"
SCENARIO_SAVE = "scenario-save"
SCENARIO_DELETE = "scenario-delete"
SCENARIO_SHARE = "scenario-share"
SCENARIO_UNSHARE = "scenario-unshare"
SCENARIO_COPY = "scenario-copy"
MODEL_UPLOAD = "model-upload"
MODEL_REBUILD = "model-rebuild"
MODEL_ARCHIVE = "model-archive"
MODEL_UNARCHIVE = "model-unarchive"
MODEL_DEFAULT = "model-default"
PERMISSION = "permission"  # a request the permission table refused (outcome: denied)

COMMAND_LINE = "cli"  # client_address of events recorded by `python -m mmm_dash ...`
LIMITS = {"user_email": 254, "action": 64, "object": 300, "client_address": 64, "outcome": 16, "detail": 500}
PAGE_SIZE = 50


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    user_email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    object: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    client_address: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    detail: Mapped[str] = mapped_column(String(500), nullable=False, default="")


def _actor(user) -> tuple[int | None, str]:
    """(user id, email) of who acted: a User, an email typed into a form (str), or the signed-in user."""
    if isinstance(user, str):
        return None, user.strip().lower()
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if user is None:
        return None, ""
    return user.id, user.email


def _clip(name: str, value: object) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)  # one line per event, no control characters
    return text[: LIMITS[name]]


def record(action: str, object: str = "", outcome: str = OK, detail: str = "", user=None) -> None:
    """Store one event; never raises (a failure is logged). `user`: the acting User, an email typed
    into a form (failed sign-ins), or None for the signed-in user (nobody, from the command line)."""
    try:
        user_id, email = _actor(user)
        address = (request.remote_addr or "") if has_request_context() else COMMAND_LINE
        row = {
            "at": dt.datetime.now(dt.UTC),
            "user_id": user_id,
            "user_email": _clip("user_email", email),
            "action": _clip("action", action),
            "object": _clip("object", object),
            "client_address": _clip("client_address", address),
            "outcome": _clip("outcome", outcome),
            "detail": _clip("detail", detail),
        }
        with db.engine.begin() as connection:  # its own transaction: the request's session is untouched
            connection.execute(insert(AuditEvent.__table__).values(**row))
    except Exception:
        log.exception("Could not record the audit event %s (%s) on %s", action, outcome, object)


# -- reading ------------------------------------------------------------------------------------
class FilterError(ValueError):
    """A filter value the page cannot use, in one sentence."""


def _date(value: str, label: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label} must be a date like 2026-01-31.") from None


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """What the admin asked to see: part of an email, an action, an outcome, a UTC date range."""

    user: str = ""
    action: str = ""
    outcome: str = ""
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        start, end = _date(args.get("from", ""), "From"), _date(args.get("to", ""), "To")
        if start and end and end < start:
            raise FilterError("The end date is before the start date.")
        return cls(
            user=(args.get("user") or "").strip().lower()[:254],
            action=(args.get("action") or "").strip()[:64],
            outcome=(args.get("outcome") or "").strip()[:16],
            start=start,
            end=end,
        )

    def as_args(self) -> dict[str, str]:
        """The filter as query arguments (for the CSV link and the pages)."""
        args = {"user": self.user, "action": self.action, "outcome": self.outcome}
        args |= {"from": self.start.isoformat() if self.start else "", "to": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in args.items() if v}

    def query(self) -> Select:
        query = select(AuditEvent)
        if self.user:
            query = query.where(AuditEvent.user_email.contains(self.user, autoescape=True))
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.outcome:
            query = query.where(AuditEvent.outcome == self.outcome)
        if self.start:
            query = query.where(AuditEvent.at >= dt.datetime.combine(self.start, dt.time(), dt.UTC))
        if self.end:
            next_day = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), dt.UTC)
            query = query.where(AuditEvent.at < next_day)
        return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def page(audit_filter: AuditFilter, number: int, size: int = PAGE_SIZE) -> tuple[list[AuditEvent], int]:
    """One page (1-based) of matching events, newest first, and how many match in all."""
    query = audit_filter.query()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(size).offset((max(number, 1) - 1) * size))
    return list(rows), int(total or 0)


def known_actions() -> list[str]:
    """Every action recorded so far (for the filter's list)."""
    return sorted(db.session.scalars(select(AuditEvent.action).distinct()))


CSV_COLUMNS = ("id", "at", "user_id", "user_email", "action", "object", "client_address", "outcome", "detail")


def timestamp(at: dt.datetime) -> str:
    """ISO 8601 in UTC (SQLite hands timestamps back without their zone; they were stored in UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")


def csv_chunks(audit_filter: AuditFilter, chunk: int = 500) -> Iterator[str]:
    """The matching events as CSV (header first), a few hundred rows at a time, so a long trail
    streams instead of being held in memory. Formula-like cells are defused (emails are typed by
    strangers at the sign-in form)."""
    from mmm_dash.core.exports.documents import csv_text

    yield csv_text([list(CSV_COLUMNS)])
    rows: list[list] = []
    for event in db.session.scalars(audit_filter.query().execution_options(yield_per=chunk)):
        rows.append([getattr(event, c) if c != "at" else timestamp(event.at) for c in CSV_COLUMNS])
        if len(rows) >= chunk:
            yield csv_text(rows)
            rows = []
    if rows:
        yield csv_text(rows)
