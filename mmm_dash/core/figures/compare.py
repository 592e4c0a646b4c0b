"""Figures of the Compare page: both views per channel with intervals, and the change with its own."""

from __future__ import annotations

import math

from mmm_dash.core import formatting
from mmm_dash.core.compare_views import CONFIDENT, METRIC_LABELS, ViewComparison
from mmm_dash.core.figures.plain import Figure, bar, scatter
from mmm_dash.core.figures.theme import BASELINE_COLOR, PALETTE, base_figure, empty_figure
from mmm_dash.core.formatting import CI

UP, DOWN, UNSURE = "#2f9e44", "#e03131", "#adb5bd"


def _value_format(metric: str) -> str:
    return {"spend": ",.0f", "incremental_outcome": ",.0f", "contribution_share": ".1f", "cpik": ",.4~f"}.get(
        metric, ".2f"
    )


def _is_money(c: ViewComparison, metric: str) -> bool:
    return metric in ("spend", "cpik") or (metric == "incremental_outcome" and c.b.info.has_revenue)


def _title(c: ViewComparison, metric: str) -> str:
    """The metric's name, with the currency where it is an amount: 'Spend (€)'."""
    return formatting.with_currency(METRIC_LABELS[metric], _is_money(c, metric))


def _unit(c: ViewComparison, metric: str) -> str:
    """What hover values start with: the currency's symbol for amounts."""
    return formatting.CURRENCY.symbol if _is_money(c, metric) else ""


def dumbbell(c: ViewComparison, metric: str, a_name: str = "A", b_name: str = "B") -> Figure:
    """Per channel, A and B as points with their intervals, joined by a line (one row per channel)."""
    rows = [r for r in c.channels if metric in r.metrics]
    if not rows:
        return empty_figure(f"{METRIC_LABELS[metric]} is not compared for these views.")
    names = [r.channel for r in rows]
    fmt, unit = _value_format(metric), _unit(c, metric)
    fig = base_figure(max(240, 46 * len(rows) + 110), xaxis_title=_title(c, metric), hovermode="closest")
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}, margin={"t": 40})
    for side, name, color, offset in (("a", a_name, BASELINE_COLOR, -0.12), ("b", b_name, PALETTE[0], 0.12)):
        pts = [(i, getattr(r.metrics[metric], side)) for i, r in enumerate(rows) if getattr(r.metrics[metric], side)]
        if not pts:
            continue
        fig.add_trace(
            scatter(
                x=[e.mean for _i, e in pts],
                y=[i + offset for i, _e in pts],
                mode="markers",
                name=name,
                marker={"color": color, "size": 11, "line": {"width": 1, "color": "#495057"}},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [e.ci_hi - e.mean for _i, e in pts],
                    "arrayminus": [e.mean - e.ci_lo for _i, e in pts],
                    "color": color if side == "b" else "#868e96",
                    "thickness": 1.4,
                },
                customdata=[[names[i], e.ci_lo, e.ci_hi] for i, e in pts],
                hovertemplate="%{customdata[0]} · "
                + name
                + f": {unit}%{{x:{fmt}}}<br>{CI} {unit}%{{customdata[1]:{fmt}}} – {unit}%{{customdata[2]:{fmt}}}"
                "<extra></extra>",
            )
        )
    for i, r in enumerate(rows):
        m = r.metrics[metric]
        if m.a and m.b:
            fig.add_trace(
                scatter(
                    x=[m.a.mean, m.b.mean],
                    y=[i - 0.12, i + 0.12],
                    mode="lines",
                    line={"color": "#ced4da", "width": 2},
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
    fig.update_yaxes(tickvals=list(range(len(rows))), ticktext=names, autorange="reversed", automargin=True)
    return fig


def change_bars(c: ViewComparison, metric: str) -> Figure:
    """B − A per channel with its interval, coloured by how sure the change is (P(up))."""
    rows = [r for r in c.channels if metric in r.metrics and r.metrics[metric].change is not None]
    if not rows or metric == "spend":
        return empty_figure("No change with an interval to show for this metric.")
    fmt = _value_format(metric)
    unit = f" {formatting.CURRENCY.label}" if _is_money(c, metric) else ""  # after the sign: "+1,234 €"
    changes = [r.metrics[metric] for r in rows]
    colors = [
        UP
        if (m.prob_up or 0) >= CONFIDENT
        else DOWN
        if (m.prob_up if m.prob_up is not None else 1) <= 1 - CONFIDENT
        else UNSURE
        for m in changes
    ]
    fig = base_figure(max(240, 46 * len(rows) + 90), xaxis_title=f"Change in {_title(c, metric)}, B − A")
    fig.update_layout(showlegend=False)
    fig.add_trace(
        bar(
            y=[r.channel for r in rows],
            x=[m.change.mean for m in changes],
            orientation="h",
            marker={"color": colors},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [m.change.ci_hi - m.change.mean for m in changes],
                "arrayminus": [m.change.mean - m.change.ci_lo for m in changes],
                "color": "#495057",
                "thickness": 1.2,
            },
            customdata=[
                [m.change.ci_lo, m.change.ci_hi, (m.prob_up if m.prob_up is not None else math.nan) * 100]
                for m in changes
            ],
            hovertemplate=f"%{{y}}: %{{x:+{fmt}}}{unit}<br>{CI} %{{customdata[0]:+{fmt}}} – "
            f"%{{customdata[1]:+{fmt}}}{unit}"
            "<br>P(up) %{customdata[2]:.0f}%<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": "#495057", "width": 1})
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig
