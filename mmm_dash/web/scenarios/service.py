"""Saved scenarios (per user) and the memoized scenario model of a bundle period.

Every payload is validated against the model it belongs to before it is stored (`SavedPayload`),
and a user keeps at most SCENARIO_QUOTA scenarios, so a client cannot fill the database.
"""

from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core.bundle import Bundle, UnknownPeriodError
from mmm_dash.core.planner import SavedPayload
from mmm_dash.core.scenario import ScenarioError, ScenarioModel
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


def model_period(model: object, period: object) -> tuple[Bundle, ScenarioModel]:
    """The bundle and scenario model of a model name and period sent by a browser, or a ScenarioError."""
    catalog = current_app.extensions["mmm_dash"].models
    if not isinstance(model, str) or model not in catalog.names():
        raise ScenarioError("This model is no longer available; reload the page.")
    try:
        bundle = catalog.bundle(model)
    except ModelUnavailable:
        raise ScenarioError("This model is being analysed again; try again shortly.") from None
    if not isinstance(period, str):
        raise ScenarioError("This period is not available; reload the page.")
    try:
        return bundle, scenario_model(bundle, period)
    except UnknownPeriodError as exc:
        raise ScenarioError(str(exc)) from None


def list_scenarios(user_id: int, model: str) -> list[SavedScenario]:
    """The user's scenarios of one model, most recently saved first."""
    query = select(SavedScenario).where(SavedScenario.user_id == user_id, SavedScenario.model == model)
    return list(db.session.scalars(query.order_by(SavedScenario.updated_at.desc())))


def get_scenario(user_id: int, scenario_id: int) -> SavedScenario | None:
    """The scenario if it exists and belongs to the user, else None (never another user's)."""
    scenario = db.session.get(SavedScenario, scenario_id)
    return scenario if scenario is not None and scenario.user_id == user_id else None


def count_scenarios(user_id: int) -> int:
    """How many scenarios the user has saved, all models together."""
    return db.session.scalar(select(func.count()).select_from(SavedScenario).where(SavedScenario.user_id == user_id))


def save_scenario(user_id: int, name: str, model: str, period: str, payload: dict) -> SavedScenario:
    """Create, or overwrite the user's scenario of the same name for this model, after validating
    the payload against the model's channels and curves and the user's quota."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ScenarioError("Give the scenario a name.")
    if len(name) > MAX_NAME:
        raise ScenarioError(f"Scenario names are at most {MAX_NAME} characters.")
    _bundle, scenario_model_ = model_period(model, period)
    saved = SavedPayload.from_dict(payload, scenario_model_.channels)
    scenario_model_.validate_spend(saved.spend)
    existing = db.session.scalar(
        select(SavedScenario).where(
            SavedScenario.user_id == user_id, SavedScenario.model == model, SavedScenario.name == name
        )
    )
    if existing is None:
        quota = current_app.extensions["mmm_dash"].settings.SCENARIO_QUOTA
        if count_scenarios(user_id) >= quota:
            raise ScenarioError(
                f"You have {quota} saved scenarios, the most allowed; delete one or reuse a name to save this one."
            )
        existing = SavedScenario(user_id=user_id, name=name, model=model, period=period, payload=saved.to_dict())
        db.session.add(existing)
    else:
        existing.period, existing.payload = period, saved.to_dict()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ScenarioError("A scenario with this name was just saved elsewhere; try again.") from None
    return existing


def stored_payload(scenario: SavedScenario, model: ScenarioModel) -> SavedPayload:
    """A stored scenario's payload, validated again (rows saved before validation existed may be bad)."""
    saved = SavedPayload.from_dict(scenario.payload, model.channels)
    model.validate_spend(saved.spend)
    return saved


def delete_scenario(user_id: int, scenario_id: int) -> bool:
    """Delete the user's scenario; False when there is none of that id belonging to the user."""
    scenario = get_scenario(user_id, scenario_id)
    if scenario is None:
        return False
    db.session.delete(scenario)
    db.session.commit()
    return True
