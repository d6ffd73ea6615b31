"""Jinja2 for the pages: one autoescaping environment, money and time filters, and the render helper."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from boxoffice.config import get_settings
from boxoffice.kit.clock import now
from boxoffice.kit.money import format_amount
from boxoffice.web import flash
from boxoffice.web.csrf import CSRF_FIELD, apply_csrf_cookie, csrf_token

_env = Environment(
    loader=PackageLoader("boxoffice.web", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def money(amount: Decimal | None, currency: str) -> str:
    """``49.00 EUR``; the amount written with the currency's decimals (``1500 JPY``)."""
    if amount is None:
        return ""
    return f"{format_amount(Decimal(amount), currency)} {currency}"


def amount(value: Decimal | None, currency: str) -> str:
    """An amount for an input's value: the currency's decimals, no currency code."""
    return "" if value is None else format_amount(Decimal(value), currency)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime | None, timezone: str | None = None) -> str:
    """A timestamp in the event's time zone, to the minute, with the zone's abbreviation."""
    if moment is None:
        return ""
    local = moment.astimezone(_zone(timezone))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def local_input(moment: datetime | None, timezone: str | None = None) -> str:
    """The value of a ``datetime-local`` input for ``moment`` in the event's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(_zone(timezone)).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, timezone: str | None) -> datetime:
    """A ``datetime-local`` input's value read in the event's time zone (ValueError when malformed)."""
    return datetime.fromisoformat(text.strip()).replace(tzinfo=_zone(timezone))


def has_template(name: str) -> bool:
    """Whether a template exists, e.g. a provider's own payment form ``shop/pay/<provider>.html``."""
    try:
        _env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def qr_svg(secret: str, title: str = "Ticket QR code") -> Markup:
    """A ticket's QR code as inline SVG (zxing-cpp, about 2 MB of memory, is loaded by the first page that shows one)."""
    from boxoffice.tickets import qr

    return Markup(qr.svg(secret, title=title))


_env.filters["money"] = money
_env.filters["amount"] = amount
_env.filters["when"] = when
_env.filters["local_input"] = local_input
_env.globals["CSRF_FIELD"] = CSRF_FIELD
_env.globals["has_template"] = has_template
# The process's configuration (read per render: tests change it between runs).
_env.globals["config"] = get_settings
_env.globals["now"] = now
_env.globals["qr_svg"] = qr_svg


def render(request: Request, template: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render ``template`` for ``request``: CSRF token, the flash message, no caching of private pages."""
    token = csrf_token(request)
    html = _env.get_template(template).render(
        {**context, "request": request, "csrf_token": token, "flash": flash.take(request)}
    )
    response = HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
    apply_csrf_cookie(request, response)
    flash.clear(request, response)
    return response
