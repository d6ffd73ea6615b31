"""The payment provider plugin API.

A provider is one class: a small required core (``identifier``, ``verbose_name``,
``execute_payment``) and hooks with safe defaults. It acts on payment and refund *attempts* and moves
them only through :mod:`boxoffice.payments.service`; it never changes an order directly.

Life of a payment, as the core drives it::

    checkout_prepare(order, form)         -> provider data to keep (moves no money)
    service.start_payment(...)            -> Payment(state=created), written before the provider is called
    payment_prepare(payment, form)        -> validate and remember what execute needs
    execute_payment(payment)              -> None (done or pending), a redirect URL, or raise PaymentError
    ... provider callback / janitor       -> service.confirm_payment / fail_payment
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from boxoffice.errors import InvalidValue, PaymentDeclined
from boxoffice.kit.money import ZERO, percentage, round_money

if TYPE_CHECKING:
    from boxoffice.catalogue.models import Event
    from boxoffice.orders.models import Order
    from boxoffice.payments.models import Payment, Refund


def _dasherize(name: str) -> str:
    return name.replace("_", "-")


class ProviderSettings(BaseModel):
    """Settings every provider has, per event. Subclass to add a provider's own fields.

    Stored in ``Event.payment_providers[identifier]`` under dasherized names (``fee-abs``).
    """

    model_config = ConfigDict(alias_generator=_dasherize, populate_by_name=True, extra="forbid")

    enabled: bool = False
    fee_abs: Decimal = Field(default=ZERO, ge=0)
    fee_percent: Decimal = Field(default=ZERO, ge=0, le=100)
    fee_reverse_calc: bool = False
    min_total: Decimal | None = Field(default=None, ge=0)
    max_total: Decimal | None = Field(default=None, ge=0)
    available_from: datetime | None = None
    available_until: datetime | None = None
    restricted_countries: list[str] = Field(default_factory=list)
    public_name: str | None = None

    # Names of fields that are secrets: accepted on write, never shown on read.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("fee_abs", "fee_percent", "min_total", "max_total", mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("use a decimal string, not a float")
        return value

    def public_dict(self) -> dict[str, Any]:
        """The settings as the API shows them (secrets left out, decimals as strings)."""
        data = self.model_dump(by_alias=True, mode="json", exclude={f for f in self.secret_fields})
        return data


@dataclass
class CheckoutContext:
    """What a provider may look at when deciding whether it is offered."""

    now: datetime
    country: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class PaymentError(PaymentDeclined):
    """The provider did not take the money; ``detail`` is shown to the buyer as it is."""


@dataclass(frozen=True)
class RemoteStatus:
    """What the janitor learned from the provider about a stuck attempt."""

    state: str  # a payment or refund state, or "unknown"
    amount: Decimal | None = None
    message: str | None = None


class PaymentProvider:
    """Base class of every payment provider (pretix's ``BasePaymentProvider`` idea)."""

    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    priority: ClassVar[int] = 100
    settings_model: ClassVar[type[ProviderSettings]] = ProviderSettings
    # Only then may a buyer retry or switch method while an attempt of this provider is pending.
    abort_pending_allowed: ClassVar[bool] = False
    # Refunds happen by calling the provider (not by the organizer moving money by hand).
    refunds_automatically: ClassVar[bool] = False
    # Shown in the checkout; the free provider is implicit and never listed.
    public: ClassVar[bool] = True

    def __init__(self, event: Event, settings: ProviderSettings, session: Session | None = None) -> None:
        self.event = event
        self.settings = settings
        self.session = session

    # -- identity -------------------------------------------------------------------------------
    @property
    def public_name(self) -> str:
        return self.settings.public_name or self.verbose_name

    # -- settings -------------------------------------------------------------------------------
    @classmethod
    def validate_settings(
        cls,
        raw: Mapping[str, Any],
        *,
        current: Mapping[str, Any] | None = None,
        pointer: str = "/data/attributes/payment-providers",
    ) -> dict[str, Any]:
        """Validate settings for storage; secrets not sent again keep their stored value."""
        merged = {**(current or {}), **raw}
        try:
            model = cls.settings_model.model_validate(merged)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(p) for p in first["loc"])
            raise InvalidValue(
                f"{cls.identifier}: {first['msg']}", pointer=f"{pointer}/{cls.identifier}/{where}"
            ) from exc
        return model.model_dump(by_alias=True, mode="json")

    # -- checkout -------------------------------------------------------------------------------
    def is_allowed(self, order: Order, context: CheckoutContext) -> bool:
        """Whether this provider is offered for ``order`` (enabled, total range, window, country)."""
        s = self.settings
        if not s.enabled:
            return False
        if s.min_total is not None and order.total < s.min_total:
            return False
        if s.max_total is not None and order.total > s.max_total:
            return False
        if s.available_from is not None and context.now < s.available_from:
            return False
        if s.available_until is not None and context.now > s.available_until:
            return False
        return not (context.country and context.country.upper() in {c.upper() for c in s.restricted_countries})

    @property
    def payment_form_schema(self) -> dict[str, Any] | None:
        """JSON schema of the form the buyer fills in at checkout (None: no form)."""
        return None

    def checkout_prepare(self, order: Order, form_data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate the checkout form; return data to keep on the payment. Moves no money."""
        return {}

    def payment_prepare(self, payment: Payment, form_data: Mapping[str, Any]) -> None:
        """Prepare an attempt whose amount may be less than the order total (partly paid order)."""

    def execute_payment(self, payment: Payment) -> str | None:
        """Try to move the money. Return None (confirmed or left pending) or a URL to redirect the
        buyer to; raise :class:`PaymentError` with a message for the buyer when it is refused."""
        raise NotImplementedError

    def cancel_payment(self, payment: Payment) -> None:
        """Give up a created or pending attempt at the provider (default: nothing to tell it)."""

    # -- rendering ------------------------------------------------------------------------------
    def payment_pending_render(self, payment: Payment) -> Markup:
        """What the buyer sees while the attempt is pending (e.g. bank details)."""
        return Markup("<p>{}</p>").format("Your payment is being processed.")

    def payment_control_render(self, payment: Payment) -> Markup:
        """What the organizer sees about an attempt."""
        rows = "".join(
            f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in self.api_payment_details(payment).items()
        )
        return Markup(f"<dl>{rows}</dl>")

    def refund_control_render(self, refund: Refund) -> Markup:
        return Markup("<p>{}</p>").format(refund.comment or "")

    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        """Provider data the API shows in a payment's ``details`` (nothing secret)."""
        return {}

    # -- refunds --------------------------------------------------------------------------------
    def payment_refund_supported(self, payment: Payment) -> bool:
        return False

    def payment_partial_refund_supported(self, payment: Payment) -> bool:
        return False

    def execute_refund(self, refund: Refund) -> None:
        """Move the money back, then mark the refund done (or transit) through the service layer.
        Raise :class:`PaymentError` when the provider refuses."""
        raise PaymentError("This payment method cannot refund automatically.", code="refund-not-supported")

    # -- money ----------------------------------------------------------------------------------
    def calculate_fee(self, amount: Decimal) -> Decimal:
        """The fee for paying ``amount`` with this provider (absolute + percent).

        With reverse calculation the fee covers itself: the organizer receives ``amount`` after the
        provider takes its percentage of the grand total.
        """
        s, currency = self.settings, self.event.currency
        if s.fee_abs == 0 and s.fee_percent == 0:
            return ZERO
        if s.fee_reverse_calc:
            gross = (amount + s.fee_abs) / (1 - s.fee_percent / 100)
            return round_money(gross - amount, currency)
        return round_money(s.fee_abs + percentage(amount, s.fee_percent, currency), currency)

    def matching_id(self, payment: Payment) -> str | None:
        """The id the organizer finds this payment by in the provider's own books."""
        return payment.provider_reference

    # -- background and privacy -----------------------------------------------------------------
    def fetch_payment_status(self, payment: Payment) -> RemoteStatus:
        """Ask the provider how a stuck attempt stands (janitor)."""
        return RemoteStatus("unknown")

    def fetch_refund_status(self, refund: Refund) -> RemoteStatus:
        return RemoteStatus("unknown")

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        """Erase personal data kept by this provider; amounts, states and dates stay."""
        obj.info = {"_shredded": True}
