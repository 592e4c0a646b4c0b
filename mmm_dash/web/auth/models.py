"""The account table, the roles, and the session generation that lets a sign-out end every copy of
a user's session cookie."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Integer, String, event, false, inspect
from sqlalchemy.orm import Mapped, mapped_column

from mmm_dash.web.auth.roles import ROLES, Role
from mmm_dash.web.extensions import db

__all__ = ["ROLES", "Role", "User", "parse_session_id", "utcnow"]
# Changing one of these ends every existing session of the account.
SESSION_ENDING_FIELDS = ("password_hash", "role", "active")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(60), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default=Role.ANALYST.value)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Part of the id in the session cookie: bumping it makes every issued cookie name a stale id.
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Set when an admin set or generated the password: the user must choose their own at next sign-in.
    password_change_required: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        """Flask-Login's alternative id: "<id>:<generation>", so an old cookie stops matching."""
        return f"{self.id}:{self.session_generation or 0}"

    def end_sessions(self) -> None:
        """Invalidate every cookie issued to this user so far (sign-out, password or role change)."""
        self.session_generation = (self.session_generation or 0) + 1

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def parse_session_id(value: str) -> tuple[int, int] | None:
    """(user id, generation) from a cookie's id, or None for anything else (old or forged)."""
    user_id, sep, generation = (value or "").partition(":")
    if not sep or not user_id.isdigit() or not generation.isdigit():
        return None
    return int(user_id), int(generation)


@event.listens_for(User, "before_update")
def _end_sessions_on_sensitive_change(_mapper, _connection, user: User) -> None:
    """Whatever path changes a password, role or active flag, old cookies stop working."""
    state = inspect(user)
    sensitive = any(state.attrs[name].history.has_changes() for name in SESSION_ENDING_FIELDS)
    if sensitive and not state.attrs["session_generation"].history.has_changes():
        user.end_sessions()
