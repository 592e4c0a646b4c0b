"""The saved-scenario table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mmm_dash.web.auth.models import User, utcnow
from mmm_dash.web.extensions import db


class SavedScenario(db.Model):
    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("user_id", "model", "name", name="uq_scenario_user_model_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    period: Mapped[str] = mapped_column(String(32), nullable=False)
    # {"channels": [...], "spend": [...], "mode": ..., "budget": ..., "lower": [...], "upper": [...]}
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )
    # Shared: every signed-in user may read and compare it (only the owner changes it).
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false(), index=True)
    # The model file's sha256 when the scenario was made (None: saved before this was recorded), so a
    # scenario can say that its model file has changed since.
    model_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    owner: Mapped[User] = relationship(User, lazy="joined", innerjoin=True)
