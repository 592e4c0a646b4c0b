"""Number formatting shared by pages, insights and exports, so they never disagree."""

from __future__ import annotations

import math


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


def ratio(x: float | None, digits: int = 2) -> str:
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


def interval(lo: float, hi: float, fmt=ratio) -> str:
    return f"{fmt(lo)}–{fmt(hi)}"
