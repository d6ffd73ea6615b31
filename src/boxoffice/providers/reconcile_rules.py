"""What our attempt does when a provider tells us where its side stands — plain functions, no I/O.

Every source of news about a remote payment or refund (the synchronous answer, a webhook, the
buyer's return, the janitor's question) is first turned into a :class:`~boxoffice.providers.base.RemoteStatus`;
these tables then decide the one move of our attempt, if any. Keeping the decision in one place
makes the webhook and the return route agree, and makes a repeated piece of news a no-op.
"""

from __future__ import annotations

from enum import StrEnum

from boxoffice.payments.rules import PaymentState, RefundState


class PaymentMove(StrEnum):
    CONFIRM = "confirm"
    PENDING = "pending"
    FAIL = "fail"
    CANCEL = "cancel"


class RefundMove(StrEnum):
    DONE = "done"
    TRANSIT = "transit"
    FAIL = "fail"
    CANCEL = "cancel"
    # The provider reports something our table cannot follow (a refund failing after it was done):
    # it is written to the audit log for the organizer instead.
    NOTE = "note"


P, R = PaymentState, RefundState
_OPEN_PAYMENT = frozenset({P.CREATED, P.PENDING})


def payment_move(current: str, remote: str) -> PaymentMove | None:
    """The move of a payment in state ``current`` when the provider says ``remote``.

    ``remote`` is a payment state (``confirmed``, ``pending``, ``failed``, ``canceled``) or
    ``unknown``. Money the provider took is confirmed whatever we thought before (a failed or
    canceled attempt whose money arrived after all); nothing ever un-confirms a payment, because
    money that goes back is a refund.
    """
    if remote == P.CONFIRMED:
        return None if current in (P.CONFIRMED, P.REFUNDED) else PaymentMove.CONFIRM
    if current not in _OPEN_PAYMENT:
        return None
    if remote == P.PENDING:
        return PaymentMove.PENDING if current == P.CREATED else None
    if remote == P.FAILED:
        return PaymentMove.FAIL
    if remote == P.CANCELED:
        return PaymentMove.CANCEL
    return None


def refund_move(current: str, remote: str) -> RefundMove | None:
    """The move of a refund in state ``current`` when the provider says ``remote``.

    ``remote`` is a refund state (``done``, ``transit``, ``failed``, ``canceled``) or ``unknown``.
    An ``external`` refund waits for the organizer's decision, so the provider completing it changes
    nothing; the provider failing or canceling it means the money did not go back after all.
    """
    if remote == R.DONE:
        if current in (R.CREATED, R.TRANSIT):
            return RefundMove.DONE
        return RefundMove.NOTE if current in (R.FAILED, R.CANCELED) else None
    if remote == R.TRANSIT:
        return RefundMove.TRANSIT if current == R.CREATED else None
    if remote in (R.FAILED, R.CANCELED):
        if current in (R.CREATED, R.TRANSIT):
            return RefundMove.FAIL if remote == R.FAILED else RefundMove.CANCEL
        if current == R.EXTERNAL:
            return RefundMove.CANCEL
        return RefundMove.NOTE if current == R.DONE else None
    return None
