"""An accessible bar chart of money over days, drawn as SVG on the server.

Why not a JavaScript charting library: the pages have no build step and must work without
JavaScript, and a pip-installed boxoffice has no npm step to vendor one. An SVG drawn here needs
neither, prints, scales to any screen, and is readable by screen readers: ``role="img"`` with a
title and a summary, every bar with its own ``<title>``, and the page shows the same numbers as a
table next to it. The drawing is a pure function of its inputs, so it is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from boxoffice.kit.money import format_amount

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 28
GRID_LINES = 4


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Decimal]
    colour: str


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value`` (axis maximum)."""
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (value.adjusted())
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if value <= step * magnitude:
            return step * magnitude
    return Decimal(10) * magnitude  # pragma: no cover - the loop always returns


def _num(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(title: str, days: Sequence[date], series: Sequence[Series], currency: str) -> Markup:
    """Grouped bars, one group per day and one bar per series, with a labelled money axis."""
    top = nice_ceiling(max((v for s in series for v in s.values), default=Decimal(0)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(days), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = []
    for i in range(GRID_LINES + 1):
        value = top * i / GRID_LINES
        y = TOP + plot_h - plot_h * i / GRID_LINES
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}" stroke="#d5d9e0"/>'
            f'<text x="{LEFT - 6}" y="{_num(y + 4)}" text-anchor="end" font-size="11" fill="#4f5868">'
            f"{escape(format_amount(value, currency))}</text>"
        )
    label_every = max(len(days) // 6, 1)
    for d_index, day in enumerate(days):
        x0 = LEFT + group_w * d_index + group_w * 0.1
        for s_index, s in enumerate(series):
            value = s.values[d_index]
            h = float(value / top) * plot_h if top else 0.0
            tip = f"{day.isoformat()} · {s.label}: {format_amount(value, currency)} {currency}"
            parts.append(
                f'<rect x="{_num(x0 + bar_w * s_index)}" y="{_num(TOP + plot_h - h)}" width="{_num(bar_w)}" '
                f'height="{_num(h)}" fill="{escape(s.colour)}"><title>{escape(tip)}</title></rect>'
            )
        if d_index % label_every == 0:
            parts.append(
                f'<text x="{_num(LEFT + group_w * (d_index + 0.5))}" y="{HEIGHT - 8}" text-anchor="middle" '
                f'font-size="11" fill="#4f5868">{escape(day.strftime("%b %d"))}</text>'
            )
    totals = "; ".join(f"{s.label}: {format_amount(sum(s.values, Decimal(0)), currency)} {currency}" for s in series)
    summary = f"{len(days)} days from {days[0].isoformat()} to {days[-1].isoformat()}. Totals — {totals}." if days else ""
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(summary)}</desc>'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#4f5868"/>{"".join(parts)}</svg>'
    )
