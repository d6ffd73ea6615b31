"""What the shop offers and what a buyer chose: products with availability, the cart, amounts per provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from boxoffice.catalogue.models import Event, Product
from boxoffice.catalogue.rules import SCARCE_BELOW, sale_window
from boxoffice.errors import InvalidValue
from boxoffice.kit.clock import now
from boxoffice.kit.money import ZERO
from boxoffice.orders.models import Order
from boxoffice.orders.service import MAX_POSITIONS, LineItem
from boxoffice.providers.base import PaymentProvider, fee_base

QUANTITY_FIELD = "qty-{}"
# The field a redirecting provider sends the buyer back to; the shop fills it with the order page.
RETURN_URL_FIELD = "return-url"


@dataclass(frozen=True)
class Offer:
    """A product in the shop with the seats its tightest quota has left (None: unlimited), and where
    now is against its sale window."""

    product: Product
    available: int | None
    window: str | None = None  # "before" or "after" its sale window

    @property
    def sold_out(self) -> bool:
        return self.available is not None and self.available <= 0

    @property
    def scarce(self) -> bool:
        """Few enough left to say how many ("3 left")."""
        return self.available is not None and 0 < self.available <= SCARCE_BELOW

    @property
    def buyable(self) -> bool:
        return not self.sold_out and self.window is None

    @property
    def max_quantity(self) -> int:
        limit = MAX_POSITIONS if self.available is None else min(self.available, MAX_POSITIONS)
        return min(limit, self.product.max_per_order or limit)


def offers(session: Session, event: Event) -> list[Offer]:
    """The event's active products in shop order, each with its availability."""
    products = session.execute(
        select(Product)
        .where(Product.event_id == event.id, Product.active.is_(True))
        .order_by(Product.position, Product.id)
        .options(selectinload(Product.quotas))
    ).scalars()
    result = []
    moment = now()
    for product in products:
        limits = [q.available for q in product.quotas if q.available is not None]
        window = sale_window(product.available_from, product.available_until, moment)
        result.append(Offer(product, min(limits) if limits else None, window))
    return result


def read_cart(form: Mapping[str, Any], offers: Sequence[Offer]) -> list[LineItem]:
    """The quantities the buyer asked for (empty and zero fields skipped); 422 naming a bad field."""
    items = []
    for offer in offers:
        name = QUANTITY_FIELD.format(offer.product.id)
        raw = str(form.get(name) or "").strip()
        if not raw:
            continue
        if not raw.isdigit():
            raise InvalidValue(f"The quantity of {offer.product.name} must be a whole number.", pointer=name)
        if int(raw) > 0:
            items.append(LineItem(offer.product.id, int(raw)))
    return items


def cart_total(items: Sequence[LineItem], offers: Sequence[Offer]) -> Decimal:
    prices = {o.product.id: o.product.price for o in offers}
    return sum((prices[i.product_id] * i.quantity for i in items), ZERO)


def amount_with(plugin: PaymentProvider, order: Order) -> tuple[Decimal, Decimal]:
    """``(fee, amount)`` the buyer pays now choosing ``plugin``: the chosen method's fee on what is
    left replaces the fee not paid yet (as :func:`boxoffice.payments.checkout.begin_payment` does)."""
    if order.pending_sum <= 0:
        return ZERO, ZERO
    base = fee_base(order)
    fee = plugin.calculate_fee(base)
    return fee, base + fee


@dataclass(frozen=True)
class FormField:
    """One input of a provider's payment form, from its JSON schema."""

    name: str
    label: str
    help: str
    required: bool


def payment_fields(plugin: PaymentProvider) -> list[FormField]:
    """The inputs the buyer fills in for ``plugin`` (its ``payment_form_schema``), minus the return URL."""
    schema = plugin.payment_form_schema
    if not schema:
        return []
    required = set(schema.get("required", ()))
    fields = []
    for name, spec in (schema.get("properties") or {}).items():
        if name == RETURN_URL_FIELD:
            continue
        fields.append(FormField(name, str(spec.get("title") or name), str(spec.get("description") or ""), name in required))
    return fields


def wants_return_url(plugin: PaymentProvider) -> bool:
    schema = plugin.payment_form_schema or {}
    return RETURN_URL_FIELD in (schema.get("properties") or {})
