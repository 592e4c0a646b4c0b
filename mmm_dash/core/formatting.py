"""Number formatting shared by pages, insights and exports, so they never disagree.

Money is written in the deployment's currency (the CURRENCY setting, applied once when the app
starts with `use_currency`), so every card, axis, table, input and export says what unit it is in.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable

from mmm_dash.core.bundle import CONFIDENCE, DEFAULT_BOUND

LEVEL = f"{CONFIDENCE:.0%}"  # "90%": the credible level, as every label writes it
CI = f"{LEVEL} CI"  # "90% CI"
BOUND = f"±{DEFAULT_BOUND:.0%}"  # "±30%": the optimizer's default bounds

KNOWN_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "BRL": "R$",
    "AUD": "A$",
    "CAD": "C$",
    "NZD": "NZ$",
    "MXN": "MX$",
    "CHF": "CHF ",
    "SEK": "SEK ",
    "NOK": "NOK ",
    "DKK": "DKK ",
    "PLN": "zł ",
    "ZAR": "R ",
    "SGD": "S$",
    "HKD": "HK$",
}


@dataclasses.dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217, e.g. "USD"
    symbol: str  # written before amounts, e.g. "$" (may end in a space: "CHF ")

    @property
    def label(self) -> str:
        """What axis titles and table headers add: "$" or "CHF"."""
        return self.symbol.strip() or self.code


def with_currency(label: str, is_money: bool = True) -> str:
    """An axis title or header for amounts: "Spend ($)"; `label` alone when it is not money."""
    return f"{label} ({CURRENCY.label})" if is_money else label


def parse_currency(text: str | None) -> Currency:
    """`USD`, `EUR`, or `CODE:SYMBOL` for any other (`CHF:Fr. `); ValueError says what is wrong."""
    text = (text or "USD").strip()
    code, _, symbol = text.partition(":")
    code = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"CURRENCY must start with a three-letter currency code such as USD or EUR, not {text!r}.")
    symbol = symbol.strip()
    if not symbol:
        symbol = KNOWN_SYMBOLS.get(code, code + " ")
    elif symbol[-1].isalpha() or symbol[-1] == ".":
        symbol += " "  # "Fr. 12.3M", "kr 12.3M"
    return Currency(code, symbol)


CURRENCY = Currency("USD", "$")


def use_currency(currency: Currency) -> None:
    """Write money in `currency` from now on (the app factory calls this once with the setting)."""
    global CURRENCY
    CURRENCY = currency


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


def money(x: float | None, digits: int = 3) -> str:
    """1234567 -> '$1.23M' in the configured currency."""
    if x is None or not math.isfinite(x):
        return "–"
    return ("−" if x < 0 else "") + CURRENCY.symbol + compact(abs(x), digits)


def outcome(x: float | None, has_revenue: bool) -> str:
    """An incremental outcome: money for revenue models, a plain count of the KPI otherwise."""
    return money(x) if has_revenue else compact(x)


def kpi_cost_scale(cost: float | None) -> int:
    """1, or 1,000 when a cost per KPI is under 0.1: '$4.21 per 1,000 visits' reads, '$0.00421' does not.
    A view picks one scale from its blended cost and states every channel's cost in it."""
    return 1000 if cost is not None and math.isfinite(cost) and 0 < abs(cost) < 0.1 else 1


def cost_per_kpi(x: float | None, kpi: str = "KPI", scale: int | None = None) -> str:
    """'$4.21 per visit' or '$4.21 per 1,000 visits' (`scale` fixed, e.g. for an interval's ends)."""
    scale = kpi_cost_scale(x) if scale is None else scale
    if x is None or not math.isfinite(x):
        return "–"
    per = f"per 1,000 {kpi}" if scale == 1000 else f"per {kpi}"
    return f"{money(x * scale)} {per}"


def cost_interval(mean: float, lo: float, hi: float, kpi: str = "KPI", scale: int | None = None) -> str:
    """'$4.21 per visit (90% CI $3.10–$5.40)': one scale for the mean and both ends (the view's, when given)."""
    scale = kpi_cost_scale(mean) if scale is None else scale
    per = "per 1,000 " + kpi if scale == 1000 else "per " + kpi
    return f"{money(mean * scale)} {per} ({CI} {money(lo * scale)}–{money(hi * scale)})"


def csv_number(x: float) -> str:
    """A CSV cell: amounts to the cent, smaller numbers to six significant digits (full precision
    stays in the JSON files)."""
    if abs(x) >= 1e4:
        return f"{x:.2f}"
    return f"{x:.6g}"


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
