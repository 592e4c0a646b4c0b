"""Any range of whole weeks and any geo, answered from the bundle's per-draw outcomes.

Meridian's incremental outcome for a set of weeks (`selected_times`) is the outcome in those weeks
of all media against no media in every week, so it is the sum of its per-week values, and its ROI and
mROI divide such sums by the spend of the same weeks. The bundle keeps those per-week values per
posterior draw (`OutcomeDraws`), so a window is a sum and a few quantiles here, and equals
Meridian's `summary_metrics(selected_times=..., selected_geos=...)` (tests/model/test_windows.py).

Carryover, as Meridian counts it: a window's incremental outcome includes what spend of earlier
weeks carried into it (adstock) and leaves out what the window's own spend carries past its end,
while its spend is only the window's own. Short windows after heavy spend therefore read a higher
ROI than the same spend earns over its whole lifetime.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import (
    CONFIDENCE,
    STATS,
    TOTAL_CHANNEL,
    Bundle,
    OutcomeDraws,
    Period,
    PeriodAnalysis,
    UnknownPeriodError,
    WindowDraws,
)
from mmm_dash.core.metrics import cost_per_kpi_draws

MAIN_KINDS = ("all", "year", "last52")  # the period selector's entries; the rest are range presets
CURVE_KINDS = ("all", "year", "last52", "quarter", "ytd", "ytd-prior")  # presets whose curves are stored
RANGE_KEY = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


# -- presets -------------------------------------------------------------------------------------
def _span(key: str, label: str, weeks: list[str], kind: str, with_dates: bool = False) -> Period:
    text = f"{label} ({weeks[0]} – {weeks[-1]})" if with_dates else label
    return Period(key, text, weeks[0], weeks[-1], len(weeks), kind)


def presets_for(times: list[str] | tuple[str, ...]) -> list[Period]:
    """Whole range, each calendar year, the last 52 weeks, year to date and the same weeks a year
    earlier, each quarter and each month of the data."""
    times = list(times)
    dates = pd.to_datetime(pd.Series(times))
    out = [_span("all", "Whole range", times, "all", with_dates=True)]
    years = dates.dt.year.to_numpy()
    for year in sorted(set(years)):
        weeks = [t for t, y in zip(times, years, strict=True) if y == year]
        out.append(_span(str(year), str(year), weeks, "year"))
    if len(times) > 52:
        out.append(_span("last52", "Last 52 weeks", times[-52:], "last52", with_dates=True))
    last = dates.iloc[-1]
    ytd = [t for t, d in zip(times, dates, strict=True) if d.year == last.year]
    prior_start = pd.Timestamp(ytd[0]) - pd.Timedelta(weeks=52)
    prior_end = last - pd.Timedelta(weeks=52)
    prior = [t for t, d in zip(times, dates, strict=True) if prior_start <= d <= prior_end]
    if prior and len(set(years)) > 1:
        out.append(_span("ytd", f"Year to date {last.year}", ytd, "ytd", with_dates=True))
        out.append(_span("ytd-prior", f"Same weeks of {last.year - 1}", prior, "ytd-prior", with_dates=True))
    quarters = (dates.dt.month.to_numpy() - 1) // 3 + 1
    for year, quarter in sorted(set(zip(years, quarters, strict=True))):
        weeks = [t for t, y, q in zip(times, years, quarters, strict=True) if (y, q) == (year, quarter)]
        out.append(_span(f"{year}-q{quarter}", f"{year} Q{quarter}", weeks, "quarter", with_dates=True))
    months = dates.dt.month.to_numpy()
    for year, month in sorted(set(zip(years, months, strict=True))):
        weeks = [t for t, y, m in zip(times, years, months, strict=True) if (y, m) == (year, month)]
        out.append(_span(f"{year}-{month:02d}", f"{calendar.month_abbr[month]} {year}", weeks, "month"))
    return out


def _iso_date(text: str) -> str | None:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def range_key(start: str, end: str) -> str:
    return f"{start}..{end}"


def parse_period(bundle: Bundle, key: str | None) -> Period:
    """The preset named `key`, or the weeks of a range key 'yyyy-mm-dd..yyyy-mm-dd' (a range that
    covers exactly a preset's weeks is that preset, so it keeps its response curves)."""
    key = key or "all"
    if key in bundle.presets:
        return bundle.presets[key]
    match = RANGE_KEY.match(key)
    known = tuple(p for p in bundle.presets)
    if not match:
        raise UnknownPeriodError(key, known)
    start, end = _iso_date(match.group(1)), _iso_date(match.group(2))
    if start is None or end is None:
        raise UnknownPeriodError(key, known, f"{key!r} is not a range of dates: write yyyy-mm-dd..yyyy-mm-dd.")
    if start > end:
        raise UnknownPeriodError(key, known, f"The range {key!r} ends before it starts.")
    times = bundle.draws.times
    index = bundle.draws.time_index(start, end)
    if index.stop <= index.start:
        raise UnknownPeriodError(
            key,
            known,
            f"No week of this model falls between {start} and {end}; its data runs from {times[0]} to {times[-1]}.",
        )
    first, last = times[index.start], times[index.stop - 1]
    for preset in bundle.presets.values():
        if (preset.start, preset.end) == (first, last):
            return preset
    n = index.stop - index.start
    return Period(range_key(first, last), f"{first} – {last} ({n} weeks)", first, last, n, "range")


# -- statistics ------------------------------------------------------------------------------------
def summarise(draws: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, median and the CONFIDENCE interval over axis 0, as Meridian's get_central_tendency_and_ci
    (its np.median and np.quantile, here in one quantile call: the median is the 0.5 quantile)."""
    with np.errstate(invalid="ignore"):
        lo, median, hi = np.quantile(draws, [(1 - CONFIDENCE) / 2, 0.5, (1 + CONFIDENCE) / 2], axis=0)
        return {"mean": np.mean(draws, axis=0), "median": median, "ci_lo": lo, "ci_hi": hi}


def fit_metrics(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float, float]:
    """R², MAPE and wMAPE of the posterior-mean expected outcome, with Meridian's formulas
    (`analyzer._calc_rsquared`, `_calc_mape`, `_calc_weighted_mape`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r_squared = 1 - np.nanmean((expected - actual) ** 2) / np.nanvar(actual)
        mape = np.nanmean(np.abs((actual - expected) / actual))
        wmape = np.nansum(np.abs(actual - expected)) / np.nansum(actual)
    return float(r_squared), float(mape), float(wmape)


# -- one window ------------------------------------------------------------------------------------
def _geo_rows(draws: OutcomeDraws, geo: str | None) -> slice:
    index = draws.geo_index(geo)
    return slice(None) if index is None else slice(index, index + 1)


def window_draws(bundle: Bundle, period: Period, geo: str | None = None) -> WindowDraws:
    """Per-draw totals of the window's weeks (all geos, or one)."""
    d = bundle.draws
    weeks = d.time_index(period.start, period.end)
    gi = d.geo_index(geo)
    incremental = d.cube("incremental", geo).window_sum(weeks, gi)
    marginal = d.cube("marginal", geo).window_sum(weeks, gi)
    expected = d.cube("expected", geo).window_sum(weeks, gi)[:, 0]
    spend = d.spend[_geo_rows(d, geo), weeks].sum(axis=(0, 1))
    if not bundle.info.has_both_units:
        return WindowDraws(incremental, marginal, incremental, expected, spend)  # the outcome is the KPI itself
    national = geo is None  # all geos: the stored national KPI; one geo: its revenue over its revenue per KPI
    kpi = d.national["incremental_kpi"].window_sum(weeks) if national else _in_kpi(d, "incremental", weeks, [gi])
    # The KPI of 1% more spend (Meridian's marginal ROI with use_kpi=True): revenue / revenue per KPI, geo by geo
    marginal_kpi = _in_kpi(d, "marginal", weeks, _geo_list(d, geo))
    return WindowDraws(incremental, marginal, kpi, expected, spend, marginal_kpi)


def _geo_list(d: OutcomeDraws, geo: str | None) -> list[int]:
    """Indices of the selected geos: every geo, or the one."""
    return list(range(len(d.geos))) if geo is None else [d.geos.index(geo)]


def _in_kpi(d: OutcomeDraws, name: str, weeks: slice, geos) -> np.ndarray:
    """(S, K) a revenue cube summed over `weeks` and the geo indices `geos`, in the KPI: revenue = KPI x
    revenue per KPI, week by week and geo by geo (a national model's national cube is its one geo)."""
    cube = d.by_geo.get(name) or d.national[name]
    total = 0.0
    for g in geos:
        rpk = d.revenue_per_kpi[g, weeks]
        with np.errstate(divide="ignore"):
            per_unit = np.where(rpk > 0, 1.0 / rpk, 0.0)
        total = total + cube.weighted_sum(weeks, g, per_unit)
    return total


def _summarised(metrics: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`summarise` of several (S, K) metrics in one quantile pass, as `<metric>_<stat>` columns."""
    names = list(metrics)
    widths = [metrics[m].shape[1] for m in names]
    stats = summarise(np.concatenate([metrics[m] for m in names], axis=1))
    out, start = {}, 0
    for name, width in zip(names, widths, strict=True):
        for stat, values in stats.items():
            out[f"{name}_{stat}"] = values[start : start + width]
        start += width
    return out


def _has_kpi(bundle: Bundle) -> bool:
    """Whether the model's numbers can be read in a KPI: a KPI without revenue, or one with revenue per KPI."""
    return not bundle.info.has_revenue or bundle.info.has_both_units


def _channel_table(bundle: Bundle, w: WindowDraws, impressions: np.ndarray) -> pd.DataFrame:
    channels = list(bundle.draws.channels)
    total_spend = w.spend.sum()
    spend = np.append(w.spend, total_spend)
    impr = np.append(impressions, impressions.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        table: dict[str, np.ndarray] = {
            "spend": spend,
            "pct_of_spend": spend / total_spend * 100,
            "impressions": impr,
            "pct_of_impressions": impr / impr[-1] * 100,
            "cpm": spend / impr * 1000,
        }
        inc = np.column_stack([w.incremental, w.incremental.sum(axis=1)])
        kpi = np.column_stack([w.incremental_kpi, w.incremental_kpi.sum(axis=1)])
        nan_total = np.full((inc.shape[0], 1), np.nan)
        table |= _summarised(
            {
                "incremental_outcome": inc,
                "pct_of_contribution": inc / w.expected.mean() * 100,
                "roi": inc / spend[None, :],
                "mroi": np.column_stack([w.mroi, nan_total]),  # Meridian drops the total's mROI
                "effectiveness": np.column_stack([w.incremental / impressions[None, :], nan_total]),
                "cpik": cost_per_kpi_draws(spend[None, :], kpi),  # Meridian's cpik, draw by draw
                # what the next KPI costs (1 / mROI for a KPI model), for every model that has a KPI
                **({"mcpik": np.column_stack([w.mcpik, nan_total])} if _has_kpi(bundle) else {}),
                # the incremental KPI itself, beside its revenue, for models that have both
                **({"incremental_kpi": kpi} if bundle.info.has_both_units else {}),
            }
        )
    return pd.DataFrame(table, index=pd.Index([*channels, TOTAL_CHANNEL], name="channel"))


def _non_paid_table(bundle: Bundle, period: Period, geo: str | None, expected_mean: float) -> pd.DataFrame:
    d = bundle.draws
    if not d.non_paid:
        return pd.DataFrame()
    weeks = d.time_index(period.start, period.end)
    inc = d.cube("non_paid", geo).window_sum(weeks, d.geo_index(geo))
    units = d.non_paid_impressions[_geo_rows(d, geo), weeks].sum(axis=(0, 1))
    kpi = {"incremental_kpi": _in_kpi(d, "non_paid", weeks, _geo_list(d, geo))} if bundle.info.has_both_units else {}
    with np.errstate(divide="ignore", invalid="ignore"):
        table = _summarised(
            {
                "incremental_outcome": inc,
                "pct_of_contribution": inc / expected_mean * 100,
                "effectiveness": inc / units[None, :],
                **kpi,
            }
        )
    return pd.DataFrame(table, index=pd.Index(list(d.non_paid), name="channel"))


def _baseline(bundle: Bundle, period: Period, geo: str | None, expected_mean: float) -> dict[str, float]:
    d = bundle.draws
    weeks = d.time_index(period.start, period.end)
    base = d.cube("baseline", geo).window_sum(weeks, d.geo_index(geo))[:, 0]
    out = {f"incremental_outcome_{k}": float(v) for k, v in summarise(base).items()}
    out.update({f"pct_of_contribution_{k}": float(v) for k, v in summarise(base / expected_mean * 100).items()})
    if bundle.info.has_both_units:
        kpi = _in_kpi(d, "baseline", weeks, _geo_list(d, geo))[:, 0]
        out.update({f"incremental_kpi_{k}": float(v) for k, v in summarise(kpi).items()})
    return out


def _fit(bundle: Bundle, period: Period, geo: str | None) -> dict[str, float]:
    d = bundle.draws
    weeks, rows = d.time_index(period.start, period.end), _geo_rows(d, geo)
    actual, expected = d.actual[rows, weeks], d.expected_mean[rows, weeks]
    r2, mape, wmape = fit_metrics(actual.sum(axis=0), expected.sum(axis=0))
    out = {"r_squared": r2, "mape": mape, "wmape": wmape}
    if not bundle.info.is_national and geo is None:
        r2, mape, wmape = fit_metrics(actual, expected)
        out.update(geo_r_squared=r2, geo_mape=mape, geo_wmape=wmape)
    return out


def _series(bundle: Bundle, period: Period, geo: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = bundle.draws
    weeks, gi = d.time_index(period.start, period.end), d.geo_index(geo)
    times = list(d.times[weeks])
    expected = summarise(d.cube("expected", geo).weekly(weeks, gi)[:, :, 0])
    baseline = d.cube("baseline", geo).weekly(weeks, gi)[:, :, 0].mean(axis=0)
    series = pd.DataFrame(
        {
            "time": times,
            "expected_mean": expected["mean"],
            "expected_ci_lo": expected["ci_lo"],
            "expected_ci_hi": expected["ci_hi"],
            "baseline_mean": baseline,
            "actual": d.actual[_geo_rows(d, geo), weeks].sum(axis=0),
        }
    )
    contribution = pd.DataFrame(
        d.cube("incremental", geo).weekly(weeks, gi).mean(axis=0),
        index=pd.Index(times, name="time"),
        columns=list(d.channels),
    )
    if d.non_paid:
        non_paid = d.cube("non_paid", geo).weekly(weeks, gi).mean(axis=0)
        for i, channel in enumerate(d.non_paid):
            contribution[channel] = non_paid[:, i]
    return series, contribution


def curve_window(bundle: Bundle, period: Period, geo: str | None) -> Period:
    """The window whose response curves serve `period` and `geo`: its own where the bundle keeps
    them (presets, all geos), otherwise the whole range."""
    if geo is None and period.key in bundle.curves:
        return period
    return bundle.presets["all"]


def analyse(bundle: Bundle, period: Period, geo: str | None = None) -> PeriodAnalysis:
    """Every number the pages show for `period` and `geo` (None: all geos), from the stored draws."""
    d = bundle.draws
    weeks = d.time_index(period.start, period.end)
    w = window_draws(bundle, period, geo)
    impressions = d.impressions[_geo_rows(d, geo), weeks].sum(axis=(0, 1))
    expected_mean = float(w.expected.mean())
    curves_period = curve_window(bundle, period, geo)
    return PeriodAnalysis(
        period=period,
        channels=_channel_table(bundle, w, impressions),
        non_paid=_non_paid_table(bundle, period, geo, expected_mean),
        baseline=_baseline(bundle, period, geo, expected_mean),
        total_actual_outcome=float(d.actual[_geo_rows(d, geo), weeks].sum()),
        fit=_fit(bundle, period, geo),
        curves=bundle.curves[curves_period.key],
        optimal_frequency=bundle.optimal_frequency.get(curves_period.key, pd.DataFrame()),
        draws=w,
        weekly=lambda: _series(bundle, period, geo),
        geo=geo,
        curves_period=curves_period,
    )


def stat_columns(metric: str) -> list[str]:
    return [f"{metric}_{s}" for s in STATS]
