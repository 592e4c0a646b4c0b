"""Build the analysis bundle from a loaded Meridian model: every number comes from Meridian (its
Analyzer and ModelReviewer); this module only selects, reshapes and times those calls.

One Analyzer pass per quantity, per geo and week (`aggregate_geos=False, aggregate_times=False`),
instead of one pass per period: every window and geo is then a sum over the stored draws
(`core.windows`), and the response curves of every preset come from the same 40 passes.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from mmm_dash.core.bundle import (
    BUNDLE_SCHEMA_VERSION,
    CONFIDENCE,
    MARGINAL_INCREASE,
    Bundle,
    Cube,
    CurveSet,
    ModelInfo,
    OutcomeDraws,
    Period,
    RoiPrior,
)
from mmm_dash.core.draw_budget import SPEND_MULTIPLIERS, draws_to_keep
from mmm_dash.core.windows import CURVE_KINDS, presets_for, summarise

log = logging.getLogger(__name__)
OPTIMAL_FREQUENCY_KINDS = ("all", "year", "last52")
Progress = Callable[[str, float], None]  # (message, fraction done)
# Meridian's analyses spend much of their time in Python on one core; with a second core, optimal_freq
# (most of an R&F model's build) runs in a thread beside the other steps, its XLA work on the idle core.
BACKGROUND_THREADS = 1 if (os.cpu_count() or 1) > 1 else 0

# Share of a typical build each step takes (demo model), so progress moves evenly.
STEP_WEIGHTS = {
    "analyzer": 0.02,
    "outcome draws": 0.10,
    "response curves": 0.30,
    "optimal frequency": 0.05,
    "convergence (R-hat, ESS)": 0.30,
    "Hill curves and adstock": 0.08,
    "health review (Meridian ModelReviewer)": 0.15,
    "ROI prior": 0.02,
}
PRIOR_DRAWS = 200  # prior draws the builder samples when a model file has none (6s on the demo model)
MAX_PRIOR_DRAWS = 500  # prior ROI draws a bundle keeps (evenly thinned beyond), enough for a density


class StepClock:
    """Times each named step of the build (all of them are Meridian calls plus reshaping)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.steps: dict[str, float] = {}
        self.meridian = 0.0  # seconds inside Meridian calls, summed over threads
        self.done = 0.0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.progress(name, min(self.done, 0.99))
        start = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - start
            self.done += STEP_WEIGHTS.get(name, 0.0)

    @contextlib.contextmanager
    def meridian_call(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.meridian += time.perf_counter() - start

    def background_result(self, name: str, started: float, job: Future):
        """Wait for a step that has run in the background since `started` and returns (result, when it
        ended); the step's time is from its start to its end, whatever ran beside it."""
        self.progress(name, min(self.done, 0.99))
        result, ended = job.result()
        self.steps[name] = self.steps.get(name, 0.0) + ended - started
        self.done += STEP_WEIGHTS.get(name, 0.0)
        return result


def _names(values) -> tuple[str, ...]:
    return tuple(str(v) for v in values) if values is not None else ()


def _fit_date(mmm) -> str:
    try:
        return str(mmm.inference_data.posterior.attrs.get("created_at", ""))
    except Exception:  # an unusual InferenceData: the date is informative, not essential
        return ""


def _distribution_text(dist) -> str:
    """A prior as plain text: 'LogNormal(loc=0.2, scale=0.9)', per-channel values as a list, a
    transformed one with its parts: 'TransformedDistribution(distribution=LogNormal(...), bijector=Shift(...))'."""
    params = []
    for key, value in getattr(dist, "parameters", {}).items():
        if key in ("name", "validate_args", "allow_nan_stats", "force_probs_to_zero_outside_support") or value is None:
            continue
        if hasattr(value, "parameters"):  # a distribution or bijector inside this one
            params.append(f"{key}={_distribution_text(value)}")
            continue
        try:
            values = np.asarray(value, dtype=float).ravel()
        except (TypeError, ValueError):  # a callable (kwargs_split_fn) says nothing about the prior
            continue
        text = f"{values[0]:.4g}" if np.unique(values).size == 1 else "[" + ", ".join(f"{v:.4g}" for v in values) + "]"
        params.append(f"{key}={text}")
    return f"{type(dist).__name__}({', '.join(params)})"


# Which priors apply to which inputs: a prior named <parameter>_<suffix> applies when the model has them.
PRIOR_SUFFIXES = {
    "m": "media",
    "rf": "rf",
    "om": "organic_media",
    "orf": "organic_rf",
    "c": "controls",
    "n": "non_media",
}


def spec_and_priors(mmm) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Meridian's ModelSpec as plain (setting, value) text, and each of its priors as (parameter,
    distribution) text, for "what changed in the model". A setting Meridian cannot answer is left out."""
    import dataclasses

    spec = mmm.model_spec
    settings = {
        "Knots": lambda: str(int(mmm.knot_info.n_knots)),
        "Knots set as": lambda: "Meridian's default" if spec.knots is None else str(spec.knots),
        "Adstock decay": lambda: str(spec.adstock_decay_spec),
        "Hill before adstock": lambda: str(bool(spec.hill_before_adstock)),
        "Max lag (weeks)": lambda: str(spec.max_lag),
        "Media effects distribution": lambda: str(mmm.media_effects_dist),
        "Paid media prior type": lambda: str(spec.effective_media_prior_type),
        "R&F prior type": lambda: str(spec.effective_rf_prior_type),
        "Unique sigma per geo": lambda: str(bool(mmm.unique_sigma_for_each_geo)),
        "Automatic knot selection": lambda: str(bool(spec.enable_aks)),
        "Holdout weeks": lambda: "none" if spec.holdout_id is None else str(int(np.asarray(spec.holdout_id).sum())),
    }
    out = []
    for label, read in settings.items():
        try:
            out.append((label, read()))
        except Exception:  # noqa: S112  (informative metadata: one missing setting never fails a build)
            continue
    data = mmm.input_data
    present = {
        "media": data.media_channel is not None,
        "rf": data.rf_channel is not None,
        "organic_media": data.organic_media_channel is not None,
        "organic_rf": data.organic_rf_channel is not None,
        "controls": data.control_variable is not None,
        "non_media": data.non_media_channel is not None,
    }

    def applies(name: str) -> bool:
        if name == "tau_g_excl_baseline":
            return not mmm.is_national
        group = PRIOR_SUFFIXES.get(name.rsplit("_", 1)[-1])
        return present.get(group, True)

    priors = tuple(
        (field.name, _distribution_text(getattr(spec.prior, field.name)))
        for field in dataclasses.fields(spec.prior)
        if getattr(spec.prior, field.name, None) is not None and applies(field.name)
    )
    return tuple(out), priors


def model_info(
    mmm, name: str, file_name: str, sha256: str, meridian_version: str, version: str = "", draws_kept: int = 0
) -> ModelInfo:
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
        version=version,
        fit_date=_fit_date(mmm),
        geos=() if mmm.is_national else _names(data.geo.values),
        draws_kept=draws_kept,
        **dict(zip(("model_spec", "priors"), spec_and_priors(mmm), strict=True)),
    )


def _flat(tensor, keep: np.ndarray | None = None) -> np.ndarray:
    """(chains, draws, ...) -> (kept draws, ...) float64."""
    arr = np.asarray(tensor, dtype=np.float64)
    arr = arr.reshape(-1, *arr.shape[2:])
    return arr if keep is None else arr[keep]


def _spend_by_geo_week(analyzer, mmm) -> np.ndarray:
    """(G, T, C) spend of the paid channels (media, then R&F): the input data's own where it has geo
    and week detail, else Meridian's imputation from media units (`get_aggregated_spend`)."""
    data = mmm.input_data
    parts = []
    for spend, has_geo, has_time in (
        (data.media_spend, data.media_spend_has_geo_dimension, data.media_spend_has_time_dimension),
        (data.rf_spend, data.rf_spend_has_geo_dimension, data.rf_spend_has_time_dimension),
    ):
        if spend is None:
            continue
        if not (has_geo and has_time):
            break
        parts.append(np.asarray(spend.values, dtype=np.float64))
    else:
        return np.concatenate(parts, axis=-1)
    if mmm.is_national:
        return np.asarray(analyzer.get_aggregated_spend(aggregate_times=False).values, dtype=np.float64)[None]
    geos = [str(g) for g in data.geo.values]
    return np.stack(
        [
            np.asarray(analyzer.get_aggregated_spend(selected_geos=[g], aggregate_times=False).values, dtype=np.float64)
            for g in geos
        ]
    )


def _cubes(arrays: dict[str, np.ndarray], is_national: bool) -> tuple[dict[str, Cube], dict[str, Cube]]:
    """(S, G, T, K) arrays -> national float32 cubes (summed over geos) and float16 geo cubes."""
    national = {k: Cube.plain(v.sum(axis=1, keepdims=True)) for k, v in arrays.items()}
    by_geo = {} if is_national else {k: Cube.quantized(v) for k, v in arrays.items() if k != "incremental_kpi"}
    return national, by_geo


def _outcome_draws(analyzer, mmm, info: ModelInfo, keep: np.ndarray, use_kpi: bool, clock: StepClock) -> OutcomeDraws:
    c = len(info.paid_channels)
    per_week = {"aggregate_geos": False, "aggregate_times": False, "use_kpi": use_kpi}
    with clock.meridian_call():
        incremental = _flat(analyzer.incremental_outcome(include_non_paid_channels=True, **per_week), keep)
        marginal = _flat(
            analyzer.incremental_outcome(
                scaling_factor0=1.0,
                scaling_factor1=1.0 + MARGINAL_INCREASE,
                include_non_paid_channels=False,
                by_reach=True,
                **per_week,
            ),
            keep,
        )
        expected_all = _flat(analyzer.expected_outcome(**per_week))  # every draw, for the fit's posterior mean
        baseline = _flat(analyzer._calculate_baseline_expected_outcome(**per_week), keep)  # noqa: SLF001
        impressions = np.asarray(
            analyzer.get_aggregated_impressions(
                aggregate_geos=False, aggregate_times=False, include_non_paid_channels=True
            ),
            dtype=np.float64,
        )
        spend = _spend_by_geo_week(analyzer, mmm)
        kpi_national = None
        if info.has_revenue and info.kpi_type != "revenue":
            kpi_national = _flat(
                analyzer.incremental_outcome(
                    use_kpi=True, aggregate_geos=True, aggregate_times=False, include_non_paid_channels=False
                ),
                keep,
            )
    model_context = mmm.model_context
    kpi = np.asarray(model_context.kpi, dtype=np.float64).reshape(info.n_geos, info.n_times)
    rpk = None
    if model_context.revenue_per_kpi is not None:
        rpk = np.asarray(model_context.revenue_per_kpi, dtype=np.float64).reshape(info.n_geos, info.n_times)
    actual = kpi if use_kpi else kpi * rpk
    arrays = {
        "incremental": incremental[..., :c],
        "marginal": marginal,
        "expected": expected_all[keep][..., None],
        "baseline": baseline[..., None],
    }
    if info.non_paid_channels:
        arrays["non_paid"] = incremental[..., c:]
    national, by_geo = _cubes(arrays, info.is_national)
    if kpi_national is not None:
        national["incremental_kpi"] = Cube.plain(kpi_national[:, None])
    return OutcomeDraws(
        times=tuple(str(t) for t in mmm.input_data.time.values),
        geos=info.geos or ("national",),
        channels=info.paid_channels,
        non_paid=info.non_paid_channels,
        national=national,
        by_geo=by_geo,
        spend=spend,
        impressions=impressions[..., :c],
        non_paid_impressions=impressions[..., c:],
        actual=actual,
        expected_mean=expected_all.mean(axis=0),
        revenue_per_kpi=rpk if (info.has_revenue and info.kpi_type != "revenue") else None,
    )


def _curves(
    analyzer, info: ModelInfo, presets: list[Period], draws: OutcomeDraws, keep, use_kpi, clock
) -> dict[str, CurveSet]:
    """Per-draw response curves of every preset in CURVE_KINDS: Meridian's incremental outcome with
    each channel's media scaled by each multiplier in every week (as `response_curves` does), per
    week, summed over each preset's weeks. The summary uses every draw, as Meridian's does."""
    chosen = [p for p in presets if p.kind in CURVE_KINDS]
    windows = {p.key: draws.time_index(p.start, p.end) for p in chosen}
    c, m = len(info.paid_channels), len(SPEND_MULTIPLIERS)
    total = info.n_posterior_draws
    sums = {key: np.zeros((total, c, m)) for key in windows}
    for j, mult in enumerate(SPEND_MULTIPLIERS):
        if mult == 0:
            continue
        with clock.meridian_call():
            per_week = _flat(
                analyzer.incremental_outcome(
                    scaling_factor0=0.0,
                    scaling_factor1=float(mult),
                    aggregate_geos=True,
                    aggregate_times=False,
                    by_reach=True,
                    inverse_transform_outcome=True,
                    use_kpi=use_kpi,
                    include_non_paid_channels=False,
                )
            )  # (S, T, C)
        for key, weeks in windows.items():
            sums[key][:, :, j] = per_week[:, weeks].sum(axis=1)
    out = {}
    for key, weeks in windows.items():
        stats = summarise(sums[key])
        out[key] = CurveSet(
            channels=info.paid_channels,
            multipliers=SPEND_MULTIPLIERS.astype(float),
            historical_spend=draws.spend[:, weeks].sum(axis=(0, 1)),
            draws=sums[key][keep].astype(np.float32),
            mean=stats["mean"],
            ci_lo=stats["ci_lo"],
            ci_hi=stats["ci_hi"],
        )
    return out


def _current_frequency(mmm, weeks: slice) -> np.ndarray:
    """Each R&F channel's average weekly frequency over `weeks`: impressions over reach, from the input data."""
    n_times = mmm.n_times
    reach = np.asarray(mmm.input_data.reach.values, dtype=np.float64)[:, -n_times:][:, weeks]
    frequency = np.asarray(mmm.input_data.frequency.values, dtype=np.float64)[:, -n_times:][:, weeks]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (reach * frequency).sum(axis=(0, 1)) / reach.sum(axis=(0, 1))


def _optimal_frequency_periods(info: ModelInfo, presets: list[Period]) -> list[Period]:
    """The presets Meridian's optimal_freq is kept for (R&F models only)."""
    return [p for p in presets if p.kind in OPTIMAL_FREQUENCY_KINDS] if info.rf_channels else []


def _optimal_frequency(analyzer, mmm, info: ModelInfo, period: Period, times, use_kpi, clock) -> pd.DataFrame:
    """Meridian's optimal_freq over `period`'s weeks, as a table by R&F channel, with the channels'
    current frequency over the same weeks."""
    index = slice(int(np.searchsorted(times, period.start)), int(np.searchsorted(times, period.end, side="right")))
    with clock.meridian_call():
        ds = analyzer.optimal_freq(
            selected_times=None if period.kind == "all" else list(times[index]),
            use_kpi=use_kpi,
            confidence_level=CONFIDENCE,
        )
    table = pd.DataFrame({"optimal_frequency": ds["optimal_frequency"].to_series().astype(float)})
    table = table.rename_axis("channel")
    current = dict(zip(info.rf_channels, _current_frequency(mmm, index), strict=True))
    table["current_frequency"] = [current.get(str(ch), np.nan) for ch in table.index]
    if "optimized_roi" in ds:
        table["roi_at_optimal_mean"] = ds["optimized_roi"].sel(metric="mean").to_series().reindex(table.index).values
    if "roi" in ds:
        roi = ds["roi"]
        curves = {stat: roi.sel(metric=stat).to_pandas() for stat in ("mean", "ci_lo", "ci_hi") if stat in roi.metric}
        table["roi_by_frequency"] = [
            {
                "frequency": [float(f) for f in curves["mean"].index],
                **{s: [float(v) for v in df[ch]] for s, df in curves.items()},
            }
            for ch in table.index
        ]
    return table


def _optimal_frequencies(analyzer, mmm, info, periods, times, use_kpi, clock) -> tuple[dict[str, pd.DataFrame], float]:
    """Meridian's optimal_freq of each period, and when the last one ended (the step's time when it
    runs in the background). Periods of the same weeks (a last year that is exactly the last 52
    weeks) share one call: Meridian would answer both alike."""
    by_weeks: dict[tuple[str, str, bool], pd.DataFrame] = {}
    tables = {}
    for period in periods:
        weeks = (period.start, period.end, period.kind == "all")
        if weeks not in by_weeks:
            by_weeks[weeks] = _optimal_frequency(analyzer, mmm, info, period, times, use_kpi, clock)
        tables[period.key] = by_weeks[weeks].copy()
    return tables, time.perf_counter()


def _convergence(analyzer, mmm, clock) -> pd.DataFrame:
    """Meridian's rhat_summary per parameter group, with the smallest bulk effective sample size
    of each group (ArviZ, which Meridian's InferenceData comes with)."""
    import arviz as az

    with clock.meridian_call():
        rhat = analyzer.rhat_summary()
    frame = pd.DataFrame({col: list(rhat[col]) for col in rhat.columns})
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = [v.tolist() if isinstance(v, np.ndarray) else v for v in frame[col]]
    posterior = mmm.inference_data.posterior
    names = [p for p in frame["param"] if p in posterior]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = az.ess(posterior, var_names=names, method="bulk")
    min_ess = {p: float(np.nanmin(np.asarray(ess[p]))) if np.asarray(ess[p]).size else math.nan for p in names}
    frame["min_ess"] = [min_ess.get(p, math.nan) for p in frame["param"]]
    return frame


def _roi_prior(analyzer, mmm, info: ModelInfo, use_kpi: bool, seed_text: str, clock: StepClock) -> RoiPrior | None:
    """Meridian's prior ROI per paid channel, whole range and all geos: `Analyzer.roi(use_posterior=False)`,
    the ROI of each prior draw, whatever the prior's type (ROI, mROI, contribution or coefficient).
    A file saved without prior draws gets PRIOR_DRAWS of them sampled here (seeded from the file's
    hash, so a rebuild draws the same); None when Meridian cannot give them (one sentence in the log:
    the prior is a diagnostic, the rest of the bundle does not need it)."""
    import hashlib

    sampled = "prior" not in mmm.inference_data.groups()
    try:
        with clock.meridian_call():
            if sampled:
                mmm.sample_prior(PRIOR_DRAWS, seed=int(hashlib.sha256(seed_text.encode()).hexdigest()[:8], 16))
            draws = _flat(analyzer.roi(use_posterior=False, use_kpi=use_kpi))
    except Exception as exc:  # a diagnostic: the bundle is whole without it
        log.warning("No ROI prior for %s: Meridian could not compute it (%s).", info.name, exc)
        return None
    if len(draws) > MAX_PRIOR_DRAWS:
        draws = draws[np.linspace(0, len(draws) - 1, MAX_PRIOR_DRAWS).round().astype(int)]
    return RoiPrior(channels=info.paid_channels, draws=draws.astype(np.float32), sampled_by_builder=sampled)


def build_bundle(
    mmm,
    *,
    name: str,
    file_name: str,
    sha256: str,
    meridian_version: str,
    version: str = "",
    progress: Progress = lambda _m, _f: None,
) -> Bundle:
    """Run every Meridian analysis the dashboard needs, once."""
    from meridian.analysis import analyzer as analyzer_module

    from mmm_dash.builder.meridian.review import review_model

    build_start = time.perf_counter()
    clock = StepClock(progress)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # Meridian warns on every spend lookup of a model without R&F channels; it is not actionable here.
    warnings.filterwarnings("ignore", message="Requested spends for paid media channels with R&F data")
    info = model_info(mmm, name, file_name, sha256, meridian_version, version)
    times = [str(t) for t in mmm.input_data.time.values]
    presets = presets_for(times)
    keep = draws_to_keep(info, sum(p.kind in CURVE_KINDS for p in presets))
    info = model_info(mmm, name, file_name, sha256, meridian_version, version, draws_kept=len(keep))
    use_kpi = not info.has_revenue

    with clock.step("analyzer"), clock.meridian_call():
        analyzer = analyzer_module.Analyzer(mmm)
    freq_periods = _optimal_frequency_periods(info, presets)
    freq_args = (analyzer, mmm, info, freq_periods, times, use_kpi, clock)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="optimal-freq") as pool:
        freq_started = time.perf_counter()
        freq_job = pool.submit(_optimal_frequencies, *freq_args) if freq_periods and BACKGROUND_THREADS else None
        with clock.step("outcome draws"):
            draws = _outcome_draws(analyzer, mmm, info, keep, use_kpi, clock)
        with clock.step("response curves"):
            curves = _curves(analyzer, info, presets, draws, keep, use_kpi, clock)
        if freq_job is None:
            with clock.step("optimal frequency"):
                opt_freq, _ended = _optimal_frequencies(*freq_args)
        with clock.step("convergence (R-hat, ESS)"):
            rhat = _convergence(analyzer, mmm, clock)
        with clock.step("Hill curves and adstock"), clock.meridian_call():
            hill = analyzer.hill_curves(confidence_level=CONFIDENCE)
            adstock = analyzer.adstock_decay(confidence_level=CONFIDENCE)
        hill = hill.drop(columns=[c for c in hill.columns if "histogram" in c]).reset_index(drop=True)
        with clock.step("health review (Meridian ModelReviewer)"), clock.meridian_call():
            health = review_model(mmm, seed_text=sha256)
        with clock.step("ROI prior"):  # after the review: it may add prior draws to the model
            roi_prior = _roi_prior(analyzer, mmm, info, use_kpi, sha256, clock)
        if freq_job is not None:
            opt_freq = clock.background_result("optimal frequency", freq_started, freq_job)
    progress("done", 1.0)
    bundle = Bundle(
        schema_version=BUNDLE_SCHEMA_VERSION,
        info=info,
        draws=draws,
        presets={p.key: p for p in presets},
        curves=curves,
        optimal_frequency=opt_freq,
        rhat=rhat,
        hill_curves=hill,
        adstock_decay=adstock.reset_index(drop=True),
        health=health,
        timings={
            "build_seconds": time.perf_counter() - build_start,
            "meridian_seconds": clock.meridian,
            "steps": dict(clock.steps),
        },
        roi_prior=roi_prior,
    )
    assert_plain(bundle)
    return bundle


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
