"""Every action of the order detail. Each is one POST answering 303 back to the order, or the detail
page again with the refusal next to the form (nothing changed). Actions that call a provider run
write-ahead through the services that do so (``give_back``, ``cancel``): the refunds are committed first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, InvalidValue, NotFound
from boxoffice.kit.money import format_amount, parse_amount
from boxoffice.orders import cancellation
from boxoffice.orders import service as orders
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.repository import get_order
from boxoffice.orders.service import LineItem
from boxoffice.payments import janitor, refunding
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import begin_payment
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.base import PaymentError
from boxoffice.providers.registry import provider_for
from boxoffice.web.control.orders import ORDERS, REFUND_PREVIEW, detail_page
from boxoffice.web.control.panel import open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, checked, integer, page, text
from boxoffice.web.orderview import find_order
from boxoffice.web.templating import parse_local

router = APIRouter()


@dataclass(frozen=True)
class Target:
    """The order an action works on, and who acts."""

    order_id: int
    code: str
    currency: str
    timezone: str
    actor: str


@dataclass(frozen=True)
class Done:
    message: str
    # Extra query for the page the action returns to (e.g. the refund proposal to preview).
    query: str = ""


Action = Callable[[Target, FormData], Done]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn

    return register


def _amount(target: Target, form: FormData, name: str = "amount", *, allow_zero: bool = False) -> Decimal:
    return parse_amount(text(form, name), target.currency, pointer=name, allow_zero=allow_zero)


def _payment(session: Session, target: Target, form: FormData) -> Payment:
    payment = session.execute(
        select(Payment).where(Payment.id == integer(form, "payment"), Payment.order_id == target.order_id)
    ).scalar_one_or_none()
    if payment is None:
        raise NotFound("That payment is not one of this order's.", pointer="payment")
    return payment


def _refund(session: Session, target: Target, form: FormData) -> Refund:
    refund = session.execute(
        select(Refund).where(Refund.id == integer(form, "refund"), Refund.order_id == target.order_id)
    ).scalar_one_or_none()
    if refund is None:
        raise NotFound("That refund is not one of this order's.", pointer="refund")
    return refund


def _money(target: Target, amount: Decimal) -> str:
    return f"{format_amount(amount, target.currency)} {target.currency}"


def _listed(target: Target, refunds: list[Refund]) -> str:
    """Refunds returned by a service that committed them (detached: their order is not loaded)."""
    return ", ".join(f"{target.code}-R-{r.local_id} ({r.state})" for r in refunds)


@action("confirm-payment")
def confirm_payment(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        payment = _payment(session, target, form)
        result = payments.confirm_payment(session, payment.id, actor=target.actor)
        return Done(f"Payment {payment.full_id} is confirmed ({result.outcome.value.replace('-', ' ')}).")


@action("cancel-payment")
def cancel_payment(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        payment = _payment(session, target, form)
        plugin = provider_for(payment.order.event, payment.provider, session)
        try:
            plugin.cancel_payment(payment)  # give it up at the provider first, as a buyer's switch does
        except PaymentError as exc:
            raise InvalidValue(f"{plugin.public_name} cannot cancel it any more: {exc.detail}") from exc
        payments.cancel_payment(session, payment.id, actor=target.actor, message="canceled by the organizer")
        return Done(f"Payment {payment.full_id} is canceled.")


@action("record-payment")
def record_payment(target: Target, form: FormData) -> Done:
    """Money the organizer received outside boxoffice (cash, a transfer found by hand)."""
    amount = _amount(target, form)
    with unit_of_work() as session:
        payment = begin_payment(
            session, target.order_id, provider="manual", actor=target.actor, amount=amount, allow_settled=True
        )
        payments.confirm_payment(session, payment.id, actor=target.actor)
        return Done(f"Payment {payment.full_id} of {_money(target, amount)} is recorded.")


@action("mark-paid")
def mark_paid(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        orders.mark_paid(session, target.order_id, actor=target.actor)
    return Done(f"Order {target.code} is marked paid.")


@action("refund")
def refund(target: Target, form: FormData) -> Done:
    amount = _amount(target, form)
    mark_refunded = checked(form, "mark_refunded")
    done = refunding.give_back(
        target.order_id, amount=amount, actor=target.actor, mark_refunded=mark_refunded,
        comment=text(form, "comment") or None,
    )
    return Done(f"Refund of {_money(target, amount)}: {_listed(target, done)}.")


@action("accept-late")
def accept_late(target: Target, form: FormData) -> Done:
    """The late-payment decision: accept the money (taking free seats, or over-booking on purpose)."""
    overbook = checked(form, "overbook")
    with unit_of_work() as session:
        orders.accept_late_payment(session, target.order_id, actor=target.actor, overbook=overbook)
    return Done(f"Order {target.code} is paid{' (over-booked on purpose)' if overbook else ''}.")


@action("refund-late")
def refund_late(target: Target, form: FormData) -> Done:
    """The late-payment decision: give the money back; the order stays expired."""
    with unit_of_work() as session:
        order = get_order(session, target.order_id)
        if order.status != "expired":
            raise InvalidValue(f"Order {target.code} is {order.status}; only a late payment is refunded here.")
        amount = order.payment_total - order.refund_total
    done = refunding.give_back(
        target.order_id, amount=amount, actor=target.actor, comment="Late payment refunded by the organizer's decision."
    )
    return Done(f"Refund of {_money(target, amount)}: {_listed(target, done)}.")


@action("refund-done")
def refund_done(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        found = _refund(session, target, form)
        payments.mark_refund_done(session, found.id, actor=target.actor)
        return Done(f"Refund {found.full_id} is marked done.")


@action("refund-cancel")
def refund_cancel(target: Target, form: FormData) -> Done:
    """Cancel a refund that has not left yet, or reject an external one."""
    with unit_of_work() as session:
        found = _refund(session, target, form)
        rejected = found.state == "external"
        payments.cancel_refund(session, found.id, actor=target.actor, message=text(form, "comment") or None)
        return Done(f"Refund {found.full_id} is {'rejected' if rejected else 'canceled'}.")


@action("refund-process")
def refund_process(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        found = refunding.process_refund(session, _refund(session, target, form).id, actor=target.actor)
        state, full_id = found.state, found.full_id
    return Done(f"Refund {full_id} is {state}.")


@action("refund-accept")
def refund_accept(target: Target, form: FormData) -> Done:
    """Accept an external refund: cancel the order, or send it back to pending for the buyer to pay again."""
    then = text(form, "then")
    if then not in ("cancel", "pending"):
        raise InvalidValue("Choose what happens to the order.", pointer="then")
    raw = text(form, "expires_at")
    expires_at = _deadline(target, raw) if raw and then == "pending" else None
    with unit_of_work() as session:
        found = _refund(session, target, form)
        order = orders.accept_external_refund(session, found.id, actor=target.actor, then=then, expires_at=expires_at)
        return Done(f"External refund {found.full_id} accepted; the order is {order.status}.")


@action("cancel")
def cancel(target: Target, form: FormData) -> Done:
    fee = _amount(target, form, "cancellation_fee", allow_zero=True) if text(form, "cancellation_fee") else Decimal(0)
    result, done = cancellation.cancel(
        target.order_id, actor=target.actor, fee_rule=cancellation.FeeRule.parse(fee),
        refund=checked(form, "refund"), comment=text(form, "comment") or None,
    )
    refunding.raise_if_failed(done)
    refunds = f"; refunds {_listed(target, done)}" if done else ""
    return Done(f"Order {target.code} is canceled (fee {_money(target, result.fee)}){refunds}.")


def _deadline(target: Target, raw: str) -> datetime:
    try:
        return parse_local(raw, target.timezone)
    except ValueError:
        raise InvalidValue(f"'{raw}' is not a date and time.", pointer="expires_at") from None


@action("extend")
def extend(target: Target, form: FormData) -> Done:
    raw = text(form, "expires_at")
    if not raw:
        raise InvalidValue("Give the new deadline.", pointer="expires_at")
    with unit_of_work() as session:
        order = orders.extend_order(session, target.order_id, actor=target.actor, expires_at=_deadline(target, raw))
        return Done(f"Order {target.code} is {order.status} until {raw.replace('T', ' ')}.")


@action("reactivate")
def reactivate(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        orders.reactivate_order(session, target.order_id, actor=target.actor)
    return Done(f"Order {target.code} is pending again.")


def _change(target: Target, form: FormData, session: Session) -> OrderChange:
    order = get_order(session, target.order_id)
    remove = [p.id for p in order.live_positions if checked(form, f"remove-{p.id}")]
    set_price = []
    for position in order.live_positions:
        raw = text(form, f"price-{position.id}")
        if raw and position.id not in remove:
            price = parse_amount(raw, target.currency, pointer=f"price-{position.id}")
            if price != position.price:
                set_price.append((position.id, price))
    add = []
    if text(form, "add_product") and text(form, "add_quantity") not in ("", "0"):
        add.append(LineItem(integer(form, "add_product"), integer(form, "add_quantity")))
    return OrderChange(add=add, remove=remove, set_price=set_price)


@action("change")
def change(target: Target, form: FormData) -> Done:
    with unit_of_work() as session:
        result = change_order(session, target.order_id, _change(target, form, session), actor=target.actor)
        owed_back = -result.order.pending_sum
        message = f"Order {target.code} changed: total {_money(target, result.total_before)} → {_money(target, result.total_after)}."
    if owed_back > 0:
        return Done(message + f" {_money(target, owed_back)} is owed back; the proposed refund is below.",
                    f"?{REFUND_PREVIEW}={format_amount(owed_back, target.currency)}#refund")
    return Done(message)


@action("check")
def check(target: Target, form: FormData) -> Done:
    """Ask the providers now about the order's open attempts (the janitor, on demand)."""
    with unit_of_work() as session:
        checked_now = janitor.check_order(session, target.order_id, target.actor)
    if not checked_now:
        return Done("There is nothing open to check with a provider.")
    return Done("; ".join(f"{c.full_id}: {c.remote} ({c.outcome})" for c in checked_now))


@router.post(ORDERS + "{code}/{name}")
@page
def order_action(request: Request, organizer: str, event: str, code: str, name: str, form: Form) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "orders", admin=True)
        order = find_order(session, panel.event, code)
        target = Target(order.id, order.code, order.currency, panel.event.timezone, panel.principal.actor)
        detail = f"{panel.base}orders/{order.code}/"
    handler = ACTIONS.get(name)
    if handler is None:
        raise NotFound(f"There is no order action '{name}'.")
    try:
        done = handler(target, form)
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "orders")
            return detail_page(request, session, panel, code, error=exc, action=name, status_code=exc.status)
    return redirect(detail + done.query, done.message)
