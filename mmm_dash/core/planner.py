"""The scenario planner's state and rules, apart from any page.

The page's callbacks only translate widgets into these types and back. Every value here may have
come from a browser, so nothing is trusted: numbers must be finite, lists must hold one value per
channel, modes come from `OptimizerMode`, and a saved payload has a bounded size and a fixed shape.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Mapping, Sequence

import numpy as np

from mmm_dash.core.budget_search import DEFAULT_LADDER_STEPS, DEFAULT_SLICE, MAX_LADDER_STEPS
from mmm_dash.core.bundle import DEFAULT_BOUND
from mmm_dash.core.scenario import (
    MAX_MULTIPLIER,
    FixedBudgetScenario,
    FlexibleBudgetScenario,
    OptimizerMode,
    ScenarioError,
    ScenarioModel,
    as_spend_vector,
    finite_number,
)

MAX_PAYLOAD_BYTES = 64 * 1024  # a saved scenario's settings as JSON; a 100-channel plan is ~15 KB
SLIDER_MAX = round(MAX_MULTIPLIER * 100)  # sliders run from 0% to this % of historical spend
DEFAULT_LOWER_PCT = round((1 - DEFAULT_BOUND) * 100)
DEFAULT_UPPER_PCT = round((1 + DEFAULT_BOUND) * 100)

MODE_LABELS = {
    OptimizerMode.FIXED: "Fixed budget: maximise outcome",
    OptimizerMode.TARGET_ROI: "Flexible: spend while total ROI ≥ target",
    OptimizerMode.TARGET_MROI: "Flexible: spend while marginal ROI ≥ target",
}
AMOUNT = re.compile(r"^\s*[^\d.+-]{0,4}\s*([+-]?[\d,]*\.?\d+)\s*([kKmMbB]?)\s*$")
SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}


def mode_labels(has_revenue: bool, kpi: str = "KPI") -> dict[OptimizerMode, str]:
    """The optimizer modes as the page names them: in ROI for revenue models, in cost per KPI otherwise
    (a target cost c is the ratio target 1/c: see `PlannerSettings.target_is_cost`)."""
    if has_revenue:
        return MODE_LABELS
    return {
        OptimizerMode.FIXED: f"Fixed budget: most incremental {kpi}",
        OptimizerMode.TARGET_ROI: f"Flexible: spend while the cost per {kpi} ≤ target",
        OptimizerMode.TARGET_MROI: f"Flexible: spend while the marginal cost per {kpi} ≤ target",
    }


def parse_amount(value: object, message: str = "The budget must be an amount, e.g. 1,250,000 or 1.25M.") -> float:
    """An amount typed into a box: a number, or text such as '1,250,000', '$1.25M', '800k'."""
    if isinstance(value, str):
        match = AMOUNT.match(value)
        if not match:
            raise ScenarioError(message)
        value = float(match.group(1).replace(",", "")) * SUFFIXES[match.group(2).lower()]
    return finite_number(value, message)


def amount_text(value: float) -> str:
    """How the budget box shows an amount: whole units with thousands separators."""
    return f"{round(value):,}"


class SpendUnit(enum.StrEnum):
    """How the per-channel boxes show spend: percent of historical, or absolute."""

    PERCENT = "pct"
    ABSOLUTE = "abs"

    @classmethod
    def parse(cls, value: object) -> SpendUnit:
        """The unit named by `value`, or a ScenarioError."""
        try:
            return cls(value)
        except ValueError:
            raise ScenarioError("Show spend as a percent of historical or as an absolute amount.") from None


def optional_number(value: object, message: str) -> float | None:
    """None stays None (an empty box); anything else must be a finite number, else ScenarioError(message)."""
    return None if value is None else finite_number(value, message)


def _optional_numbers(values: object, n: int, message: str) -> tuple[float | None, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str | bytes) or len(values) != n:
        raise ScenarioError(message)
    return tuple(optional_number(v, message) for v in values)


# -- conversions between spend and what the widgets show ----------------------------------------
def display_numbers(spend: np.ndarray, historical: np.ndarray, unit: SpendUnit) -> list[float]:
    """What each channel's box shows: whole currency units, or percent of historical to 0.1."""
    if unit is SpendUnit.ABSOLUTE:
        return [round(s) for s in spend]
    return [round(s / h * 100, 1) if h else 0 for s, h in zip(spend, historical, strict=True)]


def slider_positions(spend: np.ndarray, historical: np.ndarray) -> list[int]:
    """Each slider's position: whole percent of historical spend, at most SLIDER_MAX."""
    return [min(SLIDER_MAX, round(s / h * 100)) if h else 0 for s, h in zip(spend, historical, strict=True)]


def percent_to_spend(percent: float, historical: float) -> float:
    """Spend that is `percent` % of `historical`."""
    return percent / 100 * historical


# -- the optimizer's settings ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PlannerSettings:
    """The optimizer box as the user left it: mode, budget, target and per-channel bounds in percent.

    Empty boxes are None; they are refused only when the optimizer needs them (`scenario`, `bounds`).
    """

    mode: OptimizerMode = OptimizerMode.FIXED
    budget: float | None = None
    target: float | None = None
    lower_pct: tuple[float | None, ...] = ()
    upper_pct: tuple[float | None, ...] = ()
    target_is_cost: bool = False  # a KPI model's target is a cost per KPI; the optimizer takes KPI per unit

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "mode", OptimizerMode.parse(self.mode))
        budget = None if self.budget in (None, "") else parse_amount(self.budget)
        set_(self, "budget", budget)
        set_(self, "target", optional_number(self.target, "The target must be a number."))
        message = "Give a lower and an upper bound (%) for every channel."
        n = len(self.lower_pct) if isinstance(self.lower_pct, Sequence) else -1
        set_(self, "lower_pct", _optional_numbers(self.lower_pct, n, message))
        set_(self, "upper_pct", _optional_numbers(self.upper_pct, n, message))

    @classmethod
    def default(cls, n_channels: int, budget: float | None = None) -> PlannerSettings:
        """The page's starting settings: fixed budget, target 1, Meridian's default bounds."""
        return cls(
            OptimizerMode.FIXED, budget, 1.0, (DEFAULT_LOWER_PCT,) * n_channels, (DEFAULT_UPPER_PCT,) * n_channels
        )

    def scenario(self) -> FixedBudgetScenario | FlexibleBudgetScenario:
        """The optimization these settings ask for; ScenarioError when a box it needs is empty."""
        if self.mode is OptimizerMode.FIXED:
            if self.budget is None:
                raise ScenarioError("Enter a total budget.")
            return FixedBudgetScenario(self.budget)
        if self.target is None:
            raise ScenarioError("Enter a target.")
        if self.target_is_cost:
            if self.target <= 0:
                raise ScenarioError("The target cost must be a positive amount.")
            return FlexibleBudgetScenario(self.mode, 1.0 / self.target)
        return FlexibleBudgetScenario(self.mode, self.target)

    def bounds(self, historical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds in spend; ScenarioError when a bound is missing."""
        if len(self.lower_pct) != len(historical) or any(v is None for v in (*self.lower_pct, *self.upper_pct)):
            raise ScenarioError("Enter a lower and an upper bound (%) for every channel.")
        return (
            np.asarray(self.lower_pct, dtype=float) / 100 * historical,
            np.asarray(self.upper_pct, dtype=float) / 100 * historical,
        )


def check_saved_settings(settings: PlannerSettings, model: ScenarioModel) -> None:
    """The optimizer box as a saved scenario may store it (it reopens with them), else a ScenarioError
    with one sentence: a budget from 0 to the curves' reach, a positive target, and per channel bounds
    from 0% to SLIDER_MAX% (the curves' reach) with the lower one not above the upper one. Empty boxes
    may be saved (the optimizer asks for them when it runs)."""
    if settings.budget is not None:
        reach = float(model.historical_spend.sum()) * MAX_MULTIPLIER
        if not 0 <= settings.budget <= reach * (1 + 1e-9):
            raise ScenarioError(
                f"The total budget must be an amount from 0 to {amount_text(reach)} "
                f"({MAX_MULTIPLIER:.0f}x historical spend, as far as the model's curves reach)."
            )
    if settings.target is not None and not settings.target > 0:
        raise ScenarioError("The target must be a positive number.")
    for channel, lower, upper in zip(model.channels, settings.lower_pct, settings.upper_pct, strict=True):
        for bound in (lower, upper):
            if bound is not None and not 0 <= bound <= SLIDER_MAX:
                raise ScenarioError(f"{channel}: bounds must be between 0% and {SLIDER_MAX}% of historical spend.")
        if lower is not None and upper is not None and lower > upper:
            raise ScenarioError(f"{channel}: the lower bound ({lower:g}%) is above the upper bound ({upper:g}%).")


def optimize(model: ScenarioModel, settings: PlannerSettings) -> np.ndarray:
    """The optimizer's allocation for `settings` (bounds checked before the scenario's boxes)."""
    lower, upper = settings.bounds(model.historical_spend)
    return model.optimize(settings.scenario(), lower, upper)


# -- the ladder and goal seek boxes --------------------------------------------------------------
MAX_SLICE_PCT = 50.0  # a ladder slice is at most half the starting budget
DEFAULT_SLICE_PCT = DEFAULT_SLICE * 100


@dataclasses.dataclass(frozen=True)
class LadderSettings:
    """The ladder box: slice size (% of the starting budget), most steps, and for models without
    revenue an optional target cost per KPI (the ladder stops where a slice's KPI costs more)."""

    slice_pct: float | None = DEFAULT_SLICE_PCT
    max_steps: float | None = DEFAULT_LADDER_STEPS
    cost_per_kpi: float | None = None

    def __post_init__(self) -> None:
        slice_pct = optional_number(self.slice_pct, "The slice must be a number (% of the budget).")
        if slice_pct is None or not 0 < slice_pct <= MAX_SLICE_PCT:
            raise ScenarioError(f"The slice must be more than 0% and at most {MAX_SLICE_PCT:.0f}% of the budget.")
        steps = optional_number(self.max_steps, f"Steps must be a whole number from 1 to {MAX_LADDER_STEPS}.")
        if steps is None or steps != int(steps) or not 1 <= steps <= MAX_LADDER_STEPS:
            raise ScenarioError(f"Steps must be a whole number from 1 to {MAX_LADDER_STEPS}.")
        cost = optional_number(self.cost_per_kpi, "The target cost per KPI must be a positive number.")
        if cost is not None and cost <= 0:
            raise ScenarioError("The target cost per KPI must be a positive number.")
        object.__setattr__(self, "slice_pct", slice_pct)
        object.__setattr__(self, "max_steps", int(steps))
        object.__setattr__(self, "cost_per_kpi", cost)

    @property
    def slice_fraction(self) -> float:
        return self.slice_pct / 100

    def threshold(self, has_revenue: bool) -> float:
        """Marginal return (outcome per unit of spend) below which the ladder stops: 1 for revenue;
        for a KPI, 1 / target cost per KPI, or 0 without a target (only bounds and steps stop it)."""
        if has_revenue:
            return 1.0
        return 1.0 / self.cost_per_kpi if self.cost_per_kpi else 0.0


@dataclasses.dataclass(frozen=True)
class GoalSeekSettings:
    """The goal seek box: a target outcome, and optionally the probability (in %) of reaching it."""

    target: float | None
    probability_pct: float | None = None

    def __post_init__(self) -> None:
        target = optional_number(self.target, "The target outcome must be a number.")
        if target is None:
            raise ScenarioError("Enter a target outcome.")
        if target <= 0:
            raise ScenarioError("The target outcome must be a positive number.")
        pct = optional_number(self.probability_pct, "The probability must be a number (%).")
        if pct is not None and not 1 <= pct <= 99.9:
            raise ScenarioError("The probability must be from 1% to 99.9% (leave it empty for the expected outcome).")
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "probability_pct", pct)

    @property
    def probability(self) -> float | None:
        return None if self.probability_pct is None else self.probability_pct / 100


# -- the planner's state machine: one event changes the scenario spend ----------------------------
@dataclasses.dataclass(frozen=True)
class SliderMoved:
    """A channel's slider now reads `percent` % of historical spend (None: cleared, read as 0)."""

    index: int
    percent: float | None


@dataclasses.dataclass(frozen=True)
class NumberEntered:
    """A channel's box now holds `value`, in `unit`."""

    index: int
    value: float | None
    unit: SpendUnit


@dataclasses.dataclass(frozen=True)
class ResetToHistorical:
    """Back to the historical allocation."""


@dataclasses.dataclass(frozen=True)
class ScenarioOpened:
    """A saved scenario's spend replaces the current one."""

    spend: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class OptimizeRequested:
    """The optimizer's allocation for `settings` replaces the current one."""

    settings: PlannerSettings


PlannerEvent = SliderMoved | NumberEntered | ResetToHistorical | ScenarioOpened | OptimizeRequested


def _channel_index(index: object, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        raise ScenarioError("That channel is not part of this model; reload the page.")
    return index


def next_spend(model: ScenarioModel, current: np.ndarray, event: PlannerEvent | None) -> np.ndarray:
    """The scenario spend after `event` (None: unchanged), validated against the model's curves."""
    hist = model.historical_spend
    spend = np.array(current, dtype=float)
    if isinstance(event, SliderMoved):
        i = _channel_index(event.index, len(hist))
        percent = optional_number(event.percent, "A slider must be a number.") or 0
        spend[i] = percent_to_spend(percent, hist[i])
    elif isinstance(event, NumberEntered):
        i = _channel_index(event.index, len(hist))
        value = optional_number(event.value, "Enter a number for every channel's spend.")
        if value is None:
            raise ScenarioError("Enter a number for every channel's spend.")
        if value < 0:
            raise ScenarioError("Spend cannot be negative.")
        spend[i] = value if event.unit is SpendUnit.ABSOLUTE else percent_to_spend(value, hist[i])
    elif isinstance(event, ResetToHistorical):
        spend = hist.copy()
    elif isinstance(event, ScenarioOpened):
        spend = as_spend_vector(event.spend, len(hist))
    elif isinstance(event, OptimizeRequested):
        spend = optimize(model, event.settings)
    return model.validate_spend(spend)


# -- the saved payload ---------------------------------------------------------------------------
PAYLOAD_KEYS = ("channels", "spend", "mode", "budget", "target", "lower_pct", "upper_pct")


@dataclasses.dataclass(frozen=True)
class SavedPayload:
    """What a saved scenario stores: the channels it was made for, their spend and the optimizer box."""

    channels: tuple[str, ...]
    spend: tuple[float, ...]
    settings: PlannerSettings

    def __post_init__(self) -> None:
        n = len(self.channels)
        object.__setattr__(self, "spend", tuple(as_spend_vector(self.spend, n).tolist()))
        if len(self.settings.lower_pct) != n:
            raise ScenarioError("Give a lower and an upper bound (%) for every channel.")

    def to_dict(self) -> dict:
        """The stored JSON shape (keys in PAYLOAD_KEYS)."""
        s = self.settings
        return {
            "channels": list(self.channels),
            "spend": list(self.spend),
            "mode": s.mode.value,
            "budget": s.budget,
            "target": s.target,
            "lower_pct": list(s.lower_pct),
            "upper_pct": list(s.upper_pct),
        }

    @classmethod
    def from_dict(cls, data: object, channels: Sequence[str]) -> SavedPayload:
        """Validate a payload for a model with `channels`; missing settings take the page's defaults."""
        if not isinstance(data, Mapping):
            raise ScenarioError("A saved scenario must be an object with a spend per channel.")
        size = len(json.dumps(data, default=str).encode())
        if size > MAX_PAYLOAD_BYTES:
            raise ScenarioError(
                f"This scenario is too large to save ({size / 1024:,.0f} KB; the limit is "
                f"{MAX_PAYLOAD_BYTES // 1024} KB)."
            )
        unknown = sorted(str(k) for k in data if k not in PAYLOAD_KEYS)
        if unknown:
            raise ScenarioError(f"Unknown scenario field(s): {', '.join(unknown)[:200]}.")
        channels = tuple(channels)
        if "channels" in data and data["channels"] != list(channels):
            raise ScenarioError("This scenario was saved for other channels than the model has now.")
        if "spend" not in data:
            raise ScenarioError(f"Give one spend per channel ({len(channels)}).")
        defaults = PlannerSettings.default(len(channels))
        settings = PlannerSettings(
            mode=data.get("mode", defaults.mode),
            budget=data.get("budget", defaults.budget),
            target=data.get("target", defaults.target),
            lower_pct=data.get("lower_pct", defaults.lower_pct),
            upper_pct=data.get("upper_pct", defaults.upper_pct),
        )
        return cls(channels, data["spend"], settings)
