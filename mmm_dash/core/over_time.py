"""Results over time: each channel's spend, incremental outcome, contribution share and ROI (or cost
per KPI) per calendar quarter or month of the whole range, with intervals.

Every bucket is one preset window answered by the window engine (`bundle.period(key, geo)`), so its
numbers are exactly what the pages show when that quarter or month is picked, and equal Meridian's
`summary_metrics(selected_times=<the bucket's weeks>)`. Nothing is re-derived here: this module only
lays the buckets side by side. Each bucket carries Meridian's window semantics (see `core.windows`):
its outcome includes carryover from earlier spend, so short buckets right after heavy spend read high.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from mmm_dash.core.bundle import TOTAL_CHANNEL, Bundle, ModelInfo, Period

BUCKETS = ("quarter", "month")  # preset kinds that tile the whole range without overlap
DEFAULT_BUCKET = "quarter"
INTERVAL_STATS = ("mean", "ci_lo", "ci_hi")
BUCKET_COLUMNS = ("bucket", "label", "start", "end", "n_weeks")


def efficiency_metric(info: ModelInfo) -> str:
    """'roi' when the outcome is revenue, else 'cpik' (cost per incremental KPI): the one number
    per unit of spend that means something for this model."""
    return "roi" if info.has_revenue else "cpik"


def metric_names(info: ModelInfo) -> tuple[str, ...]:
    """The metrics with intervals that over-time results carry, in column order (a model with both units also
    carries its KPI and cost per KPI, for pages read in the KPI)."""
    both = ("incremental_kpi", "cpik") if info.has_both_units else ()
    return ("incremental_outcome", "pct_of_contribution", efficiency_metric(info), *both)


def columns(info: ModelInfo) -> list[str]:
    """The table's columns, in display and export order (stable: exports name them)."""
    stats = [f"{m}_{s}" for m in metric_names(info) for s in INTERVAL_STATS]
    return [*BUCKET_COLUMNS, "channel", "spend", "pct_of_spend", *stats]


def bucket_periods(bundle: Bundle, bucket: str) -> list[Period]:
    """The bundle's quarter or month presets, oldest first; they cover every week exactly once."""
    if bucket not in BUCKETS:
        raise ValueError(f"Unknown bucket {bucket!r}; choose one of: {', '.join(BUCKETS)}.")
    return sorted((p for p in bundle.presets.values() if p.kind == bucket), key=lambda p: p.start)


@dataclasses.dataclass(frozen=True)
class OverTime:
    """Per bucket and paid channel (plus the paid total per bucket), for one geo selection."""

    bucket: str  # "quarter" or "month"
    geo: str | None  # None: all geos
    efficiency: str  # "roi" or "cpik", see `efficiency_metric`
    periods: tuple[Period, ...]  # the buckets, oldest first
    table: pd.DataFrame  # `columns(info)`; rows bucket by bucket, paid channels then TOTAL_CHANNEL

    def channel_rows(self) -> pd.DataFrame:
        """Rows of the paid channels only (what charts draw)."""
        return self.table[self.table["channel"] != TOTAL_CHANNEL]

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(self.channel_rows()["channel"]))

    @property
    def partial(self) -> list[Period]:
        """Buckets the data starts or ends inside (a week before the first or after the last would
        still fall in them), so they hold fewer weeks than a whole quarter or month."""
        if not self.periods:
            return []
        first, last = self.periods[0], self.periods[-1]
        out = [first] if _same_bucket(self.bucket, first.start, -7) else []
        if _same_bucket(self.bucket, last.end, 7) and last not in out:
            out.append(last)
        return out


def _same_bucket(bucket: str, day: str, shift_days: int) -> bool:
    """Whether the week `shift_days` away from `day` is in the same quarter (or month) as `day`."""
    a = dt.date.fromisoformat(day)
    b = a + dt.timedelta(days=shift_days)
    if bucket == "month":
        return (a.year, a.month) == (b.year, b.month)
    return (a.year, (a.month - 1) // 3) == (b.year, (b.month - 1) // 3)


def results_over_time(bundle: Bundle, bucket: str = DEFAULT_BUCKET, geo: str | None = None) -> OverTime:
    """Every quarter or month of the whole range for `geo` (None: all geos), from the window engine."""
    info = bundle.info
    wanted = columns(info)
    frames = []
    periods = bucket_periods(bundle, bucket)
    for period in periods:
        table = bundle.period(period.key, geo).channels.reset_index()
        table.insert(0, "bucket", period.key)
        table.insert(1, "label", period.label.split(" (")[0])  # quarter labels carry their dates; keep the name
        table.insert(2, "start", period.start)
        table.insert(3, "end", period.end)
        table.insert(4, "n_weeks", period.n_times)
        frames.append(table.reindex(columns=wanted))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=wanted)
    table["channel"] = table["channel"].astype(str)
    return OverTime(bucket, geo, efficiency_metric(info), tuple(periods), table)
