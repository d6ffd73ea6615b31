"""Canceling orders with their money: the fee kept, the rest given back across the payments.

The order is canceled and its refunds are written in ONE transaction, so no crash can leave a
canceled order without its refunds (or refunds without a canceled order). Automatic refunds are
then handed to their providers, each in its own transaction; a refund still ``created`` after a
crash is simply executed again later (it carries its own id as idempotency key), never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.db import unit_of_work
from boxoffice.errors import Conflict, InvalidValue, PermissionDenied
from boxoffice.kit.clock import now
from boxoffice.kit.money import ZERO, normalize
from boxoffice.kit.writeahead import send_each, write_ahead
from boxoffice.orders.models import Order
from boxoffice.orders.repository import lock_order
from boxoffice.orders.rules import buyer_may_cancel, cancellation_fee
from boxoffice.orders.service import cancel_order
from boxoffice.payments import refunding
from boxoffice.payments.models import Refund
from boxoffice.payments.rules import RefundSource

UnitOfWork = Callable[[], Any]


@dataclass(frozen=True)
class FeeRule:
    """How much of a canceled order the organizer keeps."""

    absolute: Decimal = ZERO
    percent: Decimal = ZERO

    @classmethod
    def parse(cls, absolute: Decimal | None = None, percent: Decimal | None = None) -> FeeRule:
        if absolute is not None and absolute < 0:
            raise InvalidValue("A cancellation fee is zero or more.", pointer="/data/attributes/cancellation-fee")
        if percent is not None and not 0 <= percent <= 100:
            raise InvalidValue(
                "A cancellation fee percentage is between 0 and 100.",
                pointer="/data/attributes/cancellation-fee-percent",
            )
        return cls(absolute or ZERO, percent or ZERO)


@dataclass
class CancellationResult:
    order_id: int
    fee: Decimal
    refund_ids: list[int] = field(default_factory=list)


def fee_of(order: Order, fee_rule: FeeRule) -> Decimal:
    """What the organizer keeps of ``order`` when it is canceled under ``fee_rule``."""
    try:
        return cancellation_fee(
            order.total,
            absolute=normalize(fee_rule.absolute, order.currency),
            percent=fee_rule.percent,
            kept_fees=_kept_payment_fees(order),
            currency=order.currency,
        )
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer="/data/attributes/cancellation-fee") from exc


def _kept_payment_fees(order: Order) -> Decimal:
    settings = order.event.settings or {}
    if settings.get("payment-fee-refundable", True):
        return ZERO
    return sum((f.value for f in order.live_fees if f.fee_type == "payment"), ZERO)


def cancel_and_write_refunds(
    session: Session,
    order_id: int,
    *,
    actor: str,
    fee_rule: FeeRule = FeeRule(),
    refund: bool = True,
    source: RefundSource = RefundSource.ADMIN,
    comment: str | None = None,
) -> CancellationResult:
    """Cancel the order keeping the fee, and write (not yet execute) refunds of what was paid beyond it."""
    order = lock_order(session, order_id)
    if order.status == "canceled":
        raise Conflict(f"Order {order.code} is already canceled.", code="order-canceled")
    fee = fee_of(order, fee_rule)
    order = cancel_order(session, order_id, actor=actor, cancellation_fee=fee, comment=comment)
    result = CancellationResult(order.id, fee)
    owed_back = -order.pending_sum
    if refund and owed_back > 0:
        refunds = refunding.refund_order(
            session, order.id, amount=owed_back, actor=actor, source=source, comment=comment, execute=False
        )
        result.refund_ids = [r.id for r in refunds]
    return result


def execute_refunds(refund_ids: list[int], *, actor: str, uow: UnitOfWork = unit_of_work) -> list[Refund]:
    """Hand each written (committed) refund to its provider, one transaction each (a refusal marks it failed)."""
    return send_each(
        uow, refund_ids, lambda session, refund_id: refunding.execute_refund(session, refund_id, actor=actor)
    )


def cancel(
    order_id: int,
    *,
    actor: str,
    fee_rule: FeeRule = FeeRule(),
    refund: bool = True,
    source: RefundSource = RefundSource.ADMIN,
    comment: str | None = None,
    uow: UnitOfWork = unit_of_work,
) -> tuple[CancellationResult, list[Refund]]:
    """Cancel an order and give its money back (fee kept): write-ahead, then execute."""
    canceled: list[CancellationResult] = []

    def write(session: Session) -> list[int]:
        canceled.append(
            cancel_and_write_refunds(
                session, order_id, actor=actor, fee_rule=fee_rule, refund=refund, source=source, comment=comment
            )
        )
        return canceled[0].refund_ids

    done = write_ahead(uow, write, lambda session, refund_id: refunding.execute_refund(session, refund_id, actor=actor))
    return canceled[0], done


def _setting_datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def buyer_fee_rule(session: Session, order_id: int) -> FeeRule:
    """The fee a buyer pays to cancel, per event setting; 403 when the buyer may not cancel."""
    order = lock_order(session, order_id)
    settings = order.event.settings or {}
    reason = buyer_may_cancel(
        status=order.status,
        net_paid=order.payment_total - order.refund_total,
        allow_unpaid=bool(settings.get("buyer-cancel-unpaid", True)),
        allow_paid=bool(settings.get("buyer-cancel-paid", False)),
        deadline=_setting_datetime(settings.get("buyer-cancel-deadline")),
        now=now(),
    )
    if reason is not None:
        raise PermissionDenied(reason, code="buyer-cancel-not-allowed")
    return FeeRule.parse(
        Decimal(str(settings.get("buyer-cancel-fee-abs", "0"))),
        Decimal(str(settings.get("buyer-cancel-fee-percent", "0"))),
    )


def buyer_cancel(
    order_id: int, *, actor: str, uow: UnitOfWork = unit_of_work
) -> tuple[CancellationResult, list[Refund]]:
    """The buyer cancels their own order within the event's rules (fee per event setting)."""
    canceled: list[CancellationResult] = []

    def write(session: Session) -> list[int]:
        canceled.append(buyer_cancel_and_write_refunds(session, order_id, actor=actor))
        return canceled[0].refund_ids

    done = write_ahead(uow, write, lambda session, refund_id: refunding.execute_refund(session, refund_id, actor=actor))
    return canceled[0], done


def buyer_cancel_and_write_refunds(session: Session, order_id: int, *, actor: str) -> CancellationResult:
    """The buyer's cancellation, first half: within the event's rules, at the event's fee."""
    return cancel_and_write_refunds(
        session,
        order_id,
        actor=actor,
        fee_rule=buyer_fee_rule(session, order_id),
        source=RefundSource.BUYER,
        comment="canceled by the buyer",
    )
