"""`/scenarios/<id>.csv|json`: download one saved scenario with its predicted outcome."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from mmm_dash.builder.catalog import ModelUnavailable
from mmm_dash.core.bundle import UnknownPeriodError
from mmm_dash.core.exports import documents
from mmm_dash.core.scenario import ScenarioError
from mmm_dash.web.downloads import attachment, scenario_filename
from mmm_dash.web.scenarios import service

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")


@bp.get("/<int:scenario_id>.<ext>")
def download(scenario_id: int, ext: str):
    if ext not in ("csv", "json"):
        return jsonify(error="Scenarios download as .csv or .json."), 404
    scenario = service.get_scenario(current_user.id, scenario_id)
    if scenario is None:
        return jsonify(error="No such saved scenario."), 404
    try:
        bundle = current_app.extensions["mmm_dash"].models.bundle(scenario.model)
        model = service.scenario_model(bundle, scenario.period)
        outcome = model.evaluate(scenario.payload["spend"])
    except (ModelUnavailable, UnknownPeriodError, ScenarioError, KeyError) as exc:
        return jsonify(error=f"This scenario cannot be evaluated against its model now: {exc}"), 409
    rows = service.outcome_rows(model, outcome)
    if ext == "json":
        body = json.dumps(
            documents.clean(
                {
                    "name": scenario.name,
                    "model": scenario.model,
                    "period": scenario.period,
                    "outcome": bundle.info.outcome_label,
                    "confidence_level": 0.9,
                    "settings": scenario.payload,
                    "updated_at": scenario.updated_at.isoformat(),
                    "channels": rows[:-1],
                    "total": rows[-1],
                }
            ),
            indent=2,
        )
    else:
        body = documents.csv_text([list(rows[0])] + [list(r.values()) for r in rows])
    return attachment(body, scenario_filename(scenario.model, scenario.period, scenario.name, ext))
