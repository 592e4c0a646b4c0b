"""Number formatting shared by pages, insights and exports, so they never disagree."""

from __future__ import annotations

import math
from collections.abc import Callable

from mmm_dash.core.bundle import CONFIDENCE, DEFAULT_BOUND

LEVEL = f"{CONFIDENCE:.0%}"  # "90%": the credible level, as every label writes it
CI = f"{LEVEL} CI"  # "90% CI"
BOUND = f"±{DEFAULT_BOUND:.0%}"  # "±30%": the optimizer's default bounds


def compact(x: float | None, digits: int = 3) -> str:
    """1234567 -> '1.23M'."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    sign = "-" if x < 0 else ""
    x = abs(x)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{sign}{x / scale:.{digits}g}{unit}"
    return f"{sign}{x:,.0f}" if x >= 100 else f"{sign}{x:.{digits}g}"


def cost_per_kpi(x: float | None) -> str:
    """A cost per incremental KPI with three significant digits at any scale (0.00421, 4.21, 4.21k)."""
    return compact(x)


def ratio(x: float | None, digits: int = 2) -> str:
    """1.2345 -> '1.23'."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}f}"


def pct(x: float | None, digits: int = 1) -> str:
    """Percent of a value already in percent units (Meridian's pct_* metrics)."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}f}%"


def prob(p: float) -> str:
    """'= 87%', '> 99%' or '< 1%': a finite sample never proves 100% or 0%."""
    if p >= 0.995:
        return "> 99%"
    if p <= 0.005:
        return "< 1%"
    return f"= {p * 100:.0f}%"


def interval(lo: float, hi: float, fmt: Callable[[float], str] = ratio) -> str:
    """'1.20–3.40': both ends in the same format."""
    return f"{fmt(lo)}–{fmt(hi)}"


def with_interval(mean: float, lo: float, hi: float, fmt: Callable[[float], str] = ratio) -> str:
    """'2.10 (1.20–3.40)': a mean and its credible interval."""
    return f"{fmt(mean)} ({interval(lo, hi, fmt)})"
