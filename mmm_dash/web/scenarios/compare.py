"""What the compare view and its downloads share: the selection in the URL, turned into the spends of
scenarios the user may read (their own and shared ones, of one model and period), compared on paired
posterior draws by `mmm_dash.core.comparison`."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from mmm_dash.core.bundle import CONFIDENCE, Bundle
from mmm_dash.core.comparison import MAX_SCENARIOS, MIN_SCENARIOS, PairedComparison, compare_scenarios
from mmm_dash.core.exports.documents import FORMAT_VERSION, clean, csv_text
from mmm_dash.core.scenario import ScenarioError, ScenarioModel
from mmm_dash.core.trust import converged, not_meaningful_reason, probability_value
from mmm_dash.web.scenarios import service
from mmm_dash.web.scenarios.models import SavedScenario

HISTORICAL = "historical"  # the model's historical allocation, comparable like any saved scenario
HISTORICAL_LABEL = "Historical allocation"
TIE_RULE = (
    "P(A beats B) is the share of posterior draws where A is better than B: more incremental outcome at equal "
    "budgets; when budgets differ, more net return (revenue − spend) or, without revenue, a lower cost per "
    "incremental KPI (each pair's judged_on); a tie counts half."
)


def parse_selection(value: object) -> list[str]:
    """The `compare` URL value ("historical,12,15") as at most MAX_SCENARIOS distinct tokens; anything
    that is neither `historical` nor a scenario id is dropped."""
    if isinstance(value, list):
        tokens = [str(v) for v in value]
    elif isinstance(value, str):
        tokens = value.split(",")
    else:
        return []
    out: list[str] = []
    for token in (t.strip() for t in tokens):
        if (token == HISTORICAL or (token.isdigit() and len(token) <= 12)) and token not in out:
            out.append(token)
    return out[:MAX_SCENARIOS]


def selection_query(model: str, period: str, selection: list[str]) -> str:
    """`?model=..&period=..&compare=a,b`: a link that reproduces the comparison."""
    params = {"model": model, "period": period}
    if selection:
        params["compare"] = ",".join(selection)
    return "?" + urlencode(params)


@dataclasses.dataclass(frozen=True)
class Compared:
    bundle: Bundle
    model: ScenarioModel
    tokens: list[str]
    scenarios: list[SavedScenario | None]  # None: the historical allocation
    comparison: PairedComparison
    notes: list[str]  # scenarios made on an earlier version of the model file


def label(scenario: SavedScenario | None, user_id: int) -> str:
    """How a scenario is named in the comparison: its name, with the owner's email when not the user's."""
    if scenario is None:
        return HISTORICAL_LABEL
    return scenario.name if scenario.user_id == user_id else f"{scenario.name} ({scenario.owner.email})"


def compare(user_id: int, model_name: object, period: object, selection: list[str]) -> Compared:
    """Compare the selected scenarios the user may read, all of `model_name` and `period`."""
    if not MIN_SCENARIOS <= len(selection) <= MAX_SCENARIOS:
        raise ScenarioError(f"Pick {MIN_SCENARIOS} to {MAX_SCENARIOS} scenarios to compare.")
    bundle, model = service.model_period(model_name, period)
    scenarios, spends, names, notes = [], [], [], []
    for token in selection:
        if token == HISTORICAL:
            scenario, spend = None, model.historical_spend
        else:
            scenario = service.visible_scenario(user_id, int(token))
            if scenario is None:
                raise ScenarioError("One of these scenarios no longer exists or is no longer shared; pick again.")
            if scenario.model != model_name or scenario.period != period:
                raise ScenarioError(
                    f"“{scenario.name}” was made for {scenario.model}, period {scenario.period}: compare scenarios "
                    "of one model and period."
                )
            try:
                spend = service.stored_payload(scenario, model).spend
            except ScenarioError as exc:
                raise ScenarioError(f"“{scenario.name}” cannot be evaluated on this model now: {exc}") from None
            note = service.version_note(scenario)
            if note:
                notes.append(note)
        name = label(scenario, user_id)
        if name in names:
            name = f"{name} #{token}"
        scenarios.append(scenario)
        spends.append(spend)
        names.append(name)
    comparison = compare_scenarios(model, spends, names, bundle.info.has_revenue)
    return Compared(bundle, model, list(selection), scenarios, comparison, notes)


def _summary(s) -> dict:
    return {"mean": s.mean, "ci_lo": s.ci_lo, "ci_hi": s.ci_hi}


def pairs(compared: Compared) -> list[dict]:
    """Every ordered pair; P(A beats B) is None when the model did not converge (`core.trust.converged`)."""
    meaningful = converged(compared.bundle)
    return [
        {**p, "prob_a_beats_b": probability_value(p["prob_a_beats_b"], meaningful)} for p in compared.comparison.pairs()
    ]


def document(compared: Compared, model_name: str, period: str) -> dict:
    """The comparison as JSON: every scenario's totals and channels, and every ordered pair."""
    c, info = compared.comparison, compared.bundle.info
    scenarios = []
    for saved, s in zip(compared.scenarios, c.scenarios, strict=True):
        scenarios.append(
            {
                "id": None if saved is None else saved.id,
                "name": s.name,
                "owner": None if saved is None else saved.owner.email,
                "made_on_model_sha256": None if saved is None else saved.model_sha256,
                "total_spend": s.total_spend,
                "incremental_outcome": _summary(s.total),
                "roi": _summary(s.roi),
                "channels": [
                    {
                        "channel": ch,
                        "spend": float(s.spend[i]),
                        "incremental_outcome": {
                            "mean": float(s.channel_mean[i]),
                            "ci_lo": float(s.channel_ci_lo[i]),
                            "ci_hi": float(s.channel_ci_hi[i]),
                        },
                    }
                    for i, ch in enumerate(c.channels)
                ],
            }
        )
    return clean(
        {
            "format_version": FORMAT_VERSION,
            "model": {"name": model_name, "file": info.file_name, "sha256": info.sha256},
            "period": period,
            "outcome": info.outcome_label,
            "confidence_level": CONFIDENCE,
            "n_draws": c.n_draws,
            "probability_rule": TIE_RULE,
            "probability_reason": not_meaningful_reason(converged(compared.bundle)),
            "scenarios": scenarios,
            "pairs": pairs(compared),
            "notes": compared.notes,
        }
    )


def csv_document(compared: Compared) -> str:
    """Per scenario and channel (then its total): spend and incremental outcome with its interval,
    then each ordered pair's P(A beats B) and difference A - B."""
    rows = compared.comparison.rows()
    table = [list(rows[0])] + [list(r.values()) for r in rows]
    ordered = pairs(compared)
    table += [[]] + [list(ordered[0])] + [list(p.values()) for p in ordered]
    return csv_text(table)
