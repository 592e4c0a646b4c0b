"""Build the analysis bundle from a loaded Meridian model: every number comes from Meridian's
Analyzer and BudgetOptimizer; this module only selects, reshapes and times those calls."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import (
    BUDGET_FACTORS,
    BUNDLE_SCHEMA_VERSION,
    CONFIDENCE,
    DEFAULT_BOUND,
    STATS,
    TOTAL_CHANNEL,
    UNCERTAIN_METRICS,
    Bundle,
    CurveSet,
    ModelInfo,
    OptimizationResult,
    Period,
    PeriodAnalysis,
    period_times,
    periods_for,
)

SPEND_MULTIPLIERS = np.round(np.linspace(0.0, 2.0, 41), 4)
MAX_CURVE_DRAWS = 500
Progress = Callable[[str, float], None]  # (message, fraction done)


class _Clock:
    """Sums the time spent inside Meridian calls, to compare with the whole build."""

    def __init__(self):
        self.meridian = 0.0

    @contextlib.contextmanager
    def meridian_call(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.meridian += time.perf_counter() - start


def _names(values) -> tuple[str, ...]:
    return tuple(str(v) for v in values) if values is not None else ()


def model_info(mmm, name: str, file_name: str, sha256: str, meridian_version: str) -> ModelInfo:
    data = mmm.input_data
    posterior = mmm.inference_data.posterior
    return ModelInfo(
        name=name,
        file_name=file_name,
        sha256=sha256,
        meridian_version=meridian_version,
        kpi_name="KPI" if str(data.kpi.name or "kpi") == "kpi" else str(data.kpi.name),
        kpi_type=str(data.kpi_type),
        has_revenue=data.kpi_type == "revenue" or data.revenue_per_kpi is not None,
        is_national=bool(mmm.is_national),
        n_geos=int(mmm.n_geos),
        time_start=str(data.time.values[0]),
        time_end=str(data.time.values[-1]),
        n_times=int(mmm.n_times),
        media_channels=_names(data.media_channel.values if data.media_channel is not None else None),
        rf_channels=_names(data.rf_channel.values if data.rf_channel is not None else None),
        organic_media_channels=_names(
            data.organic_media_channel.values if data.organic_media_channel is not None else None
        ),
        organic_rf_channels=_names(data.organic_rf_channel.values if data.organic_rf_channel is not None else None),
        non_media_channels=_names(data.non_media_channel.values if data.non_media_channel is not None else None),
        control_names=_names(data.control_variable.values if data.control_variable is not None else None),
        n_chains=int(posterior.sizes["chain"]),
        n_draws=int(posterior.sizes["draw"]),
    )


def _metric_table(ds, channels, metrics, distribution="posterior") -> pd.DataFrame:
    """Flatten a summary_metrics dataset to one row per channel, `<metric>_<stat>` columns."""
    out = pd.DataFrame(index=pd.Index(channels, name="channel"))
    for metric in metrics:
        if metric not in ds:
            continue
        arr = ds[metric].sel(distribution=distribution) if "distribution" in ds[metric].dims else ds[metric]
        for stat, meridian_stat in zip(STATS, ("mean", "median", "ci_lo", "ci_hi"), strict=True):
            values = arr.sel(metric=meridian_stat).to_series() if "metric" in arr.dims else arr.to_series()
            out[f"{metric}_{stat}"] = values.reindex(channels).astype(float).values
    return out


def _paid_table(analyzer, selected_times, use_kpi, clock) -> pd.DataFrame:
    with clock.meridian_call():
        ds = analyzer.summary_metrics(selected_times=selected_times, use_kpi=use_kpi, confidence_level=CONFIDENCE)
    channels = [str(c) for c in ds.channel.values]
    table = _metric_table(ds, channels, UNCERTAIN_METRICS)
    for plain in ("spend", "pct_of_spend", "impressions", "pct_of_impressions", "cpm"):
        if plain in ds:
            table[plain] = ds[plain].to_series().reindex(channels).astype(float).values
    # Meridian labels the total "All Paid Channels" or "All Channels" depending on the model.
    return table.rename(index={channels[-1]: TOTAL_CHANNEL})


def _non_paid_table(analyzer, info: ModelInfo, selected_times, use_kpi, clock) -> pd.DataFrame:
    non_paid = info.organic_media_channels + info.organic_rf_channels + info.non_media_channels
    if not non_paid:
        return pd.DataFrame()
    with clock.meridian_call():
        ds = analyzer.summary_metrics(
            selected_times=selected_times,
            use_kpi=use_kpi,
            include_non_paid_channels=True,
            confidence_level=CONFIDENCE,
        )
    return _metric_table(ds, list(non_paid), ("incremental_outcome", "pct_of_contribution", "effectiveness"))


def _baseline(analyzer, selected_times, use_kpi, clock) -> dict[str, float]:
    with clock.meridian_call():
        ds = analyzer.baseline_summary_metrics(
            selected_times=selected_times, use_kpi=use_kpi, confidence_level=CONFIDENCE
        )
    out = {}
    for var, key in (("baseline_outcome", "incremental_outcome"), ("pct_of_contribution", "pct_of_contribution")):
        arr = ds[var].sel(distribution="posterior")
        for stat in STATS:
            out[f"{key}_{stat}"] = float(arr.sel(metric=stat))
    return out


def _curves(analyzer, mmm, channels, selected_times, use_kpi, clock) -> CurveSet:
    """Per-draw incremental outcome at each spend multiplier: the same call Meridian's
    response_curves makes, kept per draw so scenario totals get honest intervals."""
    from meridian.analysis.analyzer import get_central_tendency_and_ci

    n_draws_total = mmm.inference_data.posterior.sizes["chain"] * mmm.inference_data.posterior.sizes["draw"]
    keep = np.linspace(0, n_draws_total - 1, min(n_draws_total, MAX_CURVE_DRAWS)).round().astype(int)
    m, c = len(SPEND_MULTIPLIERS), len(channels)
    draws = np.zeros((len(keep), c, m))
    summary = np.zeros((3, c, m))
    for j, mult in enumerate(SPEND_MULTIPLIERS):
        if mult == 0:
            continue
        with clock.meridian_call():
            per_draw = analyzer.incremental_outcome(
                scaling_factor0=0.0,
                scaling_factor1=float(mult),
                selected_times=selected_times,
                by_reach=True,
                inverse_transform_outcome=True,
                use_kpi=use_kpi,
                include_non_paid_channels=False,
            )
            stats = get_central_tendency_and_ci(per_draw, CONFIDENCE)  # (C, 3): mean, ci_lo, ci_hi
        arr = np.asarray(per_draw)
        draws[:, :, j] = arr.reshape(-1, c)[keep]
        summary[:, :, j] = np.asarray(stats).T
    with clock.meridian_call():
        spend = analyzer.get_historical_spend(selected_times=selected_times)
    return CurveSet(
        channels=tuple(channels),
        multipliers=SPEND_MULTIPLIERS.astype(float),
        historical_spend=np.asarray(spend.values if hasattr(spend, "values") else spend, dtype=float),
        draws=draws,
        mean=summary[0],
        ci_lo=summary[1],
        ci_hi=summary[2],
    )


def _roi_draws(analyzer, selected_times, use_kpi, clock) -> tuple[np.ndarray, np.ndarray]:
    with clock.meridian_call():
        roi = np.asarray(analyzer.roi(selected_times=selected_times, use_kpi=use_kpi))
        mroi = np.asarray(analyzer.marginal_roi(selected_times=selected_times, use_kpi=use_kpi))
    return roi.reshape(-1, roi.shape[-1]), mroi.reshape(-1, mroi.shape[-1])


def _optimizations(mmm, period: Period, use_kpi, clock) -> dict[float, OptimizationResult]:
    from meridian.analysis import optimizer

    budget_optimizer = optimizer.BudgetOptimizer(mmm)
    results: dict[float, OptimizationResult] = {}
    historical_budget = None
    for factor in sorted(BUDGET_FACTORS, key=lambda f: f != 1.0):  # historical budget first
        start = time.perf_counter()
        with clock.meridian_call():
            res = budget_optimizer.optimize(
                start_date=period.start,
                end_date=period.end,
                fixed_budget=True,
                budget=None if factor == 1.0 else historical_budget * factor,
                use_optimal_frequency=False,  # same curves as the dashboard's (historical frequency)
                use_kpi=use_kpi,
                confidence_level=CONFIDENCE,
                spend_constraint_lower=DEFAULT_BOUND,  # Meridian's default too; named so both sides agree
                spend_constraint_upper=DEFAULT_BOUND,
            )
        opt, non = res.optimized_data, res.nonoptimized_data
        if factor == 1.0:
            historical_budget = float(non.attrs["budget"])
        channels = tuple(str(c) for c in opt.channel.values)
        hist = np.asarray(non["spend"].values, dtype=float)
        results[factor] = OptimizationResult(
            budget_factor=factor,
            budget=float(opt.attrs["budget"]),
            channels=channels,
            historical_spend=hist,
            optimal_spend=np.asarray(opt["spend"].values, dtype=float),
            lower_bound=hist * (1 - DEFAULT_BOUND),
            upper_bound=hist * (1 + DEFAULT_BOUND),
            nonoptimized_outcome=np.asarray(non["incremental_outcome"].sel(metric="mean").values, dtype=float),
            optimal_outcome=np.asarray(opt["incremental_outcome"].sel(metric="mean").values, dtype=float),
            meridian_seconds=time.perf_counter() - start,
        )
    return dict(sorted(results.items()))


def _optimal_frequency(analyzer, info, selected_times, use_kpi, clock) -> pd.DataFrame:
    if not info.rf_channels:
        return pd.DataFrame()
    with clock.meridian_call():
        ds = analyzer.optimal_freq(selected_times=selected_times, use_kpi=use_kpi, confidence_level=CONFIDENCE)
    table = pd.DataFrame({"optimal_frequency": ds["optimal_frequency"].to_series().astype(float)}).rename_axis(
        "channel"
    )
    if "optimized_roi" in ds:
        roi = ds["optimized_roi"]
        table["roi_at_optimal_mean"] = roi.sel(metric="mean").to_series().reindex(table.index).values
    freq = ds["roi"].sel(metric="mean").to_pandas() if "roi" in ds else None
    if freq is not None:
        table["roi_by_frequency"] = [
            {"frequency": [float(f) for f in freq.index], "roi": [float(v) for v in freq[ch]]} for ch in table.index
        ]
    return table


def _fit(analyzer, selected_times, use_kpi, clock) -> dict[str, float]:
    with clock.meridian_call():
        ds = analyzer.predictive_accuracy(selected_times=selected_times, use_kpi=use_kpi)
    df = ds.to_dataframe().reset_index()
    national = df[df["geo_granularity"] == "national"].set_index("metric")["value"]
    geo = df[df["geo_granularity"] == "geo"].set_index("metric")["value"]
    out = {
        "r_squared": float(national.get("R_Squared", np.nan)),
        "mape": float(national.get("MAPE", np.nan)),
        "wmape": float(national.get("wMAPE", np.nan)),
    }
    if len(geo):
        out.update(
            geo_r_squared=float(geo.get("R_Squared", np.nan)),
            geo_mape=float(geo.get("MAPE", np.nan)),
            geo_wmape=float(geo.get("wMAPE", np.nan)),
        )
    return out


def _over_time(analyzer, use_kpi, clock) -> pd.DataFrame:
    with clock.meridian_call():
        ds = analyzer.expected_vs_actual_data(aggregate_geos=True, use_kpi=use_kpi, confidence_level=CONFIDENCE)
    return pd.DataFrame(
        {
            "time": [str(t) for t in ds.time.values],
            "expected_mean": ds["expected"].sel(metric="mean").values,
            "expected_ci_lo": ds["expected"].sel(metric="ci_lo").values,
            "expected_ci_hi": ds["expected"].sel(metric="ci_hi").values,
            "baseline_mean": ds["baseline"].sel(metric="mean").values,
            "actual": ds["actual"].values,
        }
    )


def _contribution_over_time(analyzer, mmm, channels, use_kpi, clock) -> pd.DataFrame:
    with clock.meridian_call():
        per_draw = analyzer.incremental_outcome(aggregate_times=False, use_kpi=use_kpi, include_non_paid_channels=False)
    mean = np.asarray(per_draw).mean(axis=(0, 1))  # (T, C): posterior mean per week
    times = [str(t) for t in mmm.input_data.time.values]
    return pd.DataFrame(mean, index=pd.Index(times, name="time"), columns=list(channels))


def build_bundle(
    mmm,
    *,
    name: str,
    file_name: str,
    sha256: str,
    meridian_version: str,
    progress: Progress = lambda _m, _f: None,
) -> Bundle:
    """Run every Meridian analysis the dashboard needs, once."""
    from meridian.analysis import analyzer as analyzer_module

    build_start = time.perf_counter()
    clock = _Clock()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # Meridian warns on every spend lookup of a model without R&F channels; it is not actionable here.
    warnings.filterwarnings("ignore", message="Requested spends for paid media channels with R&F data")
    info = model_info(mmm, name, file_name, sha256, meridian_version)
    use_kpi = not info.has_revenue
    with clock.meridian_call():
        analyzer = analyzer_module.Analyzer(mmm)
    times = [str(t) for t in mmm.input_data.time.values]
    periods = periods_for(times)
    steps = len(periods) * 4 + 4
    done = 0

    def step(msg: str) -> None:
        nonlocal done
        done += 1
        progress(msg, min(done / steps, 0.99))

    step("model summary over time")
    over_time = _over_time(analyzer, use_kpi, clock)
    contribution = _contribution_over_time(analyzer, mmm, info.paid_channels, use_kpi, clock)
    step("convergence diagnostics (R-hat)")
    with clock.meridian_call():
        rhat = analyzer.rhat_summary()
        hill = analyzer.hill_curves(confidence_level=CONFIDENCE)
        adstock = analyzer.adstock_decay(confidence_level=CONFIDENCE)
    hill = hill.drop(columns=[c for c in hill.columns if "histogram" in c]).reset_index(drop=True)

    analyses: dict[str, PeriodAnalysis] = {}
    for period in periods:
        selected = None if period.key == "all" else period_times(times, period)
        step(f"{period.label}: channel metrics")
        channels = _paid_table(analyzer, selected, use_kpi, clock)
        non_paid = _non_paid_table(analyzer, info, selected, use_kpi, clock)
        baseline = _baseline(analyzer, selected, use_kpi, clock)
        fit = _fit(analyzer, selected, use_kpi, clock)
        actual = float(over_time.set_index("time").loc[period.start : period.end, "actual"].sum())
        step(f"{period.label}: response curves")
        curves = _curves(analyzer, mmm, info.paid_channels, selected, use_kpi, clock)
        roi_draws, mroi_draws = _roi_draws(analyzer, selected, use_kpi, clock)
        step(f"{period.label}: budget optimization (Meridian)")
        optimizations = _optimizations(mmm, period, use_kpi, clock)
        step(f"{period.label}: optimal frequency")
        opt_freq = _optimal_frequency(analyzer, info, selected, use_kpi, clock)
        analyses[period.key] = PeriodAnalysis(
            period=period,
            channels=channels,
            non_paid=non_paid,
            baseline=baseline,
            total_actual_outcome=actual,
            fit=fit,
            curves=curves,
            optimizations=optimizations,
            optimal_frequency=opt_freq,
            roi_draws=roi_draws,
            mroi_draws=mroi_draws,
        )
    total = time.perf_counter() - build_start
    progress("done", 1.0)
    bundle = Bundle(
        schema_version=BUNDLE_SCHEMA_VERSION,
        info=info,
        periods=analyses,
        over_time=over_time,
        contribution_over_time=contribution,
        rhat=_plain_rhat(rhat),
        hill_curves=hill,
        adstock_decay=adstock.reset_index(drop=True),
        timings={"build_seconds": total, "meridian_seconds": clock.meridian},
    )
    assert_plain(bundle)
    return bundle


def _plain_rhat(rhat) -> pd.DataFrame:
    """Meridian returns a DataFrame subclass holding arrays; keep plain pandas with lists."""
    frame = pd.DataFrame({col: list(rhat[col]) for col in rhat.columns})
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = [v.tolist() if isinstance(v, np.ndarray) else v for v in frame[col]]
    return frame


FORBIDDEN_MODULES = ("meridian", "tensorflow", "jax", "jaxlib", "tf_keras", "xarray", "arviz")


def assert_plain(bundle: Bundle) -> None:
    """Refuse a bundle whose pickle would import Meridian, TensorFlow or JAX when read."""
    import pickle
    import pickletools

    modules, strings = set(), []
    for opcode, arg, _pos in pickletools.genops(pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)):
        if opcode.name in ("GLOBAL", "INST") and arg:
            modules.add(str(arg).split(" ")[0])
        elif opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings = [*strings[-1:], str(arg)]
        elif opcode.name == "STACK_GLOBAL" and len(strings) == 2:
            modules.add(strings[0])  # module name pushed before the qualified name
    bad = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN_MODULES)
    if bad:
        raise TypeError(f"analysis bundle references {', '.join(bad)}; it must hold plain data only")
