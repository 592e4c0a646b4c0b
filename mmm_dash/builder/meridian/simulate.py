"""Simulated weekly data of a plausible multi-region advertiser, with known true ROIs.

Pure numpy/pandas: the generating process is ours (geometric adstock, Hill saturation), so the
fitted model can be checked against the truth it should recover.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class ChannelTruth:
    name: str
    true_roi: float  # incremental revenue per unit of spend over the whole range
    cpm: float  # cost per thousand impressions
    weekly_spend: float  # average national spend per week
    adstock_decay: float  # geometric retention per week
    half_saturation: float  # of the mean adstocked per-capita impressions
    hill_slope: float
    flighting: float  # share of weeks "dark" (0 spend), for variation


DEMO_CHANNELS = (
    ChannelTruth("TV", 1.6, 12.0, 90_000, 0.5, 1.0, 1.0, 0.15),
    ChannelTruth("Paid Search", 3.4, 30.0, 45_000, 0.1, 1.3, 1.0, 0.0),
    ChannelTruth("Social", 2.2, 6.0, 40_000, 0.3, 0.9, 1.0, 0.1),
    ChannelTruth("Display", 0.4, 3.0, 80_000, 0.2, 0.8, 1.0, 0.1),
    ChannelTruth("Online Video", 1.2, 15.0, 45_000, 0.45, 1.0, 1.3, 0.2),
)

# A reach & frequency channel for benchmark models: half_saturation is in weekly frequency (exposures per
# person reached), as Meridian's R&F Hill curves are.
DEMO_RF_CHANNEL = ChannelTruth("Connected TV", 1.8, 25.0, 55_000, 0.4, 2.5, 1.5, 0.1)
RF_MEAN_FREQUENCY = 2.5  # average weekly frequency of an R&F channel's reach

DEMO_GEOS = {"Northeast": 5.5e6, "Southeast": 6.5e6, "Midwest": 4.8e6, "Southwest": 4.0e6, "West": 7.2e6}
CONTROL_COLUMNS = ("avg_price", "promotion")
MAX_LAG = 8


@dataclasses.dataclass(frozen=True)
class SimulatedData:
    frame: pd.DataFrame  # one row per geo and week
    channels: tuple[ChannelTruth, ...]
    truth: dict  # JSON-ready description of the generating process and true ROIs
    rf_channels: tuple[ChannelTruth, ...] = ()


def _geometric_adstock(x: np.ndarray, decay: float, max_lag: int = MAX_LAG) -> np.ndarray:
    """Normalised geometric adstock along axis 1 (time) of a (geo, time) array."""
    weights = decay ** np.arange(max_lag + 1)
    weights = weights / weights.sum()
    out = np.zeros_like(x)
    for lag, w in enumerate(weights):
        out[:, lag:] += w * x[:, : x.shape[1] - lag]
    return out


def _hill(x: np.ndarray, half: float, slope: float) -> np.ndarray:
    return x**slope / (x**slope + half**slope)


def generated_geos(n_geos: int, seed: int = 7) -> dict[str, float]:
    """`n_geos` named regions ("Region 01", ...) with lognormal populations of a few million each, for
    models larger than the demo's five geos (their own seed, so they never move the demo's data)."""
    rng = np.random.default_rng(seed)
    populations = np.round(rng.lognormal(np.log(2.5e6), 0.6, n_geos), -3)
    width = len(str(n_geos))
    return {f"Region {i + 1:0{width}d}": float(p) for i, p in enumerate(populations)}


def _channel_key(name: str) -> str:
    return name.lower().replace(" ", "_")


def _spend(ch: ChannelTruth, rng, t: np.ndarray, pop_share: np.ndarray) -> np.ndarray:
    """(geo, week) spend: national bursts and dark weeks, split by population with geo-week noise."""
    n_weeks = len(t)
    bursts = 1 + 0.35 * np.sin(2 * np.pi * (t + rng.integers(0, 52)) / rng.uniform(10, 30))
    on = rng.random(n_weeks) >= ch.flighting
    national_spend = ch.weekly_spend * bursts * on * rng.lognormal(0, 0.25, n_weeks)
    geo_noise = rng.lognormal(0, 0.3, (len(pop_share), n_weeks))
    return national_spend[None, :] * pop_share[:, None] * geo_noise


def _rf_channel(ch: ChannelTruth, rng, t: np.ndarray, population: np.ndarray):
    """Reach, frequency, spend and the (unscaled) response of an R&F channel: reach x Hill(frequency),
    adstocked, as Meridian models R&F media. Impressions are exactly reach x frequency."""
    spend = _spend(ch, rng, t, population / population.sum())
    target = spend / ch.cpm * 1000  # impressions the spend buys
    frequency = np.round(1 + (RF_MEAN_FREQUENCY - 1) * rng.lognormal(0, 0.3, target.shape), 3)
    reach = np.minimum(np.round(target / frequency), population[:, None])
    impressions = reach * frequency
    spend = np.round(impressions * ch.cpm / 1000, 2)
    exposure = reach / population[:, None] * _hill(frequency, ch.half_saturation, ch.hill_slope)
    response = _geometric_adstock(exposure, ch.adstock_decay)
    return reach, frequency, impressions, spend, response * population[:, None]


def simulate_demo_data(
    seed: int = 20240601,
    n_weeks: int = 156,
    start: str = "2023-01-02",
    channels: tuple[ChannelTruth, ...] = DEMO_CHANNELS,
    geos: dict[str, float] | None = None,
    rf_channels: tuple[ChannelTruth, ...] = (),
    revenue_per_conversion: float = 60.0,
    geo_noise_sd: float = 0.02,
    national_noise_sd: float = 0.03,
) -> SimulatedData:
    """Weekly conversions driven by baseline, seasonality, two controls and paid media, with the noise
    real data has: each geo-week varies by `geo_noise_sd` and each week shares a national shock of
    `national_noise_sd` (weather, news, competitors) that no input explains, so a fit reads R² about
    0.9 nationally rather than the near-perfect fit of noise-free data. `rf_channels` add reach &
    frequency channels (columns KEY_reach, KEY_frequency, KEY_impressions = their product, KEY_spend),
    drawn after the media channels so that without them the data is the demo's, draw for draw."""
    rng = np.random.default_rng(seed)
    geos = geos or DEMO_GEOS
    geo_names = list(geos)
    population = np.array([geos[g] for g in geo_names])
    pop_share = population / population.sum()
    weeks = pd.date_range(start, periods=n_weeks, freq="W-MON")
    t = np.arange(n_weeks)
    season = 1 + 0.12 * np.sin(2 * np.pi * t / 52.18) + 0.06 * np.cos(4 * np.pi * t / 52.18)
    n_geos = len(geo_names)

    avg_price = 49 + 1.5 * np.sin(2 * np.pi * t / 26) + rng.normal(0, 0.6, (n_geos, n_weeks))
    promotion = (rng.random((n_geos, n_weeks)) < 0.15).astype(float)

    # Baseline conversions per capita per week: geo level, trend, season, controls.
    geo_level = rng.uniform(0.8, 1.2, n_geos)[:, None]
    trend = 1 + 0.04 * t / 52
    base_per_capita = 0.6e-3 * geo_level * trend * season
    base = base_per_capita * population[:, None]
    base = base * (1 - 0.03 * (avg_price - 49)) * (1 + 0.08 * promotion)

    columns: dict[str, np.ndarray] = {}
    incremental_conv = np.zeros((n_geos, n_weeks))
    truth_channels = []
    for ch in channels:
        spend = _spend(ch, rng, t, pop_share)
        impressions = spend / ch.cpm * 1000
        per_capita = impressions / population[:, None]
        adstocked = _geometric_adstock(per_capita, ch.adstock_decay)
        scale = adstocked[adstocked > 0].mean()
        response = _hill(adstocked / scale, ch.half_saturation, ch.hill_slope) * population[:, None]
        key = _channel_key(ch.name)
        columns[f"{key}_impressions"] = impressions.round()
        columns[f"{key}_spend"] = spend.round(2)
        beta = _roi_scale(ch, spend, response, revenue_per_conversion)
        incremental_conv += beta * response
        truth_channels.append(_channel_truth(ch, spend, beta, response, revenue_per_conversion))
    for ch in rf_channels:
        reach, frequency, impressions, spend, response = _rf_channel(ch, rng, t, population)
        key = _channel_key(ch.name)
        columns.update(
            {
                f"{key}_reach": reach,
                f"{key}_frequency": frequency,
                f"{key}_impressions": impressions,
                f"{key}_spend": spend,
            }
        )
        beta = _roi_scale(ch, spend, response, revenue_per_conversion)
        incremental_conv += beta * response
        truth_channels.append(
            {**_channel_truth(ch, spend, beta, response, revenue_per_conversion), "reach_and_frequency": True}
        )

    expected = base + incremental_conv
    shocks = rng.normal(1, geo_noise_sd, expected.shape) * rng.normal(1, national_noise_sd, (1, n_weeks))
    conversions = np.maximum(expected * shocks, 0).round()
    rpk = revenue_per_conversion * rng.normal(1, 0.02, (n_geos, n_weeks))

    rows = {
        "geo": np.repeat(geo_names, n_weeks),
        "time": np.tile(weeks.strftime("%Y-%m-%d"), n_geos),
        "population": np.repeat(population, n_weeks),
        "conversions": conversions.ravel(),
        "revenue_per_conversion": rpk.round(2).ravel(),
        "avg_price": avg_price.round(2).ravel(),
        "promotion": promotion.ravel(),
    }
    rows.update({k: v.ravel() for k, v in columns.items()})
    frame = pd.DataFrame(rows)
    truth = {
        "description": "Simulated weekly conversions: baseline x season x controls + paid media "
        "through geometric adstock and Hill saturation.",
        "seed": seed,
        "n_weeks": n_weeks,
        "geos": geo_names,
        "kpi": "conversions",
        "revenue_per_conversion": revenue_per_conversion,
        "media_share_of_conversions": float(incremental_conv.sum() / expected.sum()),
        "noise": {"geo_week_sd": geo_noise_sd, "national_week_sd": national_noise_sd},
        "channels": truth_channels,
    }
    return SimulatedData(frame=frame, channels=tuple(channels), truth=truth, rf_channels=tuple(rf_channels))


def _roi_scale(ch: ChannelTruth, spend, response, revenue_per_conversion: float) -> float:
    """The factor on the response that makes incremental revenue over the range true ROI x spend exactly."""
    return ch.true_roi * spend.sum() / (response.sum() * revenue_per_conversion)


def _channel_truth(ch: ChannelTruth, spend, beta: float, response, revenue_per_conversion: float) -> dict:
    return {
        "channel": ch.name,
        "true_roi": ch.true_roi,
        "spend": float(spend.sum()),
        "incremental_revenue": float(beta * response.sum() * revenue_per_conversion),
        "adstock_decay": ch.adstock_decay,
        "hill_half_saturation": ch.half_saturation,
        "hill_slope": ch.hill_slope,
    }


def rf_channel_columns(channels: tuple[ChannelTruth, ...]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(reach, frequency, spend columns, channel names) of the R&F channels of `simulate_demo_data`."""
    keys = [_channel_key(ch.name) for ch in channels]
    return (
        [f"{k}_reach" for k in keys],
        [f"{k}_frequency" for k in keys],
        [f"{k}_spend" for k in keys],
        [c.name for c in channels],
    )


def channel_columns(channels: tuple[ChannelTruth, ...]) -> tuple[list[str], list[str], list[str]]:
    """(impression columns, spend columns, channel names) in the frame of `simulate_demo_data`."""
    keys = [_channel_key(ch.name) for ch in channels]
    return [f"{k}_impressions" for k in keys], [f"{k}_spend" for k in keys], [c.name for c in channels]
