"""What the buyer's order page and the organizer's order detail show of an order, read in one place."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from boxoffice.catalogue.models import Event
from boxoffice.catalogue.service import event_by_slug
from boxoffice.errors import DomainError, NotFound
from boxoffice.kit.money import ZERO
from boxoffice.orders.models import Order, OrderFee, OrderPosition
from boxoffice.orders.rules import order_page_path
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import OPEN_PAYMENT_STATES, OPEN_REFUND_STATES
from boxoffice.providers.base import PaymentProvider
from boxoffice.providers.registry import provider_for


def find_order(session: Session, event: Event, code: str) -> Order:
    """The order ``code`` of ``event`` with its positions, fees, payments and refunds; 404 otherwise."""
    order = session.execute(
        select(Order)
        .where(Order.event_id == event.id, Order.code == code.upper())
        .options(
            selectinload(Order.positions).selectinload(OrderPosition.product),
            selectinload(Order.fees),
            selectinload(Order.payments),
            selectinload(Order.refunds),
        )
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Order {code} does not exist.", parameter="code")
    return order


def buyer_order(session: Session, organizer: str, event: str, code: str, secret: str) -> Order:
    """The order behind a buyer's secret link; 404 (revealing nothing) when the secret is wrong."""
    order = find_order(session, event_by_slug(session, organizer, event), code)
    if not hmac.compare_digest(order.secret.encode(), secret.encode()):
        raise NotFound(f"Order {code} does not exist.", parameter="code")
    return order


def shop_path(event: Event) -> str:
    return f"/e/{event.organizer.slug}/{event.slug}/"


def order_path(order: Order) -> str:
    """The buyer's secret link (path only): ``/e/<organizer>/<event>/order/<code>/<secret>/``."""
    return order_page_path(order)


@dataclass
class AttemptView:
    """A payment or refund with what its provider shows about it."""

    attempt: Payment | Refund
    provider_name: str
    is_open: bool
    render: Markup = field(default_factory=Markup)


@dataclass
class OrderView:
    order: Order
    positions: list[OrderPosition]
    fees: list[OrderFee]
    payments: list[AttemptView] = field(default_factory=list)
    refunds: list[AttemptView] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.order.currency

    @property
    def net_paid(self) -> Decimal:
        return self.order.payment_total - self.order.refund_total

    @property
    def owed_back(self) -> Decimal:
        """Money the organizer holds beyond the total (overpaid, or paid for a canceled order)."""
        return max(-self.order.pending_sum, ZERO)

    @property
    def has_open_payment(self) -> bool:
        return any(p.is_open for p in self.payments)


def _provider(session: Session, order: Order, identifier: str, cache: dict[str, PaymentProvider | None]) -> PaymentProvider | None:
    if identifier not in cache:
        try:
            cache[identifier] = provider_for(order.event, identifier, session)
        except DomainError:  # uninstalled since: the attempt is still shown, without the provider's words
            cache[identifier] = None
    return cache[identifier]


def order_view(session: Session, order: Order, *, organizer: bool) -> OrderView:
    """The order as a page shows it; ``organizer`` picks the providers' organizer renders over the buyer's."""
    cache: dict[str, PaymentProvider | None] = {}
    view = OrderView(order, order.live_positions, order.live_fees)
    for payment in order.payments:
        plugin = _provider(session, order, payment.provider, cache)
        is_open = payment.state in OPEN_PAYMENT_STATES
        if plugin is None:
            render = Markup("")
        elif organizer:
            render = plugin.payment_control_render(payment)
        else:
            render = plugin.payment_pending_render(payment) if payment.state == "pending" else Markup("")
        name = plugin.public_name if plugin else payment.provider
        view.payments.append(AttemptView(payment, name, is_open, render))
    for refund in order.refunds:
        plugin = _provider(session, order, refund.provider, cache)
        render = plugin.refund_control_render(refund) if plugin and organizer else Markup("")
        name = plugin.public_name if plugin else refund.provider
        view.refunds.append(AttemptView(refund, name, refund.state in OPEN_REFUND_STATES, render))
    return view


def fingerprint(order: Order) -> str:
    """What the order page's polling compares: a change of any state means "reload"."""
    attempts = [p.state for p in order.payments] + [r.state for r in order.refunds]
    return "|".join([order.status, order.payment_state, *attempts])
