"""The bank transfer provider: the buyer transfers the money with a reference, a statement confirms it.

At checkout the attempt gets the order's transfer reference (see :mod:`.references`) and waits,
pending, while the buyer sees the organizer's bank details. The money is confirmed when a bank
statement is imported (:mod:`.importing`) or when the organizer assigns a statement line by hand.
Refunds are not sent by boxoffice: they wait as ``created`` until the organizer exports them as a
SEPA credit transfer file (:mod:`.refunds`; then ``transit``) and a later statement — or the
organizer — marks them done.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import Field, field_validator

from boxoffice.errors import InvalidValue
from boxoffice.kit.money import format_amount
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import PaymentState
from boxoffice.providers.banktransfer import rules
from boxoffice.providers.banktransfer.references import make_reference
from boxoffice.providers.banktransfer.repository import issued_reference
from boxoffice.providers.banktransfer.sepa import validate_bic, validate_iban
from boxoffice.providers.base import CheckoutContext, PaymentProvider, PaymentResult, ProviderSettings

_PREFIX = re.compile(r"[A-Z0-9]{1,6}")
_templates = Environment(
    loader=PackageLoader("boxoffice.providers.banktransfer", "templates"),
    autoescape=select_autoescape(["html"]),
)


def _checked(check: Any, value: str) -> str:
    try:
        result: str = check(value)
    except InvalidValue as exc:  # pydantic reports ValueErrors; the message is the detail
        raise ValueError(exc.detail.rstrip(".")) from None
    return result


class BankTransferSettings(ProviderSettings):
    """The organizer's account buyers transfer to. Bank transfer is offered to buyers only once the
    holder and the IBAN are set (it may be enabled before, while the organizer gathers them)."""

    bank_account_holder: str | None = Field(default=None, max_length=70)
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = Field(default=None, max_length=200)
    # What references start with (``DEMOCO`` in ``DEMOCO-K7M2QX``); default: from the event's slug.
    reference_prefix: str | None = None

    @field_validator("bank_account_holder", "bank_name", "iban", "bic", "reference_prefix", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        return None if value is None else _checked(validate_iban, value)

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        return None if value is None else _checked(validate_bic, value)

    @field_validator("reference_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _PREFIX.fullmatch(value.upper()):
            raise ValueError("the reference prefix is 1 to 6 letters (A-Z) or digits")
        return value.upper()

    @property
    def has_account(self) -> bool:
        return bool(self.bank_account_holder and self.iban)


class BankTransferProvider(PaymentProvider):
    identifier = rules.IDENTIFIER
    verbose_name = "Bank transfer"
    priority = 30
    settings_model = BankTransferSettings
    # Nothing has moved at a provider while the buyer has not transferred: they may pay another way
    # instead. A transfer that still arrives later is recorded all the same (and shows as overpaid).
    abort_pending_allowed = True

    @property
    def bank(self) -> BankTransferSettings:
        settings = self.settings
        assert isinstance(settings, BankTransferSettings)
        return settings

    @property
    def reference_slug(self) -> str:
        """What new references are made from: the organizer's prefix, else the event's slug."""
        return self.bank.reference_prefix or self.event.slug

    def order_reference(self, order: Order) -> str:
        """The order's transfer reference: the one its first attempt gave the buyer, else a new one.

        Kept on the attempts, so a later change of the slug or prefix never changes what a buyer
        was told to write.
        """
        return issued_reference(self.session, order.id) or make_reference(self.reference_slug, order.code)

    def reference_for(self, payment: Payment) -> str:
        """The reference of an attempt: its own, else its order's."""
        return payment.info.get("reference") or self.order_reference(payment.order)

    # -- checkout ---------------------------------------------------------------------------------
    def is_allowed(self, order: Order, context: CheckoutContext) -> bool:
        # Without an account to transfer to, the buyer could not pay at all.
        return self.bank.has_account and super().is_allowed(order, context)

    def payment_prepare(self, payment: Payment, form_data: Mapping[str, Any]) -> None:
        reference = self.reference_for(payment)
        payment.info = {**payment.info, "reference": reference}
        payment.provider_reference = reference

    def execute_payment(self, payment: Payment) -> PaymentResult:
        reference = self.reference_for(payment)
        if payment.info.get("reference") != reference:
            payment.info = {**payment.info, "reference": reference}
        payment.provider_reference = reference
        return PaymentResult.pending(reference=reference)

    # -- rendering --------------------------------------------------------------------------------
    def payment_pending_render(self, payment: Payment) -> Markup:
        currency = self.event.currency
        return Markup(
            _templates.get_template("pending.html").render(
                amount=format_amount(payment.amount, currency),
                currency=currency,
                reference=self.reference_for(payment),
                holder=self.bank.bank_account_holder or "",
                iban=rules.grouped(self.bank.iban or ""),
                bic=self.bank.bic,
                bank_name=self.bank.bank_name,
            )
        )

    def payment_control_render(self, payment: Payment) -> Markup:
        info = payment.info
        return Markup(
            _templates.get_template("payment.html").render(
                reference=payment.provider_reference or info.get("reference"),
                payer_name=info.get("payer_name"),
                payer_iban=rules.grouped(str(info.get("payer_iban") or "")),
                payer_bic=info.get("payer_bic"),
                transaction=info.get("bank_transaction"),
            )
        )

    def refund_control_render(self, refund: Refund) -> Markup:
        account = rules.refund_account(refund.info, refund.payment.info if refund.payment else {})
        return Markup(
            _templates.get_template("refund.html").render(
                account=account,
                account_iban=rules.grouped(account.iban) if account else "",
                export=refund.info.get("export"),
                comment=refund.comment,
            )
        )

    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        details: dict[str, Any] = {"reference": payment.provider_reference or payment.info.get("reference")}
        if payment.state in (PaymentState.CREATED, PaymentState.PENDING):
            # What the buyer needs to make the transfer (the organizer's account, not the buyer's).
            details.update(
                {
                    "bank-account-holder": self.bank.bank_account_holder,
                    "iban": self.bank.iban,
                    "bic": self.bank.bic,
                    "bank-name": self.bank.bank_name,
                }
            )
        if payment.info.get("bank_transaction") is not None:
            details["bank-transaction"] = str(payment.info["bank_transaction"])
        return details

    # -- privacy ----------------------------------------------------------------------------------
    def matching_id(self, payment: Payment) -> str | None:
        return payment.provider_reference or payment.info.get("reference")

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        """Remove payer and account holder names, IBANs and BICs; references and export batches stay."""
        obj.info = rules.without_personal_data(obj.info)
