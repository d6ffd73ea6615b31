"""Paying bank transfer refunds: the organizer's bank sends them from a file boxoffice writes.

:func:`export_refunds` puts every refund that waits (``created``) and has an account to go to into
one SEPA credit transfer file (pain.001, EUR only) or CSV, and moves each to ``transit``: it is in a
file now, and must not go into another one. Each transfer carries the refund's id as end-to-end id
and the order's transfer reference in its text, so the statement line of the money leaving completes
the refund (:mod:`.importing`). Should the download get lost, ``batch`` writes the same file again
(same message id, so the bank refuses to execute it twice) without moving anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.repository import lock_order
from boxoffice.payments import service as payments
from boxoffice.payments.models import Refund
from boxoffice.payments.repository import lock_refund
from boxoffice.providers.banktransfer import repository as repo
from boxoffice.providers.banktransfer.provider import BankTransferProvider, BankTransferSettings
from boxoffice.providers.banktransfer.rules import IDENTIFIER, refund_account
from boxoffice.providers.banktransfer.sepa import (
    CreditTransfer,
    DebtorAccount,
    pain001,
    refunds_csv,
    validate_bic,
    validate_iban,
)
from boxoffice.providers.registry import provider_for

FORMATS = {"xml": "application/xml", "csv": "text/csv; charset=utf-8"}
FORMAT_PARAMETER = "format"


@dataclass(frozen=True)
class Unexported:
    """A refund that waits but could not go into the file, and why."""

    refund: str
    reason: str


@dataclass(frozen=True)
class RefundFile:
    """A credit transfer file and what is in it."""

    batch: str
    format: str
    content: bytes
    refunds: list[str]
    missing: list[Unexported] = field(default_factory=list)

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]

    @property
    def filename(self) -> str:
        return f"{self.batch}.{self.format}"


def _plugin(session: Session, event: Event) -> BankTransferProvider:
    plugin = provider_for(event, IDENTIFIER, session)
    assert isinstance(plugin, BankTransferProvider)
    return plugin


def _check_format(fmt: str, event: Event, settings: BankTransferSettings) -> None:
    if fmt not in FORMATS:
        raise InvalidValue(
            f"'{fmt}' is not a refund file format; choose xml (SEPA pain.001) or csv.",
            parameter=FORMAT_PARAMETER,
            code="unknown-format",
        )
    if fmt == "xml":
        if event.currency != "EUR":
            raise InvalidValue(
                f"SEPA credit transfer files are in EUR; this event is in {event.currency}. Export csv instead.",
                parameter=FORMAT_PARAMETER,
                code="not-sepa",
            )
        if not settings.has_account:
            raise Conflict(
                "Set the bank account the refunds are paid from (bank-account-holder and iban of the "
                "bank transfer payment method) first.",
                code="bank-account-missing",
            )


def _transfer(plugin: BankTransferProvider, refund: Refund) -> CreditTransfer:
    """The credit transfer of one refund; InvalidValue saying why when it cannot be made."""
    account = refund_account(refund.info, refund.payment.info if refund.payment else {})
    if account is None:
        raise InvalidValue("no account to pay it to is known; collect the buyer's name and IBAN first")
    reference = plugin.order_reference(refund.order)
    return CreditTransfer(
        end_to_end_id=refund.full_id,
        amount=refund.amount,
        currency=plugin.event.currency,
        creditor_name=account.holder,
        creditor_iban=validate_iban(account.iban),
        creditor_bic=validate_bic(account.bic) if account.bic else None,
        remittance=f"Refund {reference} {refund.full_id}",
    )


def _write(
    fmt: str, settings: BankTransferSettings, transfers: list[CreditTransfer], batch: str, at: datetime, on: date
) -> bytes:
    if fmt == "csv":
        return refunds_csv(transfers)
    debtor = DebtorAccount(settings.bank_account_holder or "", settings.iban or "", settings.bic)
    return pain001(debtor, transfers, message_id=batch, created_at=at, execution_date=on)


def export_refunds(session: Session, event_id: int, *, fmt: str, actor: str) -> RefundFile:
    """Write the file of every waiting bank transfer refund of the event and move those to ``transit``.

    Refunds without a usable account stay ``created`` and are listed in ``missing``. 409
    ``no-refunds-to-export`` when not one refund can go into a file.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", parameter="id")
    plugin = _plugin(session, event)
    settings = plugin.bank
    _check_format(fmt, event, settings)
    exported: list[tuple[Refund, CreditTransfer]] = []
    missing: list[Unexported] = []
    for candidate in repo.refunds_to_export(session, event.id):
        lock_order(session, candidate.order_id)  # lock order: the order row, then its refund
        refund = lock_refund(session, candidate.id)
        if refund.state != "created":  # changed while we were waiting for the lock
            continue
        try:
            exported.append((refund, _transfer(plugin, refund)))
        except InvalidValue as exc:
            missing.append(Unexported(refund.full_id, exc.detail))
    if not exported:
        raise Conflict(
            "There are no bank transfer refunds to pay"
            + (f"; {len(missing)} wait for the buyer's bank account." if missing else "."),
            code="no-refunds-to-export",
            meta={"missing": [{"refund": m.refund, "reason": m.reason} for m in missing]},
        )
    at = now().replace(microsecond=0)
    on = at.date()
    batch = f"BO{event.id}-{at:%Y%m%d%H%M%S}-{exported[0][0].id}"
    content = _write(fmt, settings, [transfer for _, transfer in exported], batch, at, on)
    for refund, _ in exported:
        refund.info = {
            **refund.info,
            "export": {"batch": batch, "format": fmt, "at": at.isoformat(), "on": on.isoformat()},
        }
        payments.set_refund_transit(session, refund.id, actor=actor, reference=batch)
        audit.record(session, refund.order, actor, Action.REFUND_EXPORTED, refund=refund.full_id, batch=batch, format=fmt)
    return RefundFile(batch, fmt, content, [refund.full_id for refund, _ in exported], missing)


def export_again(session: Session, event_id: int, batch: str, *, fmt: str | None = None) -> RefundFile:
    """The file of an earlier export once more (same content, same message id); moves nothing."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", parameter="id")
    refunds = repo.refunds_of_batch(session, event.id, batch)
    if not refunds:
        raise NotFound(f"There is no refund file '{batch}' for this event.", parameter="batch")
    first = refunds[0].info.get("export") or {}
    fmt = fmt or str(first.get("format") or "xml")
    plugin = _plugin(session, event)
    _check_format(fmt, event, plugin.bank)
    transfers = [_transfer(plugin, refund) for refund in refunds]
    at, on = datetime.fromisoformat(first["at"]), date.fromisoformat(first["on"])
    content = _write(fmt, plugin.bank, transfers, batch, at, on)
    return RefundFile(batch, fmt, content, [refund.full_id for refund in refunds])
