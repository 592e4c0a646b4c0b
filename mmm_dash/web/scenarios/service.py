"""Saved scenarios (per user, private or shared) and the memoized scenario model of a bundle period.

Every payload is validated against the model it belongs to before it is stored (`SavedPayload`),
and a user keeps at most SCENARIO_QUOTA scenarios, so a client cannot fill the database. A shared
scenario can be read, compared and copied by every signed-in user; only its owner changes, shares
or deletes it. Each scenario records the sha256 of the model file it was made on.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core.bundle import Bundle, UnknownPeriodError
from mmm_dash.core.names import bidi_problem
from mmm_dash.core.planner import SavedPayload, check_saved_settings
from mmm_dash.core.scenario import ScenarioError, ScenarioModel
from mmm_dash.core.status import BundleStatus
from mmm_dash.web.auth.models import User
from mmm_dash.web.extensions import db
from mmm_dash.web.scenarios.models import SavedScenario

MAX_NAME = 120


def scenario_model(bundle: Bundle, period: str) -> ScenarioModel:
    """The planner's model of the period's curves (built once per curves, see CurveSet.scenario_model)."""
    return bundle.period(period).curves.scenario_model


def model_period(model: object, period: object, entry: object = None) -> tuple[Bundle, ScenarioModel]:
    """The bundle and scenario model of a model (its newest version, or the version `entry` names)
    and period sent by a browser, or a ScenarioError."""
    catalog = current_app.extensions["mmm_dash"].models
    if isinstance(entry, str) and entry in catalog.names():
        name = entry
    else:
        found = catalog.version_entry(model, None) if isinstance(model, str) else None
        if found is None:
            raise ScenarioError("This model is no longer available; reload the page.")
        name = found.name
    try:
        bundle = catalog.bundle(name)
    except ModelUnavailable as exc:
        if exc.state.status is BundleStatus.FAILED:
            raise ScenarioError(
                "This model could not be analysed, so the planner cannot use it; an admin sees why under Admin, Models."
            ) from None
        raise ScenarioError("This model is being analysed again; try again shortly.") from None
    if not isinstance(period, str):
        raise ScenarioError("This period is not available; reload the page.")
    try:
        return bundle, scenario_model(bundle, period)
    except UnknownPeriodError as exc:
        raise ScenarioError(str(exc)) from None


def current_sha256(model: str) -> str | None:
    """The sha256 of the model file now in MODEL_DIR (None when the model is gone)."""
    catalog = current_app.extensions["mmm_dash"].models
    entry = catalog.version_entry(model, None)
    return None if entry is None else catalog.sha256(entry)


def model_changed(scenario: SavedScenario) -> bool:
    """True when the scenario was made on another version of its model file than the current one."""
    return bool(scenario.model_sha256) and scenario.model_sha256 != current_sha256(scenario.model)


def version_note(scenario: SavedScenario) -> str | None:
    """One sentence when the model file changed since the scenario was made, else None."""
    if not model_changed(scenario):
        return None
    now = current_sha256(scenario.model)
    return (
        f"“{scenario.name}” was made on an earlier version of this model file (sha256 "
        f"{scenario.model_sha256[:12]}…; now {(now or 'missing')[:12]}…): its spend is evaluated on the current "
        "model, whose numbers may differ from what its author saw."
    )


def list_scenarios(user_id: int, model: str) -> list[SavedScenario]:
    """The user's scenarios of one model, most recently saved first."""
    query = select(SavedScenario).where(SavedScenario.user_id == user_id, SavedScenario.model == model)
    return list(db.session.scalars(query.order_by(SavedScenario.updated_at.desc())))


def get_scenario(user_id: int, scenario_id: int) -> SavedScenario | None:
    """The scenario if it exists and belongs to the user, else None (never another user's)."""
    scenario = db.session.get(SavedScenario, scenario_id)
    return scenario if scenario is not None and scenario.user_id == user_id else None


def visible_scenarios(user_id: int, model: str, period: str | None = None) -> list[SavedScenario]:
    """The user's own scenarios of `model` and everyone's shared ones (optionally of one period):
    own first, then shared, each most recently saved first."""
    query = select(SavedScenario).where(
        SavedScenario.model == model, or_(SavedScenario.user_id == user_id, SavedScenario.shared.is_(True))
    )
    if period is not None:
        query = query.where(SavedScenario.period == period)
    found = db.session.scalars(query.order_by(SavedScenario.updated_at.desc(), SavedScenario.id.desc())).unique()
    return sorted(found, key=lambda s: s.user_id != user_id)  # stable: keeps the date order in each group


def visible_scenario(user_id: int, scenario_id: int) -> SavedScenario | None:
    """The scenario if the user owns it or it is shared, else None."""
    scenario = db.session.get(SavedScenario, scenario_id)
    if scenario is None or not (scenario.user_id == user_id or scenario.shared):
        return None
    return scenario


def set_shared(user_id: int, scenario_id: int, shared: bool) -> SavedScenario:
    """Share the user's own scenario with everyone signed in, or make it private again."""
    scenario = visible_scenario(user_id, scenario_id)
    if scenario is None:
        raise ScenarioError("No such saved scenario.")
    if scenario.user_id != user_id:
        raise ScenarioError("Only the owner of this scenario can share it or make it private; copy it to edit.")
    scenario.shared = bool(shared)
    db.session.commit()
    return scenario


def copy_name(user_id: int, model: str, name: str) -> str:
    """A name for a copy of `name` that the user does not use yet for this model."""
    taken = set(
        db.session.scalars(
            select(SavedScenario.name).where(SavedScenario.user_id == user_id, SavedScenario.model == model)
        )
    )
    for n in range(1, 1000):
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise ScenarioError("Too many copies of this scenario; rename or delete some first.")


def copy_scenario(user_id: int, scenario_id: int) -> SavedScenario:
    """A private copy, owned by the user, of a scenario they may read (their own or a shared one).
    The copy keeps the model file version its source was made on."""
    source = visible_scenario(user_id, scenario_id)
    if source is None:
        raise ScenarioError("No such saved scenario.")
    name = copy_name(user_id, source.model, source.name)
    return save_scenario(
        user_id, name, source.model, source.period, dict(source.payload), model_sha256=source.model_sha256
    )


def count_scenarios(user_id: int) -> int:
    """How many scenarios the user has saved, all models together."""
    return db.session.scalar(select(func.count()).select_from(SavedScenario).where(SavedScenario.user_id == user_id))


def lock_user(user_id: int) -> None:
    """Hold the user's row until this transaction ends, so one user's saves run one at a time (a row
    lock on PostgreSQL; SQLite takes its database write lock). Without it parallel saves all count
    room under the quota and all insert (24 saves under SCENARIO_QUOTA=3 stored 11)."""
    db.session.execute(update(User).where(User.id == user_id).values(id=User.id))


def save_scenario(
    user_id: int, name: str, model: str, period: str, payload: dict, *, model_sha256: str | None = None
) -> SavedScenario:
    """Create, or overwrite the user's scenario of the same name for this model, after validating
    the payload against the model's channels and curves and the user's quota. It records the model
    file's sha256 (`model_sha256`, default: the current file's)."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ScenarioError("Give the scenario a name.")
    if len(name) > MAX_NAME:
        raise ScenarioError(f"Scenario names are at most {MAX_NAME} characters.")
    if problem := bidi_problem(name, "Scenario names"):
        raise ScenarioError(problem)
    bundle, scenario_model_ = model_period(model, period)
    saved = SavedPayload.from_dict(payload, scenario_model_.channels)
    check_saved_settings(saved.settings, scenario_model_)
    sha256 = model_sha256 or current_sha256(model) or bundle.info.sha256
    scenario_model_.validate_spend(saved.spend)
    lock_user(user_id)  # until commit: the name check, the quota count and the insert are one step per user
    existing = db.session.scalar(
        select(SavedScenario).where(
            SavedScenario.user_id == user_id, SavedScenario.model == model, SavedScenario.name == name
        )
    )
    if existing is None:
        quota = current_app.extensions["mmm_dash"].settings.SCENARIO_QUOTA
        if count_scenarios(user_id) >= quota:
            db.session.rollback()  # releases the user's lock now, not at the end of the request
            raise ScenarioError(
                f"You have {quota} saved scenarios, the most allowed; delete one or reuse a name to save this one."
            )
        existing = SavedScenario(
            user_id=user_id, name=name, model=model, period=period, payload=saved.to_dict(), model_sha256=sha256
        )
        db.session.add(existing)
    else:
        existing.period, existing.payload, existing.model_sha256 = period, saved.to_dict(), sha256
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
    """Delete the user's scenario; False when there is none of that id belonging to the user.
    Another user's shared scenario is read-only: a ScenarioError says so."""
    scenario = get_scenario(user_id, scenario_id)
    if scenario is None:
        if visible_scenario(user_id, scenario_id) is not None:
            raise ScenarioError("Only the owner of this shared scenario can delete it.")
        return False
    db.session.delete(scenario)
    db.session.commit()
    return True
