"""Render a queued mail from its templates and the current state of what it is about.

Each template exists as ``<name>.txt`` (plain text, with the ``subject`` block) and ``<name>.html``.
A mail whose occasion has passed by the time it is sent (the order was paid before the reminder
went out, the external refund was already settled) renders to None and is skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Organizer
from boxoffice.catalogue.policies import late_payment_policy
from boxoffice.config import get_settings
from boxoffice.errors import DomainError
from boxoffice.kit.clock import now
from boxoffice.kit.money import format_amount
from boxoffice.mail.models import Mail
from boxoffice.orders.models import Order
from boxoffice.payments.lookup import payment_by_full_id, refund_by_full_id
from boxoffice.payments.models import Payment
from boxoffice.payments.repository import order_contents
from boxoffice.payments.rules import OPEN_PAYMENT_STATES, OPEN_REFUND_STATES, PaymentState, RefundState
from boxoffice.providers.base import PaymentProvider
from boxoffice.providers.registry import provider_for
from boxoffice.tickets.service import tickets_pdf


def _money(amount: Decimal | str | None, currency: str) -> str:
    if amount is None:
        return ""
    return f"{format_amount(Decimal(amount), currency)} {currency}"


def _when(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


_env = Environment(
    loader=PackageLoader("boxoffice.mail", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["money"] = _money
_env.filters["when"] = _when


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    # The paid order whose tickets the mail brings; drawn by the sender, outside the transaction
    # that rendered the mail, from the positions and products rendering loaded.
    tickets_of: Order | None = None

    def attachments(self) -> tuple[Attachment, ...]:
        """The files the mail carries: the "order paid" mail brings the tickets."""
        if self.tickets_of is None:
            return ()
        content, filename = tickets_pdf(self.tickets_of)
        return (Attachment(filename, "application/pdf", content),)


@dataclass(frozen=True)
class Instructions:
    """How to finish one pending payment, as its provider renders it."""

    payment: Payment
    html: Markup

    @property
    def text(self) -> str:
        return self.html.striptags()


@dataclass(frozen=True)
class Line:
    name: str
    count: int
    price: Decimal


def order_url(order: Order) -> str:
    """Where the buyer sees (and pays) the order; the secret in the link is the buyer's key."""
    event = order.event
    return f"{get_settings().public_url}/e/{event.organizer.slug}/{event.slug}/order/{order.code}/{order.secret}/"


def _lines(order: Order) -> list[Line]:
    counts = Counter((p.product.name, p.price) for p in order.live_positions)
    lines = [Line(name, count, price) for (name, price), count in counts.items()]
    lines += [Line(fee.description or fee.fee_type, 1, fee.value) for fee in order.live_fees]
    return lines


def _instructions(session: Session, order: Order, payments: list[Payment]) -> list[Instructions]:
    found = []
    for payment in payments:
        try:
            provider = provider_for(order.event, payment.provider, session)
        except DomainError:  # the provider was uninstalled since: nothing to render for it
            continue
        # A provider without its own pending page has nothing to tell by mail.
        if type(provider).payment_pending_render is PaymentProvider.payment_pending_render:
            continue
        found.append(Instructions(payment, provider.payment_pending_render(payment)))
    return found


def _order_context(session: Session, mail: Mail, order: Order) -> dict[str, Any] | None:
    """The template context of a mail about ``order``; None when its occasion has passed."""
    extra: dict[str, Any] = {}
    template, ctx = mail.template, mail.context
    if template == "order-placed":
        open_payments = [p for p in order.payments if p.state in OPEN_PAYMENT_STATES]
        extra["instructions"] = _instructions(session, order, open_payments) if order.status == "pending" else []
    elif template in ("payment-pending", "payment-failed", "order-overpaid", "quota-exceeded"):
        payment = payment_by_full_id(session, order.id, ctx["payment"])
        if payment is None:
            return None
        if template == "payment-pending":
            if payment.state != PaymentState.PENDING or order.status != "pending":
                return None
            extra["instructions"] = _instructions(session, order, [payment])
            if not extra["instructions"]:
                return None
        if template == "payment-failed" and order.status != "pending":
            return None
        extra["payment"] = payment
        extra["policy"] = late_payment_policy(order.event.settings).value
    elif template in ("refund-done", "refund-external"):
        refund = refund_by_full_id(session, order.id, ctx["refund"])
        if refund is None or (template == "refund-external" and refund.state != RefundState.EXTERNAL):
            return None
        extra["refund"] = refund
    elif template == "expiry-reminder":
        if order.status != "pending" or order.expires_at.isoformat() != ctx["expires_at"] or order.expires_at <= now():
            return None
    elif template == "unresolved-attempt":
        if ctx["kind"] == "payment":
            attempt: Any = payment_by_full_id(session, order.id, ctx["full_id"])
            still_open = attempt is not None and attempt.state in OPEN_PAYMENT_STATES
        else:
            attempt = refund_by_full_id(session, order.id, ctx["full_id"])
            still_open = attempt is not None and attempt.state in OPEN_REFUND_STATES
        if not still_open:
            return None
        extra["attempt"] = attempt
    return {
        "order": order,
        "event": order.event,
        "currency": order.currency,
        "lines": _lines(order),
        "order_url": order_url(order),
        **extra,
    }


def render_mail(session: Session, mail: Mail) -> Rendered | None:
    """Subject, text and HTML of ``mail`` as of now, or None when it should no longer be sent."""
    context: dict[str, Any] = {
        "organizer": session.get(Organizer, mail.organizer_id),
        "mail": mail.context,
        "public_url": get_settings().public_url,
    }
    order: Order | None = None
    if mail.order_id is not None:
        order = order_contents(session, mail.order_id)
        order_context = _order_context(session, mail, order) if order is not None else None
        if order_context is None:
            return None
        context = {**context, **order_context}
    text_template = _env.get_template(f"{mail.template}.txt")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(context))).strip()
    return Rendered(
        subject=" ".join(subject.split()),
        text=text_template.render(context),
        html=_env.get_template(f"{mail.template}.html").render(context),
        tickets_of=order if mail.template == "order-paid" and order is not None and order.status == "paid" else None,
    )
