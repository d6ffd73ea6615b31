"""Use cases of statement lines: decide what a line means, book it, or let the organizer assign or
discard it. Each runs in the caller's transaction and moves payments and refunds only through
:mod:`boxoffice.payments.service`.

A line that pays orders confirms, per order, the bank transfer attempt the buyer was asked to pay
(its amount corrected to what arrived), or records a new confirmed payment; money going out
completes the order's open refund of that amount, or is recorded as an external refund. Every
booking adds a ``bank-transaction.matched`` entry to the order's audit log saying which line and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.errors import Conflict, DomainError, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order
from boxoffice.orders.repository import lock_order
from boxoffice.orders.rules import OrderStatus
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import lock_payment, lock_refund, order_id_of_refund
from boxoffice.payments.rules import RefundState
from boxoffice.providers.banktransfer import repository as repo
from boxoffice.providers.banktransfer.matching import (
    Allocation,
    Lookup,
    MatchDecision,
    MatchKind,
    OrderCandidate,
    RefundCandidate,
    match_line,
)
from boxoffice.providers.banktransfer.models import BankTransaction, BankTransactionMatch
from boxoffice.providers.banktransfer.provider import BankTransferProvider
from boxoffice.providers.banktransfer.references import event_prefix
from boxoffice.providers.banktransfer.rules import (
    IDENTIFIER,
    REFUND_ACCOUNT_KEYS,
    TRANSACTION_MOVES,
    TransactionState,
    account_info,
    attempt_to_settle,
    payer_info,
    prefix_of,
    state_of,
)
from boxoffice.providers.banktransfer.sepa import validate_bic, validate_iban
from boxoffice.providers.banktransfer.statement import StatementLine
from boxoffice.providers.registry import provider_for

log = logging.getLogger(__name__)

MATCHED_ACTION = Action.BANK_TRANSACTION_MATCHED


@dataclass(frozen=True)
class Matcher:
    """What deciding lines of one event needs, loaded once per batch of lines."""

    event: Event
    plugin: BankTransferProvider
    # Prefixes of references issued before the event's slug or reference prefix changed.
    older_prefixes: tuple[str, ...]

    @classmethod
    def for_event(cls, session: Session, event: Event) -> Matcher:
        plugin = provider_for(event, IDENTIFIER, session)
        assert isinstance(plugin, BankTransferProvider)
        current = event_prefix(plugin.reference_slug)
        older = sorted({prefix_of(r) for r in repo.references_not_starting_with(session, event.id, current)} - {""})
        return cls(event, plugin, tuple(older))

    @property
    def slug(self) -> str:
        """What new references of the event are made from."""
        return self.plugin.reference_slug

    def lookup(self, session: Session) -> Lookup:
        """Orders of the event by code, as matching sees them (read afresh for every line)."""

        def find(code: str) -> OrderCandidate | None:
            order = repo.order_by_code(session, self.event.id, code)
            if order is None:
                return None
            refunds = tuple(RefundCandidate(rid, amount) for rid, amount in repo.open_bank_refunds(session, order.id))
            return OrderCandidate(
                order_id=order.id,
                code=order.code,
                reference=self.plugin.order_reference(order),
                currency=self.event.currency,
                pending_sum=order.pending_sum,
                open_refunds=refunds,
                status=order.status,
            )

        return find

    def decide(self, session: Session, line: StatementLine) -> MatchDecision:
        """What ``line`` means for the event's orders; references under an earlier prefix count too."""
        lookup = self.lookup(session)
        decision = match_line(line, self.slug, lookup)
        for prefix in self.older_prefixes:
            if decision.kind != MatchKind.NO_MATCH:
                break
            earlier = match_line(line, prefix, lookup)
            if earlier.kind != MatchKind.NO_MATCH:
                decision = earlier
        return decision


def line_of(transaction: BankTransaction) -> StatementLine:
    """A stored statement line as matching reads it."""
    return StatementLine(
        booked_on=transaction.booked_on,
        amount=transaction.amount,
        currency=transaction.currency,
        payer_name=transaction.payer_name,
        payer_iban=transaction.payer_iban,
        payer_bic=transaction.payer_bic,
        remittance=transaction.remittance,
        bank_transaction_id=transaction.bank_transaction_id,
        checksum=transaction.checksum,
    )


def _booked_at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class BookingRefused(Exception):
    """The services refused to book a line (a canceled order takes no new payment, …).

    The caller rolls its transaction back and books the line again with ``refused`` set to
    ``detail``: nothing of the refused booking stays, and the line waits for the organizer. (A
    savepoint would do this in place, but releasing one runs the session's after-commit hooks,
    which must only see real commits.)
    """

    def __init__(self, transaction_id: int, detail: str) -> None:
        super().__init__(detail)
        self.transaction_id = transaction_id
        self.detail = detail


def book(
    session: Session, matcher: Matcher, transaction: BankTransaction, *, actor: str, refused: str | None = None
) -> TransactionState:
    """Decide a freshly stored line and book it; returns the state it ends in.

    Raises :class:`BookingRefused` when the services refuse the booking; booked again with that
    refusal as ``refused``, the line waits for the organizer (``no-match``) and says why.
    """
    decision = matcher.decide(session, line_of(transaction))
    target, reason = state_of(decision.kind), decision.reason
    if target == TransactionState.MATCHED and refused is not None:
        target, reason = TransactionState.NO_MATCH, f"{decision.reason} It could not be booked: {refused}"
    elif target == TransactionState.MATCHED:
        try:
            _book(session, matcher, transaction, decision, actor=actor)
        except DomainError as exc:
            log.info("Bank transaction %s of event %s not booked: %s", transaction.id, matcher.event.id, exc.detail)
            raise BookingRefused(transaction.id, exc.detail) from exc
    TRANSACTION_MOVES.check(transaction.state, target)
    transaction.state = target
    transaction.reason = reason[:2000]
    if target == TransactionState.NO_MATCH and transaction.amount > 0:
        _tell_organizer(session, matcher.event, transaction)
    return target


def _book(
    session: Session, matcher: Matcher, transaction: BankTransaction, decision: MatchDecision, *, actor: str
) -> None:
    for allocation in decision.allocations:
        if decision.kind == MatchKind.PAYMENT:
            payment = _settle(session, matcher, transaction, allocation, actor=actor)
            match = BankTransactionMatch(order_id=allocation.order_id, payment_id=payment.id, amount=allocation.amount)
            booked = {"payment": payment.full_id}
        elif decision.kind == MatchKind.REFUND_DONE and decision.refund_id is not None:
            refund = payments.mark_refund_done(
                session, decision.refund_id, actor=actor, execution_date=_booked_at(transaction.booked_on)
            )
            match = BankTransactionMatch(order_id=allocation.order_id, refund_id=refund.id, amount=allocation.amount)
            booked = {"refund": refund.full_id}
        else:
            refund = _external_refund(session, transaction, allocation, actor=actor)
            match = BankTransactionMatch(order_id=allocation.order_id, refund_id=refund.id, amount=allocation.amount)
            booked = {"refund": refund.full_id}
        transaction.matches.append(match)
        session.flush()
        order = session.get(Order, allocation.order_id)  # locked by the service call above
        assert order is not None
        audit.record(
            session,
            order,
            actor,
            MATCHED_ACTION,
            transaction=transaction.id,
            booked_on=transaction.booked_on,
            amount=allocation.amount,
            reason=decision.reason,
            **booked,
        )


def _settle(
    session: Session, matcher: Matcher, transaction: BankTransaction, allocation: Allocation, *, actor: str
) -> Payment:
    """Confirm the attempt the buyer was asked to pay, or record a new payment, for what arrived."""
    order = lock_order(session, allocation.order_id)
    canceled = order.status == OrderStatus.CANCELED
    attempt = attempt_to_settle(repo.bank_attempts(session, order.id), order_canceled=canceled)
    received = {
        **payer_info(transaction.payer_name, transaction.payer_iban, transaction.payer_bic),
        "bank_transaction": transaction.id,
    }
    if attempt is None:
        payment = payments.start_payment(
            session,
            order.id,
            provider=IDENTIFIER,
            actor=actor,
            amount=allocation.amount,
            info={"reference": matcher.plugin.order_reference(order), **received},
            allow_settled=True,
        )
        payment.provider_reference = payment.info["reference"]
    else:
        payment = lock_payment(session, attempt)
        payment.info = {**payment.info, **received}
    payments.confirm_payment(session, payment.id, actor=actor, amount=allocation.amount)
    return payment


def _external_refund(session: Session, transaction: BankTransaction, allocation: Allocation, *, actor: str) -> Refund:
    # The money went to the account the line names: where a later refund of it would go, too.
    account = account_info(transaction.payer_name, transaction.payer_iban, transaction.payer_bic)
    return payments.create_external_refund(
        session,
        allocation.order_id,
        amount=allocation.amount,
        actor=actor,
        provider=IDENTIFIER,
        comment=f"Money sent from the bank account on {transaction.booked_on.isoformat()} "
        f"(bank transaction #{transaction.id}) without an open refund of that amount.",
        reference=f"bank-transaction:{transaction.id}",
        info={**account, "bank_transaction": transaction.id},
    )


def _tell_organizer(session: Session, event: Event, transaction: BankTransaction) -> None:
    from boxoffice.mail.service import notify_unmatched_transfer

    notify_unmatched_transfer(
        session,
        event.organizer_id,
        transaction_key=str(transaction.id),
        amount=transaction.amount,
        currency=transaction.currency,
        reference=transaction.remittance[:140] or None,
        payer=transaction.payer_name or None,
        booked_on=transaction.booked_on.isoformat(),
    )


def assign(session: Session, transaction_id: int, order_id: int, *, actor: str) -> BankTransaction:
    """Book a waiting statement line on an order chosen by the organizer, as if its remittance had
    named the order's reference: money in becomes a payment of the whole amount, money out
    completes an open refund of that amount or is recorded as an external refund.

    409 when the line is already matched; 422 when the order is of another event or another currency.
    """
    transaction = repo.lock_transaction(session, transaction_id)
    if not TRANSACTION_MOVES.can(transaction.state, TransactionState.MATCHED):
        raise Conflict(
            f"Bank transaction {transaction.id} is {transaction.state}; only waiting lines can be assigned.",
            code="bank-transaction-not-open",
            meta={"state": transaction.state},
        )
    order = session.get(Order, order_id)
    if order is None or order.event_id != transaction.event_id:
        raise NotFound(f"Order {order_id} is not an order of this event.", pointer="/data/relationships/order")
    matcher = Matcher.for_event(session, order.event)
    reference = matcher.plugin.order_reference(order)
    # Matching with the order's reference as the whole remittance gives exactly its decision.
    named = replace(line_of(transaction), remittance=reference)
    decision = match_line(named, prefix_of(reference), matcher.lookup(session))
    if decision.kind not in (MatchKind.PAYMENT, MatchKind.REFUND_DONE, MatchKind.EXTERNAL_REFUND):
        raise InvalidValue(decision.reason, pointer="/data/relationships/order", code="bank-transaction-unassignable")
    decision = replace(decision, reason=f"Assigned to order {order.code} by {actor}. {decision.reason}")
    _book(session, matcher, transaction, decision, actor=actor)
    transaction.state = TransactionState.MATCHED
    transaction.reason = decision.reason[:2000]
    transaction.resolved_by, transaction.resolved_at = actor, now()
    return transaction


def discard(session: Session, transaction_id: int, *, actor: str, comment: str | None = None) -> BankTransaction:
    """The organizer decides a waiting line is nothing for this event (a bank fee, another business).

    Idempotent for a discarded line; 409 for a matched one.
    """
    transaction = repo.lock_transaction(session, transaction_id)
    if transaction.state == TransactionState.DISCARDED:
        return transaction
    if not TRANSACTION_MOVES.can(transaction.state, TransactionState.DISCARDED):
        raise Conflict(
            f"Bank transaction {transaction.id} is {transaction.state}; only waiting lines can be discarded.",
            code="bank-transaction-not-open",
            meta={"state": transaction.state},
        )
    transaction.state = TransactionState.DISCARDED
    why = f": {comment.strip().rstrip('.')}." if comment and comment.strip() else "."
    transaction.reason = f"Discarded by {actor}{why} {transaction.reason}"[:2000]
    transaction.resolved_by, transaction.resolved_at = actor, now()
    return transaction


def set_refund_account(
    session: Session, refund_id: int, *, holder: str, iban: str, bic: str | None = None, actor: str
) -> Refund:
    """Collect the account a bank transfer refund is paid to (the buyer's name and IBAN).

    Only while the refund waits to be exported (``created``); once it is in a transfer file the
    account it goes to is fixed. Errors point at the attribute that is wrong.
    """
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if refund.provider != IDENTIFIER:
        raise Conflict(f"Refund {refund.full_id} is not paid by bank transfer.", code="refund-not-bank-transfer")
    if refund.state != RefundState.CREATED:
        raise Conflict(
            f"Refund {refund.full_id} is {refund.state}; its account can only change before it is exported.",
            code="refund-not-created",
        )
    name = " ".join(holder.split())
    if not name:
        raise InvalidValue("Give the account holder's name.", pointer="/data/attributes/account-holder")
    try:
        checked_iban = validate_iban(iban)
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer="/data/attributes/iban", code="invalid-iban") from exc
    try:
        checked_bic = validate_bic(bic) if bic else ""
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer="/data/attributes/bic", code="invalid-bic") from exc
    kept = {key: value for key, value in refund.info.items() if key not in REFUND_ACCOUNT_KEYS}
    refund.info = {**kept, **account_info(name[:70], checked_iban, checked_bic)}
    # The audit log says that the account changed, never which account it is.
    audit.record(session, order, actor, Action.REFUND_ACCOUNT_SET, refund=refund.full_id, account_ending=checked_iban[-4:])
    return refund


def shred_bank_data(session: Session, event_id: int) -> int:
    """Erase payer names, IBANs, BICs and transfer texts from the event's statement lines and
    imports; amounts, dates, states, reasons and what each line paid stay. Returns the lines changed.

    For the books' shredder; checksums stay, so importing the same statement again still counts nothing twice.
    """
    changed = 0
    for transaction in session.execute(repo.transactions_query(event_id)).scalars():
        if transaction.payer_name or transaction.payer_iban or transaction.payer_bic or transaction.remittance:
            transaction.payer_name = transaction.payer_iban = transaction.payer_bic = transaction.remittance = ""
            changed += 1
    for bank_import in session.execute(repo.imports_query(event_id)).scalars():
        bank_import.content = None
        bank_import.skipped_rows = [{**row, "raw": ""} for row in bank_import.skipped_rows]
    return changed
