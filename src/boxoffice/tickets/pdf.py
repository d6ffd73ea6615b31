"""The PDF of an order's tickets: one A4 page per valid ticket with everything the door and the
attendee need, and a QR code of the ticket's secret large enough to scan from a phone screen.

Drawn with fpdf2: the QR code as vector rectangles (no image round trip), each line of text with
fpdf2's plain ``text`` unless it needs breaking, and the Unicode font parsed once per process. An
order of two tickets costs about 7 ms of CPU, 10 tickets about 35 ms (``python -m bench.tickets_pdf``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import RenderStyle
from fpdf.fonts import SubsetMap, TTFFont

from boxoffice.kit.money import format_amount
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.tickets import qr

# Text that fits the built-in fonts' WinAnsi encoding (Latin-1 plus the euro sign, dashes, curly
# quotes, Š, Ž, Œ…) is set in Helvetica, which costs nothing to load. An order's text outside it (an
# attendee called Łukasz) needs a Unicode font: Debian's fonts-dejavu-core, present wherever chromium
# is; without it, such characters become "?". Only the order's values and the event's name need it
# (labels and footer are ours, in Helvetica), and they are all bold, so only the bold face is loaded.
UNICODE_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
)
UNICODE_FAMILY = "Ticket"
BUILT_IN_FAMILY = "Helvetica"
BUILT_IN_ENCODING = "windows-1252"
QR_SIZE_MM = 70.0
MARGIN_MM = 20.0


@dataclass(frozen=True)
class TicketPage:
    """What one page shows; built from the order so the renderer needs no session."""

    event_name: str
    when: str
    location: str
    product: str
    attendee: str
    price: str
    order_code: str
    secret: str


def _local(moment: datetime, timezone: str | None) -> datetime:
    try:
        return moment.astimezone(ZoneInfo(timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(ZoneInfo("UTC"))


def event_dates(date_from: datetime | None, date_to: datetime | None, timezone: str | None) -> str:
    """``2026-05-04 18:00 to 23:00 CEST``, ``2026-05-04 18:00 to 2026-05-06 17:00 CEST``, or empty."""
    if date_from is None:
        return ""
    start = _local(date_from, timezone)
    text = start.strftime("%Y-%m-%d %H:%M")
    if date_to is not None:
        end = _local(date_to, timezone)
        text += " to " + end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
    return f"{text} {start.tzname() or ''}".strip()


def pages_of(order: Order, positions: Sequence[OrderPosition]) -> list[TicketPage]:
    event = order.event
    # Events gain date-to and location in v1.1 (the control panel's issue); read them if present.
    when = event_dates(event.date_from, getattr(event, "date_to", None), event.timezone)
    location = str(getattr(event, "location", None) or "")
    return [
        TicketPage(
            event_name=event.name,
            when=when,
            location=location,
            product=p.product.name,
            attendee=p.attendee_name or "",
            price=f"{format_amount(Decimal(p.price), order.currency)} {order.currency}",
            order_code=order.code,
            secret=p.secret,
        )
        for p in positions
    ]


def _built_in(text: str) -> bool:
    try:
        text.encode(BUILT_IN_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


FOOTER = (
    "Show this QR code at the entrance, printed or on your phone; it admits one person once. "
    "Do not share it: whoever shows it first is let in."
)
LABEL_PT, VALUE_PT, TITLE_PT = 9, 14, 22
GREY = 90


@cache
def _footer_lines() -> tuple[str, ...]:
    """FOOTER broken into the lines that fit a page, once per process: the same on every page."""
    measure = FPDF(orientation="P", unit="mm", format="A4")
    measure.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    measure.add_page()
    measure.set_font(BUILT_IN_FAMILY, "", LABEL_PT)
    lines = measure.multi_cell(0, 5, FOOTER, dry_run=True, output="LINES")
    return tuple(lines) if isinstance(lines, list) else (FOOTER,)


@cache
def _parsed_unicode_font() -> TTFFont | None:
    """The Unicode font parsed once per process (some 50 ms), never changed afterwards: documents
    draw with copies of it (:func:`_unicode_font_for`)."""
    path = next((p for p in UNICODE_FONT_CANDIDATES if p.exists()), None)
    if path is None:
        return None
    parser = FPDF()
    parser.add_font(UNICODE_FAMILY, "B", str(path))
    font = parser.fonts[f"{UNICODE_FAMILY.lower()}B"]
    assert isinstance(font, TTFFont)
    font.close()  # what it read is kept; each document opens the file again for its own subset
    return font


def _unicode_font_for(pdf: FPDF) -> bool:
    """Give ``pdf`` its own copy of the parsed Unicode font; False when there is none.

    The copy shares what parsing built and nobody changes (widths read, glyph ids, character map,
    metrics). What a document changes is its own: the glyphs it uses, the font descriptor that
    output numbers, the widths map (it grows on unknown characters) and the fontTools font, which
    output cuts down to the used glyphs (opened lazily: a fraction of a millisecond).
    """
    parsed = _parsed_unicode_font()
    if parsed is None:
        return False
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.ttfont = TTFont(parsed.ttffile, recalcTimestamp=False, lazy=True)
    font.cw = copy.copy(parsed.cw)
    font.desc = copy.copy(parsed.desc)
    font.missing_glyphs = []
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font
    return True


class _TicketPDF(FPDF):
    def __init__(self, *, unicode: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_creator("boxoffice")
        self.core_fonts_encoding = BUILT_IN_ENCODING
        # The Unicode font only when the order has text Helvetica cannot encode, and when it is there.
        self.unicode = unicode and _unicode_font_for(self)
        self.value_family = UNICODE_FAMILY if self.unicode else BUILT_IN_FAMILY

    def text_of(self, value: str) -> str:
        return value if self.unicode else value.encode(BUILT_IN_ENCODING, "replace").decode(BUILT_IN_ENCODING)

    def text_line(self, text: str, height: float) -> None:
        """``text`` on one line of ``height``, placed where ``cell`` places it: fpdf2's ``cell``
        lays out a line of fragments and costs some 80 µs, ``text`` 5 µs."""
        self.text(self.l_margin + self.c_margin, self.y + 0.5 * height + 0.3 * self.font_size, text)
        self.ln(height)

    def paragraph(self, text: str, height: float) -> None:
        """``text`` on as many lines as it needs; breaking it measures every character again, so
        it is left to the text that does not fit on one line."""
        if self.get_string_width(text) <= self.epw - 2 * self.c_margin:
            self.text_line(text, height)
        else:
            self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def field(self, label: str, value: str) -> None:
        if not value:
            return
        self.set_font(BUILT_IN_FAMILY, "", LABEL_PT)
        self.set_text_color(GREY)
        self.text_line(label.upper(), 5)
        self.set_font(self.value_family, "B", VALUE_PT)
        self.set_text_color(0)
        self.paragraph(self.text_of(value), 7)
        self.ln(3)

    def draw_qr(self, secret: str, x: float, y: float) -> None:
        size, blocks = qr.dark_blocks(secret)
        module = QR_SIZE_MM / size
        self.set_fill_color(0)
        for row, column, width, height in blocks:
            self.rect(x + column * module, y + row * module, width * module, height * module, style=RenderStyle.F)


def render_tickets(pages: Sequence[TicketPage]) -> bytes:
    """The PDF with one page per ticket, in the order given."""
    texts = [
        value
        for page in pages
        for value in (page.event_name, page.when, page.location, page.product, page.attendee, page.price)
    ]
    pdf = _TicketPDF(unicode=not all(_built_in(text) for text in texts))
    pdf.set_title(f"Tickets {pages[0].order_code}" if pages else "Tickets")
    for number, ticket in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font(pdf.value_family, "B", TITLE_PT)
        pdf.set_text_color(0)
        pdf.paragraph(pdf.text_of(ticket.event_name), 10)
        pdf.ln(4)
        top = pdf.get_y()
        qr_x = pdf.w - MARGIN_MM - QR_SIZE_MM
        pdf.draw_qr(ticket.secret, qr_x, top)
        pdf.set_right_margin(MARGIN_MM + QR_SIZE_MM + 8)
        pdf.field("Date", ticket.when)
        pdf.field("Location", ticket.location)
        pdf.field("Ticket", ticket.product)
        pdf.field("Attendee", ticket.attendee)
        pdf.field("Price", ticket.price)
        pdf.field("Order", ticket.order_code)
        pdf.set_right_margin(MARGIN_MM)
        pdf.set_y(max(pdf.get_y(), top + QR_SIZE_MM) + 6)
        pdf.set_font(BUILT_IN_FAMILY, "", LABEL_PT)
        pdf.set_text_color(GREY)
        pdf.text_line(f"Ticket {number} of {len(pages)}.", 5)
        for line in _footer_lines():
            pdf.text_line(line, 5)
    return bytes(pdf.output())
