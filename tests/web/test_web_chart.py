"""The dashboard's SVG chart is a pure function: scale, bars, labels and its accessible description."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from boxoffice.web.control.chart import BOTTOM, HEIGHT, TOP, Series, bar_chart, nice_ceiling

DAYS = [date(2025, 3, 1) + timedelta(days=i) for i in range(3)]


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2))
def test_the_axis_maximum_is_a_round_number_at_least_the_largest_value(value: Decimal) -> None:
    top = nice_ceiling(value)
    assert top >= value and top < value * 10
    assert top.normalize().as_tuple().digits[0] in (1, 2, 5) or top.normalize().as_tuple().digits[:2] == (2, 5)


def test_an_empty_chart_still_has_a_scale() -> None:
    assert nice_ceiling(Decimal(0)) == Decimal(1)


def test_bars_are_proportional_and_each_says_its_day_series_and_amount() -> None:
    svg = str(bar_chart("Sales", DAYS, [Series("Paid", [Decimal("50"), Decimal("100"), Decimal("0")], "#123456")], "EUR"))
    root = etree.fromstring(svg.encode())
    assert root.get("role") == "img" and root.get("aria-labelledby") == "chart-title chart-desc"
    ns = {"s": "http://www.w3.org/2000/svg"}
    bars = root.findall("s:rect", ns)
    heights = [float(b.get("height")) for b in bars]
    plot = HEIGHT - TOP - BOTTOM
    assert heights == [plot / 2, float(plot), 0.0]
    assert [b.find("s:title", ns).text for b in bars] == [
        "2025-03-01 · Paid: 50.00 EUR", "2025-03-02 · Paid: 100.00 EUR", "2025-03-03 · Paid: 0.00 EUR",
    ]
    assert root.find("s:desc", ns).text == "3 days from 2025-03-01 to 2025-03-03. Totals — Paid: 150.00 EUR."


def test_labels_are_escaped_and_amounts_use_the_currencys_decimals() -> None:
    svg = str(bar_chart("<b>", DAYS[:1], [Series("A & B", [Decimal("1500")], "#000")], "JPY"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "A &amp; B: 1500 JPY" in svg
    assert re.search(r">2000</text>", svg)  # the axis top for 1500 yen
