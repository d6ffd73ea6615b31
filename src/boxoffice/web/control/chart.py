"""The dashboard's chart of money over days: pygal (a maintained charting library) draws the SVG
on the server, so the pages keep needing no build step and no JavaScript to show it.

Accessibility: the SVG is an image with a label and a text summary of every series' total, and the
dashboard shows the same numbers as a table next to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from boxoffice.kit.money import format_amount

WIDTH, HEIGHT = 720, 260
_INLINE_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Decimal]
    colour: str


def summary(days: Sequence[date], series: Sequence[Series], currency: str) -> str:
    """The chart in one sentence, with exact totals (what a screen reader reads)."""
    if not days:
        return "No days to show."
    totals = "; ".join(f"{s.label}: {format_amount(sum(s.values, Decimal(0)), currency)} {currency}" for s in series)
    return f"{len(days)} days from {days[0].isoformat()} to {days[-1].isoformat()}. Totals — {totals}."


def bar_chart(title: str, days: Sequence[date], series: Sequence[Series], currency: str) -> Markup:
    """Grouped bars, one group per day and one bar per series, labelled in the currency's format."""
    # Imported here: pygal costs every web process about 5 MB of memory, and only the dashboard draws.
    import pygal
    from pygal.style import Style

    style = Style(
        colors=tuple(s.colour for s in series),
        background="transparent",
        plot_background="transparent",
        font_family="inherit",
        foreground="#1c2330",
        foreground_subtle="#4f5868",
    )
    # The page around the chart carries its heading and legend; the title goes into the image's label.
    chart = pygal.Bar(
        show_legend=False,
        style=style,
        width=WIDTH,
        height=HEIGHT,
        js=[],  # no script from the network; the chart is complete without it
        disable_xml_declaration=True,
        show_minor_x_labels=False,
        truncate_label=-1,
        print_values=False,
    )
    labels = [d.strftime("%b %d") for d in days]
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(len(days) // 6, 1)]
    for s in series:
        # pygal positions bars with floats; the amounts a person reads come from the exact decimals.
        chart.add(
            s.label,
            [
                {"value": float(v), "label": f"{d.isoformat()} · {s.label}: {format_amount(v, currency)} {currency}"}
                for d, v in zip(days, s.values, strict=True)
            ],
            formatter=lambda _value: "",
        )
    # pygal embeds its tooltip script's settings as an inline script; nothing reads them (js=[]),
    # and the pages' Content-Security-Policy refuses inline scripts.
    svg = _INLINE_SCRIPT.sub("", chart.render(is_unicode=True))
    label = escape(f"{title}. {summary(days, series, currency)}")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))
