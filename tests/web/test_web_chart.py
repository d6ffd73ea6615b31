"""The dashboard's chart: drawn by pygal on the server, labelled for screen readers, exact amounts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from lxml import etree

from boxoffice.web.control.chart import Series, bar_chart, summary

DAYS = [date(2025, 3, 1) + timedelta(days=i) for i in range(3)]
NS = {"s": "http://www.w3.org/2000/svg"}


def test_the_chart_is_an_svg_image_with_an_accessible_label_and_exact_totals() -> None:
    svg = str(bar_chart("Sales", DAYS, [Series("Paid", [Decimal("50"), Decimal("100"), Decimal("0")], "#123456")], "EUR"))
    root = etree.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    assert root.get("aria-label") == "Sales. 3 days from 2025-03-01 to 2025-03-03. Totals — Paid: 150.00 EUR."
    texts = " ".join(root.itertext())
    assert "Mar 01" in texts and "Paid" in texts
    assert "2025-03-02 · Paid: 100.00 EUR" in svg


def test_the_chart_loads_nothing_from_the_network() -> None:
    svg = str(bar_chart("Sales", DAYS, [Series("Paid", [Decimal("1")] * 3, "#000")], "EUR"))
    assert "<script" not in svg.replace('<script type="text/javascript">', "") or "src=" not in svg
    assert 'src="' not in svg and "href=\"http" not in svg


def test_labels_are_escaped_and_amounts_use_the_currencys_decimals() -> None:
    svg = str(bar_chart("<b>", DAYS[:1], [Series("A & B", [Decimal("1500")], "#000")], "JPY"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "A &amp; B: 1500 JPY" in svg
    assert summary([], [], "EUR") == "No days to show."
