"""`/scenarios/<id>.csv|json`: download one saved scenario with its predicted outcome (own or shared);
`/scenarios/compare.csv|json`: the compare view's numbers."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request
from flask_login import current_user

from mmm_dash.core.exports import documents
from mmm_dash.core.scenario import ScenarioError
from mmm_dash.web.costly import limit_route
from mmm_dash.web.downloads import attachment, scenario_filename
from mmm_dash.web.scenarios import compare, service

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")


@bp.get("/<int:scenario_id>.<ext>")
def download(scenario_id: int, ext: str):
    if ext not in ("csv", "json"):
        return jsonify(error="Scenarios download as .csv or .json."), 404
    scenario = service.visible_scenario(current_user.id, scenario_id)
    if scenario is None:
        return jsonify(error="No such saved scenario."), 404
    try:
        bundle, model = service.model_period(scenario.model, scenario.period)
        saved = service.stored_payload(scenario, model)
        outcome = model.evaluate(saved.spend)
    except ScenarioError as exc:
        return jsonify(error=f"This scenario cannot be evaluated against its model now: {exc}"), 409
    rows = documents.scenario_rows(model, outcome)
    if ext == "json":
        document = documents.scenario_document(
            scenario.name,
            scenario.model,
            scenario.period,
            bundle.info.outcome_label,
            scenario.payload,
            scenario.updated_at.isoformat(),
            rows,
        )
        body = json.dumps(document, indent=2)
    else:
        body = documents.scenario_csv(rows)
    return attachment(body, scenario_filename(scenario.model, scenario.period, scenario.name, ext))


@bp.get("/compare.<ext>")
@limit_route("comparison", "comparison downloads")
def compare_download(ext: str):
    """The compare view's numbers (`?model=..&period=..&compare=historical,12,15`) as CSV or JSON."""
    if ext not in ("csv", "json"):
        return jsonify(error="Comparisons download as .csv or .json."), 404
    model_name, period = request.args.get("model"), request.args.get("period", "all")
    selection = compare.parse_selection(request.args.get("compare"))
    try:
        compared = compare.compare(current_user.id, model_name, period, selection)
    except ScenarioError as exc:
        return jsonify(error=str(exc)), 400
    if ext == "json":
        body = json.dumps(compare.document(compared, model_name, period), indent=2)
    else:
        body = compare.csv_document(compared)
    return attachment(body, scenario_filename(model_name, period, "comparison", ext))
