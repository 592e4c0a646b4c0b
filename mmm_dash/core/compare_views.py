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
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mmm_dash.core.bundle import TOTAL_CHANNEL, ModelInfo, PeriodAnalysis
from mmm_dash.core.formatting import CI, compact, money, pct, prob, ratio
from mmm_dash.core.health import HealthReview
from mmm_dash.core.trust import NOT_MEANINGFUL
from mmm_dash.core.windows import summarise

CONFIDENT = 0.9  # a change is stated as "rose"/"fell" when P(up) is at least this (or at most 1 - this)
MATERIAL = 0.05  # ... and when it is at least 5% of A's value (0.5 points for a contribution share)
MAX_PAIRS = 40_000  # independent sides: the interval of B - A from at most this many (a, b) pairs
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
    comparison = ViewComparison(a, b, paired, note, metrics, skipped, tuple(rows), total, fit, ())
    first = (
        [f"P(up): {NOT_MEANINGFUL} ({' and '.join(unconverged)} did not converge); changes show their intervals only."]
        if unconverged
        else []
    )
    return dataclasses.replace(comparison, findings=tuple(first + what_changed(comparison)))


def _without_probabilities(row: ChannelComparison) -> ChannelComparison:
    return dataclasses.replace(row, metrics={m: dataclasses.replace(c, prob_up=None) for m, c in row.metrics.items()})


# -- what changed ---------------------------------------------------------------------------------
def _fmt(metric: str, value: float) -> str:
    if metric in ("spend", "cpik"):
        return money(value, 4 if metric == "cpik" else 3)
    if metric == "incremental_outcome":
        return compact(value)
    if metric == "contribution_share":
        return pct(value)
    return ratio(value)


def _signed(metric: str, value: float) -> str:
    if metric == "contribution_share":
        return f"{value:+.1f} pts"
    text = _fmt(metric, abs(value))
    return ("+" if value >= 0 else "−") + text


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
    for metric in ("roi", "cpik", "contribution_share", "incremental_outcome"):
        if metric not in c.metrics:
            continue
        for row in c.channels:
            change = row.metrics.get(metric)
            if change is None or change.prob_up is None or change.change is None:
                continue
            p = change.prob_up
            verb = "rose" if p >= 0.5 else "fell"
            sentence = (
                f"{row.channel}: {_label(metric, info)} {verb} from {_fmt(metric, change.a.mean)} to "
                f"{_fmt(metric, change.b.mean)} ({_signed(metric, change.change.mean)}, {CI} "
                f"{_signed(metric, change.change.ci_lo)} to {_signed(metric, change.change.ci_hi)}), "
                f"P({'up' if p >= 0.5 else 'down'}) {prob(max(p, 1 - p))}."
            )
            size = abs(change.change.mean) if metric == "contribution_share" else abs(change.relative or 0)
            material = size >= (10 * MATERIAL if metric == "contribution_share" else MATERIAL)
            if (p >= CONFIDENT or p <= 1 - CONFIDENT) and material:
                confident.append((abs(p - 0.5), sentence))
            elif p >= CONFIDENT or p <= 1 - CONFIDENT:
                if metric in ("roi", "cpik"):
                    small.append(f"{row.channel} {_signed(metric, change.change.mean)}")
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
