"""The saved-scenario table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mmm_dash.web.auth.models import utcnow
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
