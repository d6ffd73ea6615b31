"""The PDF of an order's tickets: one A4 page per valid ticket with everything the door and the
attendee need, and a QR code of the ticket's secret large enough to scan from a phone screen.

Drawn with fpdf2; the QR code is drawn as vector rectangles (no image round trip), so an order of
ten tickets renders in a few tens of milliseconds (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fpdf import FPDF

from boxoffice.kit.money import format_amount
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.tickets import qr

# Text that fits Latin-1 is set in the PDF's built-in Helvetica, which costs nothing to load. Other
# text (an attendee called Łukasz) needs a Unicode font, parsed and subset per document (several
# times slower): Debian's fonts-dejavu-core, present wherever chromium is. Without it, characters
# outside Latin-1 become "?".
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)
BOLD_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
)
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


@cache
def _font_files() -> tuple[Path, Path] | None:
    regular = next((p for p in FONT_CANDIDATES if p.exists()), None)
    bold = next((p for p in BOLD_CANDIDATES if p.exists()), None)
    return (regular, bold) if regular and bold else None


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


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


FOOTER = (
    "Show this QR code at the entrance, printed or on your phone; it admits one person once. "
    "Do not share it: whoever shows it first is let in."
)


class _TicketPDF(FPDF):
    def __init__(self, *, unicode: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_creator("boxoffice")
        fonts = _font_files() if unicode else None
        if fonts is not None:
            self.add_font("Ticket", "", str(fonts[0]))
            self.add_font("Ticket", "B", str(fonts[1]))
            self.family, self.unicode = "Ticket", True
        else:
            self.family, self.unicode = "Helvetica", False

    def text_of(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def field(self, label: str, value: str) -> None:
        if not value:
            return
        self.set_font(self.family, "", 9)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.text_of(label.upper()), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "B", 14)
        self.set_text_color(0, 0, 0)
        text = self.text_of(value)
        # Most values fit on one line; fpdf2's line breaking measures every character again and
        # was a third of a ticket's drawing time, so it is left to the values that need it.
        if self.get_string_width(text) <= self.epw - 2 * self.c_margin:
            self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        else:
            self.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def draw_qr(self, secret: str, x: float, y: float) -> None:
        size, blocks = qr.dark_blocks(secret)
        module = QR_SIZE_MM / size
        self.set_fill_color(0, 0, 0)
        for row, column, width, height in blocks:
            self.rect(x + column * module, y + row * module, width * module, height * module, style="F")


def render_tickets(pages: Sequence[TicketPage]) -> bytes:
    """The PDF with one page per ticket, in the order given."""
    texts = [
        value for page in pages for value in (page.event_name, page.when, page.location, page.product, page.attendee)
    ]
    pdf = _TicketPDF(unicode=not all(_latin1(text) for text in texts))
    pdf.set_title(f"Tickets {pages[0].order_code}" if pages else "Tickets")
    footer: list[str] | None = None
    for number, ticket in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font(pdf.family, "B", 22)
        pdf.multi_cell(0, 10, pdf.text_of(ticket.event_name), new_x="LMARGIN", new_y="NEXT")
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
        pdf.set_font(pdf.family, "", 9)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(0, 5, f"Ticket {number} of {len(pages)}.", new_x="LMARGIN", new_y="NEXT")
        # The same words on every page: broken into lines once per document, not once per ticket.
        if footer is None:
            lines = pdf.multi_cell(0, 5, FOOTER, dry_run=True, output="LINES")
            footer = lines if isinstance(lines, list) else [FOOTER]
        for line in footer:
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
