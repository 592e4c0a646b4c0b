"""Saved scenarios (per user) and the memoized scenario model of a bundle period."""

from __future__ import annotations

import threading

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mmm_dash.core.bundle import Bundle
from mmm_dash.core.scenario import ScenarioError, ScenarioModel, ScenarioOutcome
from mmm_dash.web.extensions import db
from mmm_dash.web.scenarios.models import SavedScenario

MAX_NAME = 120
_models: dict[tuple, ScenarioModel] = {}
_models_lock = threading.Lock()


def scenario_model(bundle: Bundle, period: str) -> ScenarioModel:
    """One ScenarioModel per (model file, bundle schema, period), built once per process."""
    key = (bundle.info.sha256, bundle.schema_version, period)
    with _models_lock:
        if key not in _models:
            _models[key] = ScenarioModel(bundle.period(period).curves)
        return _models[key]


def list_scenarios(user_id: int, model: str) -> list[SavedScenario]:
    query = select(SavedScenario).where(SavedScenario.user_id == user_id, SavedScenario.model == model)
    return list(db.session.scalars(query.order_by(SavedScenario.updated_at.desc())))


def get_scenario(user_id: int, scenario_id: int) -> SavedScenario | None:
    scenario = db.session.get(SavedScenario, scenario_id)
    return scenario if scenario is not None and scenario.user_id == user_id else None


def save_scenario(user_id: int, name: str, model: str, period: str, payload: dict) -> SavedScenario:
    """Create, or overwrite the user's scenario of the same name for this model."""
    name = (name or "").strip()
    if not name:
        raise ScenarioError("Give the scenario a name.")
    if len(name) > MAX_NAME:
        raise ScenarioError(f"Scenario names are at most {MAX_NAME} characters.")
    existing = db.session.scalar(
        select(SavedScenario).where(
            SavedScenario.user_id == user_id, SavedScenario.model == model, SavedScenario.name == name
        )
    )
    if existing is None:
        existing = SavedScenario(user_id=user_id, name=name, model=model, period=period, payload=payload)
        db.session.add(existing)
    else:
        existing.period, existing.payload = period, payload
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ScenarioError("A scenario with this name was just saved elsewhere; try again.") from None
    return existing


def delete_scenario(user_id: int, scenario_id: int) -> bool:
    scenario = get_scenario(user_id, scenario_id)
    if scenario is None:
        return False
    db.session.delete(scenario)
    db.session.commit()
    return True


def outcome_rows(model: ScenarioModel, outcome: ScenarioOutcome) -> list[dict]:
    """Per-channel rows plus a total row, for tables and exports."""
    rows = []
    for i, channel in enumerate(model.channels):
        rows.append(
            {
                "channel": channel,
                "historical_spend": float(model.historical_spend[i]),
                "scenario_spend": float(outcome.spend[i]),
                "incremental_outcome_mean": float(outcome.outcome_mean[i]),
                "incremental_outcome_ci_lo": float(outcome.outcome_ci_lo[i]),
                "incremental_outcome_ci_hi": float(outcome.outcome_ci_hi[i]),
                "roi_mean": float(outcome.roi_mean[i]),
                "roi_ci_lo": float(outcome.roi_ci_lo[i]),
                "roi_ci_hi": float(outcome.roi_ci_hi[i]),
            }
        )
    rows.append(
        {
            "channel": "Total",
            "historical_spend": float(np.sum(model.historical_spend)),
            "scenario_spend": outcome.total_spend,
            "incremental_outcome_mean": outcome.total_mean,
            "incremental_outcome_ci_lo": outcome.total_ci_lo,
            "incremental_outcome_ci_hi": outcome.total_ci_hi,
            "roi_mean": outcome.total_roi_mean,
            "roi_ci_lo": outcome.total_roi_ci_lo,
            "roi_ci_hi": outcome.total_roi_ci_hi,
        }
    )
    return rows
