"""Two views side by side: two versions of a model, two models, or two periods (or geos) of one.

Each side is a window analysis (`core.windows`). Per channel and metric the change B − A gets its
own credible interval and the posterior probability that it went up, both from the draws:

- **paired** when both sides come from the same posterior (the same model file): draw d of A and
  draw d of B share their parameter values, so the change is computed draw by draw;
- **independent** otherwise (two versions or two models): every draw of A is set against every
  draw of B, so the interval and P(B > A) cover all pairs (a tie counts half).

Channels are matched by name; a channel in only one view is listed, not dropped. Metrics are only
compared where their units agree: ROI, mROI and incremental outcome need the same outcome (both
revenue, or the same KPI), cost per KPI the same KPI; spend and contribution share always compare.

Like for like: the default baseline (`default_baseline`) is the previous version over the weeks both
versions cover, or else the same weeks a year earlier; every comparison lists what keeps it from being
like for like (`caveats`: another model, windows of unequal length, other geos) and what changed in
the model itself (`model_changes`: data range, knots, draws, priors, ...).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np

from mmm_dash.core.bundle import TOTAL_CHANNEL, ModelInfo, PeriodAnalysis
from mmm_dash.core.formatting import CI, compact, cost_per_kpi, kpi_cost_scale, money, pct, prob, ratio
from mmm_dash.core.health import HealthReview
from mmm_dash.core.trust import NOT_MEANINGFUL
from mmm_dash.core.windows import summarise

CONFIDENT = 0.9  # a change is stated as "rose"/"fell" when P(up) is at least this (or at most 1 - this)
MATERIAL = 0.05  # ... and when it is at least 5% of A's value (0.5 points for a contribution share)
MAX_PAIRS = 40_000  # independent sides: the interval of B - A from at most this many (a, b) pairs
YEAR_DAYS = 364  # "a year earlier": 52 weeks back, so weeks keep their weekday
YEAR_WEEKS = 52  # the longest window the year-earlier default compares (longer ones would overlap their baseline)
METRIC_LABELS = {
    "spend": "Spend",
    "incremental_outcome": "Incremental outcome",
    "contribution_share": "Contribution share (% of outcome)",
    "roi": "ROI",
    "mroi": "mROI",
    "cpik": "Cost per incremental KPI",
}


@dataclasses.dataclass(frozen=True)
class ViewSide:
    """One side: what it reads (for labels) and its window analysis."""

    label: str
    info: ModelInfo
    analysis: PeriodAnalysis
    health: HealthReview | None = None
    max_rhat: float = float("nan")
    min_ess: float = float("nan")  # core.trust.channel_ess: the smallest ESS of a channel parameter
    converged: bool = True  # core.trust.converged; when either side did not, no P(up) is stated


@dataclasses.dataclass(frozen=True)
class Estimate:
    mean: float
    ci_lo: float
    ci_hi: float

    @classmethod
    def of(cls, draws: np.ndarray) -> Estimate:
        s = summarise(np.asarray(draws, dtype=float))
        return cls(float(s["mean"]), float(s["ci_lo"]), float(s["ci_hi"]))

    @classmethod
    def exact(cls, value: float) -> Estimate:
        return cls(float(value), float(value), float(value))


@dataclasses.dataclass(frozen=True)
class MetricChange:
    metric: str
    a: Estimate | None
    b: Estimate | None
    change: Estimate | None  # B - A
    prob_up: float | None  # P(B > A); None for spend (no uncertainty) or a one-sided channel

    @property
    def relative(self) -> float | None:
        if self.change is None or self.a is None or not self.a.mean:
            return None
        return self.change.mean / abs(self.a.mean)


@dataclasses.dataclass(frozen=True)
class ChannelComparison:
    channel: str
    presence: str  # both, only_a, only_b
    metrics: dict[str, MetricChange]


@dataclasses.dataclass(frozen=True)
class ViewComparison:
    a: ViewSide
    b: ViewSide
    paired: bool
    pairing_note: str
    metrics: tuple[str, ...]  # compared, in display order
    not_compared: dict[str, str]  # metric -> why it is not compared
    channels: tuple[ChannelComparison, ...]
    total: ChannelComparison
    fit: tuple[tuple[str, float | None, float | None], ...]  # (label, A, B)
    findings: tuple[str, ...]
    caveats: tuple[str, ...] = ()  # why A and B are not like for like (another model, unequal windows, geos)

    def channel(self, name: str) -> ChannelComparison:
        return next(c for c in (*self.channels, self.total) if c.channel == name)


# -- draws of one side ----------------------------------------------------------------------------
def _channel_draws(analysis: PeriodAnalysis, metric: str, channel: str) -> np.ndarray | float:
    """(S,) draws of `metric` for `channel` (or the paid total); spend is a number."""
    w = analysis.draws
    channels = analysis.paid_channels
    if channel == TOTAL_CHANNEL:
        inc, kpi, spend = w.incremental.sum(axis=1), w.incremental_kpi.sum(axis=1), float(w.spend.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "spend": spend,
                "incremental_outcome": inc,
                "contribution_share": inc / w.expected.mean() * 100,
                "roi": inc / spend,
                "cpik": spend / kpi,
            }.get(metric, np.full(len(inc), np.nan))
    i = channels.index(channel)
    return {
        "spend": float(w.spend[i]),
        "incremental_outcome": w.incremental[:, i],
        "contribution_share": w.contribution_share[:, i],
        "roi": w.roi[:, i],
        "mroi": w.mroi[:, i],
        "cpik": w.cpik[:, i],
    }[metric]


def _difference(a: np.ndarray, b: np.ndarray, paired: bool) -> tuple[np.ndarray, float]:
    """(draws of B - A, P(B > A)): draw by draw when paired; for independent sides P(B > A) counts
    every (a, b) pair exactly (by sorting), and the interval comes from an even grid of at most
    MAX_PAIRS pairs."""
    if paired:
        keep = np.isfinite(a) & np.isfinite(b)
        diff = b[keep] - a[keep]
        if diff.size == 0:
            return diff, float("nan")
        return diff, float((np.count_nonzero(diff > 0) + 0.5 * np.count_nonzero(diff == 0)) / diff.size)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return np.array([]), float("nan")
    ordered = np.sort(a)
    below = np.searchsorted(ordered, b, side="left")  # a < b
    tied = np.searchsorted(ordered, b, side="right") - below
    p_up = float((below.sum() + 0.5 * tied.sum()) / (a.size * b.size))
    k = int(np.sqrt(MAX_PAIRS))
    grid_a = a[np.linspace(0, a.size - 1, min(k, a.size)).astype(int)]
    grid_b = b[np.linspace(0, b.size - 1, min(k, b.size)).astype(int)]
    return (grid_b[None, :] - grid_a[:, None]).ravel(), p_up


def _metric_change(a: PeriodAnalysis | None, b: PeriodAnalysis | None, metric: str, channel: str, paired: bool):
    da = _channel_draws(a, metric, channel) if a is not None else None
    db = _channel_draws(b, metric, channel) if b is not None else None
    if metric == "spend":
        ea = None if da is None else Estimate.exact(da)
        eb = None if db is None else Estimate.exact(db)
        change = Estimate.exact(db - da) if da is not None and db is not None else None
        return MetricChange(metric, ea, eb, change, None)
    ea = None if da is None or not np.isfinite(da).any() else Estimate.of(da[np.isfinite(da)])
    eb = None if db is None or not np.isfinite(db).any() else Estimate.of(db[np.isfinite(db)])
    if ea is None or eb is None:
        return MetricChange(metric, ea, eb, None, None)
    diff, p_up = _difference(np.asarray(da, float), np.asarray(db, float), paired)
    return MetricChange(metric, ea, eb, Estimate.of(diff) if diff.size else None, p_up)


# -- which metrics compare ------------------------------------------------------------------------
def comparable_metrics(a: ModelInfo, b: ModelInfo) -> tuple[tuple[str, ...], dict[str, str]]:
    """The metrics whose units agree on both sides, and why the others are left out."""
    same_outcome = a.has_revenue == b.has_revenue and (a.has_revenue or a.kpi_name == b.kpi_name)
    same_kpi = a.kpi_type == b.kpi_type == "non_revenue" and a.kpi_name == b.kpi_name
    both_revenue = a.has_revenue and b.has_revenue
    metrics, skipped = ["spend"], {}
    if same_outcome:
        metrics.append("incremental_outcome")
    else:
        skipped["incremental_outcome"] = (
            f"A measures {a.outcome_label} and B {b.outcome_label}; outcomes in different units do not compare"
        )
    metrics.append("contribution_share")
    if both_revenue:
        metrics += ["roi", "mroi"]
    elif a.has_revenue != b.has_revenue:
        skipped["roi"] = "one view is measured in revenue and the other in a KPI without revenue, so not on ROI"
    elif same_kpi:
        skipped["roi"] = f"neither view has revenue, so they compare on cost per {a.kpi_name} instead of ROI"
    if same_kpi and not both_revenue:
        metrics.append("cpik")
    elif not both_revenue:
        skipped["cpik"] = f"A measures {a.kpi_name} and B {b.kpi_name}, different KPIs"
    return tuple(metrics), skipped


# -- the comparison -------------------------------------------------------------------------------
def same_posterior(a: ViewSide, b: ViewSide) -> bool:
    """Both sides read one model file (same sha256), so their draws are the same parameter draws."""
    return (
        a.info.sha256 == b.info.sha256
        and a.analysis.draws.incremental.shape[0] == b.analysis.draws.incremental.shape[0]
    )


def compare_views(a: ViewSide, b: ViewSide) -> ViewComparison:
    paired = same_posterior(a, b)
    note = (
        "Paired draws: both views come from the same posterior (the same model file), so each change is computed "
        "draw by draw."
        if paired
        else "Independent draws: the views come from different posteriors (different model files), so each change "
        "sets every draw of A against every draw of B."
    )
    metrics, skipped = comparable_metrics(a.info, b.info)
    names_a = list(a.analysis.paid_channels)
    names_b = list(b.analysis.paid_channels)
    names = names_a + [n for n in names_b if n not in names_a]
    rows = []
    for name in names:
        presence = "both" if name in names_a and name in names_b else ("only_a" if name in names_a else "only_b")
        side_a = a.analysis if name in names_a else None
        side_b = b.analysis if name in names_b else None
        rows.append(
            ChannelComparison(name, presence, {m: _metric_change(side_a, side_b, m, name, paired) for m in metrics})
        )
    total_metrics = [m for m in metrics if m != "mroi"]
    total = ChannelComparison(
        TOTAL_CHANNEL,
        "both",
        {m: _metric_change(a.analysis, b.analysis, m, TOTAL_CHANNEL, paired) for m in total_metrics},
    )
    fa, fb = a.analysis.fit, b.analysis.fit
    fit = (
        ("R²", fa.get("r_squared"), fb.get("r_squared")),
        ("MAPE", fa.get("mape"), fb.get("mape")),
        ("wMAPE", fa.get("wmape"), fb.get("wmape")),
    )
    unconverged = [s for s, side in (("A", a), ("B", b)) if not side.converged]
    if unconverged:  # P(up) is not meaningful on draws of a sampler that did not converge
        rows, total = [_without_probabilities(r) for r in rows], _without_probabilities(total)
    comparison = ViewComparison(a, b, paired, note, metrics, skipped, tuple(rows), total, fit, (), caveats(a, b))
    first = (
        [f"P(up): {NOT_MEANINGFUL} ({' and '.join(unconverged)} did not converge); changes show their intervals only."]
        if unconverged
        else []
    )
    return dataclasses.replace(comparison, findings=tuple(first + what_changed(comparison)))


def _without_probabilities(row: ChannelComparison) -> ChannelComparison:
    return dataclasses.replace(row, metrics={m: dataclasses.replace(c, prob_up=None) for m, c in row.metrics.items()})


# -- like for like --------------------------------------------------------------------------------
def _weeks(n: int) -> str:
    return f"{n} week" + ("" if n == 1 else "s")


def caveats(a: ViewSide, b: ViewSide) -> tuple[str, ...]:
    """What keeps A and B from being like for like, one sentence each (empty when they are)."""
    out = []
    pa, pb = a.analysis.period, b.analysis.period
    if a.info.name != b.info.name:
        out.append(
            f"Across models: A reads model {a.info.name} and B model {b.info.name}, as picked in the baseline's "
            "Model list. Their data, channels and priors differ, so a change here is a difference between two "
            "models, not a change over time."
        )
    if pa.n_times != pb.n_times:
        out.append(
            f"Unequal windows: A covers {_weeks(pa.n_times)} ({pa.start} – {pa.end}) and B {_weeks(pb.n_times)} "
            f"({pb.start} – {pb.end}), so spend and incremental outcome differ by length alone; ROI, mROI and "
            "shares still compare."
        )
    ga, gb = a.analysis.geo, b.analysis.geo
    if ga != gb:
        out.append(f"Different geos: A reads {ga or 'all geos'} and B {gb or 'all geos'}.")
    elif ga is None and set(a.info.geos) != set(b.info.geos):
        added = sorted(set(b.info.geos) - set(a.info.geos))
        removed = sorted(set(a.info.geos) - set(b.info.geos))
        parts = [f"B adds {', '.join(added)}"] if added else []
        parts += [f"B drops {', '.join(removed)}"] if removed else []
        out.append(
            f"Different geo sets: A's all geos are {a.info.geography_label} and B's {b.info.geography_label}"
            + (f" ({'; '.join(parts)})" if parts else "")
            + ", so totals cover different markets."
        )
    same_file = a.info.sha256 == b.info.sha256
    if not same_file and (pa.start, pa.end) != (pb.start, pb.end):
        out.append(
            f"Different weeks: A reads {pa.start} – {pa.end} and B {pb.start} – {pb.end}, so a change mixes the "
            "change of model with the change of weeks."
        )
    if same_file and (pa.start, pa.end) == (pb.start, pb.end) and ga == gb:
        out.append("A and B read the same model file, weeks and geos: nothing can differ. Pick another baseline.")
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class DefaultBaseline:
    """The like-for-like baseline of a view whose URL names none: which version and weeks A reads, which
    weeks B reads (both as (first week, last week)), and one sentence saying so. `base` is None when
    nothing is like for like."""

    view: tuple[str, str] | None
    base: tuple[str, str] | None
    base_version: str  # "" : the view's own version
    note: str


def _shift(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=days)).isoformat()


def _within(times: Sequence[str], lo: str, hi: str) -> list[str]:
    return [t for t in times if lo <= t <= hi]


def previous_version_baseline(
    times: Sequence[str], window: tuple[str, str] | None, previous: str, previous_times: Sequence[str]
) -> DefaultBaseline | None:
    """The previous version over the weeks both versions cover (within `window`, B's weeks, or the whole
    range when None); None when they share no week."""
    start, end = window or (times[0], times[-1])
    lo, hi = max(start, previous_times[0]), min(end, previous_times[-1])
    b, a = _within(times, lo, hi), _within(previous_times, lo, hi)
    if not a or not b:
        return None
    note = f"A is the previous version, {previous}, over the {_weeks(len(b))} both versions cover ({b[0]} – {b[-1]})"
    if (b[0], b[-1]) != (start, end):
        runs = f"{previous_times[0]} – {previous_times[-1]}"
        note += f"; B is narrowed to those weeks (version {previous}'s data runs {runs})"
    return DefaultBaseline((b[0], b[-1]), (a[0], a[-1]), previous, note + ".")


def year_earlier_baseline(times: Sequence[str], window: tuple[str, str] | None) -> DefaultBaseline:
    """The same weeks a year earlier of the same model: B is `window` (the last 52 weeks when None), less
    any week without a twin 52 weeks earlier in the data and at most its last 52 weeks."""
    start, end = window or (times[max(0, len(times) - YEAR_WEEKS)], times[-1])
    first_twin = _shift(times[0], -YEAR_DAYS)
    b = [t for t in _within(times, start, end) if t >= first_twin][-YEAR_WEEKS:]
    if not b:
        return DefaultBaseline(
            None,
            None,
            "",
            f"Nothing here is like for like: this model's data starts {times[0]}, so none of B's weeks "
            f"({start} – {end}) has the same week a year earlier in it, and it has no earlier version. "
            "Pick a baseline below.",
        )
    a_lo, a_hi = _shift(b[0], YEAR_DAYS), _shift(b[-1], YEAR_DAYS)
    a = _within(times, a_lo, a_hi)
    note = f"A is the same {_weeks(len(b))} a year earlier ({a[0]} – {a[-1]}) of the same model and version"
    if (b[0], b[-1]) != (start, end):
        note += f"; B is narrowed to {b[0]} – {b[-1]}, the weeks that have a year-earlier twin in the data"
    return DefaultBaseline((b[0], b[-1]), (a[0], a[-1]), "", note + ".")


def default_baseline(
    times: Sequence[str],
    window: tuple[str, str] | None,
    previous: str | None = None,
    previous_times: Sequence[str] | None = None,
) -> DefaultBaseline:
    """What a demanding analyst compares with by default: the previous version over the overlapping
    weeks; else (one version, or versions sharing no week) the same weeks a year earlier."""
    if previous and previous_times:
        choice = previous_version_baseline(times, window, previous, previous_times)
        if choice is not None:
            return choice
        fallback = year_earlier_baseline(times, window)
        gap = f"The previous version, {previous}, shares no week with B ({previous_times[0]} – {previous_times[-1]})"
        return dataclasses.replace(fallback, note=f"{gap}. {fallback.note}")
    return year_earlier_baseline(times, window)


# -- what changed in the model ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ModelChange:
    what: str
    a: str
    b: str

    @property
    def changed(self) -> bool:
        return self.a != self.b


def _names(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "none"


def _set_change(what: str, a: Sequence[str], b: Sequence[str]) -> ModelChange:
    added, removed = [x for x in b if x not in a], [x for x in a if x not in b]
    if not added and not removed:
        return ModelChange(what, _names(a), _names(b))
    moves = ([f"+ {', '.join(added)}"] if added else []) + ([f"− {', '.join(removed)}"] if removed else [])
    return ModelChange(what, _names(a), f"{_names(b)} ({'; '.join(moves)})")


def model_changes(a: ModelInfo, b: ModelInfo) -> tuple[ModelChange, ...]:
    """A's and B's model side by side: data, channels, draws, Meridian's ModelSpec (knots, adstock,
    prior types...) and each prior, as recorded in their bundles. Settings a bundle does not record
    (built before they were kept) read "not recorded"."""
    rows = [
        ModelChange("Model", a.name, b.name),
        ModelChange("Version", a.version or "–", b.version or "–"),
        ModelChange("Model file", a.file_name, b.file_name),
        ModelChange("Fitted", a.fit_date[:10] or "–", b.fit_date[:10] or "–"),
        ModelChange(
            "Data range",
            f"{a.time_start} – {a.time_end} ({_weeks(a.n_times)})",
            f"{b.time_start} – {b.time_end} ({_weeks(b.n_times)})",
        ),
        ModelChange("Geography", a.geography_label, b.geography_label),
        ModelChange("Outcome", f"{a.outcome_label} ({a.kpi_type} KPI)", f"{b.outcome_label} ({b.kpi_type} KPI)"),
        _set_change("Paid channels", a.paid_channels, b.paid_channels),
        _set_change("Organic and non-media", a.non_paid_channels, b.non_paid_channels),
        _set_change("Controls", a.control_names, b.control_names),
        ModelChange(
            "Posterior draws",
            f"{a.n_chains} chains × {a.n_draws:,} draws",
            f"{b.n_chains} chains × {b.n_draws:,} draws",
        ),
        ModelChange("Meridian", a.meridian_version, b.meridian_version),
    ]
    if a.geos and b.geos and a.geos != b.geos:
        rows.insert(4, _set_change("Geos", a.geos, b.geos))
    for group in ("model_spec", "priors"):
        spec_a, spec_b = dict(getattr(a, group, ()) or ()), dict(getattr(b, group, ()) or ())
        for key in list(spec_a) + [k for k in spec_b if k not in spec_a]:
            label = key if group == "model_spec" else f"Prior {key}"
            rows.append(ModelChange(label, spec_a.get(key, "not recorded"), spec_b.get(key, "not recorded")))
    return tuple(rows)


# -- what changed ---------------------------------------------------------------------------------
def format_value(metric: str, value: float | None, info: ModelInfo, scale: int | None = None) -> str:
    """One value of `metric` as every page writes it: money in the CURRENCY setting for spend and
    revenue, a count for a KPI, percent for shares, two decimals for ROI and mROI, cost per KPI at a
    readable scale (`scale` fixes it, so a row's values share one)."""
    if value is None or not np.isfinite(value):
        return "–"
    if metric == "spend":
        return money(value)
    if metric == "incremental_outcome":
        return money(value) if info.has_revenue else compact(value)
    if metric == "contribution_share":
        return pct(value)
    if metric == "cpik":
        return cost_per_kpi(value, info.kpi_name, scale)
    return ratio(value)


def format_change(metric: str, value: float | None, info: ModelInfo, scale: int | None = None) -> str:
    """A signed change B − A in the metric's unit: '+$1.2M', '−0.35', '+1.5 pts'."""
    if value is None or not np.isfinite(value):
        return "–"
    if metric == "contribution_share":
        return f"{value:+.1f} pts"
    return ("+" if value >= 0 else "−") + format_value(metric, abs(value), info, scale)


def _fmt(metric: str, value: float, info: ModelInfo) -> str:
    return format_value(metric, value, info)


def _signed(metric: str, value: float, info: ModelInfo) -> str:
    return format_change(metric, value, info)


def _label(metric: str, info: ModelInfo) -> str:
    if metric == "cpik":
        return f"cost per incremental {info.kpi_name}"
    if metric == "incremental_outcome":
        return f"incremental {info.outcome_label}"
    return {"roi": "ROI", "mroi": "mROI", "contribution_share": "contribution share", "spend": "spend"}[metric]


def what_changed(c: ViewComparison) -> list[str]:
    """Short rule-based findings, with numbers and probabilities: confident changes first."""
    out: list[str] = []
    info = c.a.info
    for row in c.channels:
        if row.presence == "only_a":
            out.append(f"{row.channel} is only in A ({c.a.label}); B has no such channel.")
        elif row.presence == "only_b":
            out.append(f"{row.channel} is new in B ({c.b.label}); A has no such channel.")
    confident, unsure, small = [], [], []
    unequal = c.a.analysis.period.n_times != c.b.analysis.period.n_times
    for metric in ("roi", "cpik", "contribution_share", "incremental_outcome"):
        if metric not in c.metrics or (metric == "incremental_outcome" and unequal):
            continue  # a total over more weeks is larger by length alone: no finding on it (see the caveats)
        for row in c.channels:
            change = row.metrics.get(metric)
            if change is None or change.prob_up is None or change.change is None:
                continue
            p = change.prob_up
            verb = "rose" if p >= 0.5 else "fell"
            sentence = (
                f"{row.channel}: {_label(metric, info)} {verb} from {_fmt(metric, change.a.mean, info)} to "
                f"{_fmt(metric, change.b.mean, info)} ({_signed(metric, change.change.mean, info)}, {CI} "
                f"{_signed(metric, change.change.ci_lo, info)} to {_signed(metric, change.change.ci_hi, info)}), "
                f"P({'up' if p >= 0.5 else 'down'}) {prob(max(p, 1 - p))}."
            )
            size = abs(change.change.mean) if metric == "contribution_share" else abs(change.relative or 0)
            material = size >= (10 * MATERIAL if metric == "contribution_share" else MATERIAL)
            if (p >= CONFIDENT or p <= 1 - CONFIDENT) and material:
                confident.append((abs(p - 0.5), sentence))
            elif p >= CONFIDENT or p <= 1 - CONFIDENT:
                if metric in ("roi", "cpik"):
                    small.append(f"{row.channel} {_signed(metric, change.change.mean, info)}")
            elif metric in ("roi", "cpik"):
                unsure.append(row.channel)
    out += [s for _k, s in sorted(confident, key=lambda ks: -ks[0])]
    primary = "ROI" if "roi" in c.metrics else ("cost per KPI" if "cpik" in c.metrics else None)
    if primary and small:
        out.append(
            f"Changes in {primary} that are sure but small (under {MATERIAL:.0%}): {', '.join(small)}; the "
            "posterior is confident of their sign, not that they matter."
        )
    if primary and unsure:
        out.append(
            f"No confident change in {primary} for {', '.join(unsure)}: P(up) is between "
            f"{1 - CONFIDENT:.0%} and {CONFIDENT:.0%}, so the difference may be noise."
        )
    spend = c.total.metrics["spend"]
    if spend.a and spend.b and spend.a.mean:
        out.append(
            f"Paid spend: {money(spend.a.mean)} in A, {money(spend.b.mean)} in B "
            f"({(spend.b.mean - spend.a.mean) / spend.a.mean:+.0%})."
        )
    r2a, r2b = c.fit[0][1], c.fit[0][2]
    if r2a is not None and r2b is not None and np.isfinite(r2a) and np.isfinite(r2b) and abs(r2b - r2a) >= 0.02:
        out.append(f"Fit: R² {'improved' if r2b > r2a else 'worsened'} from {r2a:.3f} to {r2b:.3f}.")
    ha, hb = c.a.health, c.b.health
    if ha is not None and hb is not None and ha.status != hb.status:
        out.append(f"Meridian's health review: {ha.status.label} in A, {hb.status.label} in B.")
    if c.not_compared:
        out += [f"Not compared: {METRIC_LABELS[m]} — {why}." for m, why in c.not_compared.items()]
    return out


def comparison_rows(c: ViewComparison) -> list[dict]:
    """One flat row per channel and metric (the CSV download and the page's table)."""
    rows = []
    for row in (*c.channels, c.total):
        for metric, m in row.metrics.items():
            rows.append(
                {
                    "channel": row.channel,
                    "in_views": row.presence,
                    "metric": metric,
                    "a_mean": m.a.mean if m.a else None,
                    "a_ci_lo": m.a.ci_lo if m.a else None,
                    "a_ci_hi": m.a.ci_hi if m.a else None,
                    "b_mean": m.b.mean if m.b else None,
                    "b_ci_lo": m.b.ci_lo if m.b else None,
                    "b_ci_hi": m.b.ci_hi if m.b else None,
                    "change_mean": m.change.mean if m.change else None,
                    "change_ci_lo": m.change.ci_lo if m.change else None,
                    "change_ci_hi": m.change.ci_hi if m.change else None,
                    "relative_change": m.relative,
                    "prob_up": m.prob_up,
                }
            )
    return rows


def comparison_table(c: ViewComparison) -> list[dict]:
    """The page's table: one row per channel and metric, every value written as the other pages write
    it (money in the CURRENCY setting, percent, ratios), the row's numbers in one unit and scale."""
    info = c.b.info
    rows = []
    for row in (*c.channels, c.total):
        for metric, m in row.metrics.items():
            ends = [e.mean for e in (m.a, m.b) if e is not None]
            scale = kpi_cost_scale(min((abs(v) for v in ends if np.isfinite(v)), default=None))
            scale = scale if metric == "cpik" else None

            def value(e, scale=scale, metric=metric):
                return format_value(metric, e.mean if e else None, info, scale)

            def span(e, change=False, scale=scale, metric=metric):
                if e is None or e.ci_lo == e.ci_hi:
                    return ""
                fmt = format_change if change else format_value
                return f"{fmt(metric, e.ci_lo, info, scale)} to {fmt(metric, e.ci_hi, info, scale)}"

            rows.append(
                {
                    "channel": row.channel,
                    "metric": METRIC_LABELS[metric],
                    "a": value(m.a),
                    "a_ci": span(m.a),
                    "b": value(m.b),
                    "b_ci": span(m.b),
                    "change": format_change(metric, m.change.mean, info, scale) if m.change else "–",
                    "change_ci": span(m.change, change=True),
                    "relative": "–" if m.relative is None else f"{m.relative:+.0%}",
                    "prob_up": None if m.prob_up is None else round(m.prob_up * 100, 1),
                    "in_views": {"both": "both", "only_a": "A only", "only_b": "B only"}[row.presence],
                }
            )
    return rows
