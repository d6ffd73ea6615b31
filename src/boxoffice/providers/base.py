"""The payment provider plugin API.

A provider is one class: a small required core (``identifier``, ``verbose_name``,
``execute_payment``) and hooks with safe defaults. **Providers report, the core decides**: asked to
move money, a provider returns a :class:`PaymentResult` / :class:`RefundResult` (state, its
reference, the amount it took, where to send the buyer) and the core applies it through
:mod:`boxoffice.payments.service`. A provider moves attempts itself only when its service calls it
back (``process_webhook_event``, return pages), again through that service; it never changes an
order directly. The core drives it (see :mod:`boxoffice.payments.checkout` and
:mod:`boxoffice.payments.refunding`)::

    is_allowed(order, context)             -> offered to this buyer?
    checkout_prepare(order, form_data)     -> data kept on the attempt (validates the form; moves no money)
    service.start_payment(...)             -> Payment(state=created), written before the provider is called
    payment_prepare(payment, form_data)    -> remember what execute needs (moves no money)
    ... the attempt is committed ...
    execute_payment(payment)               -> PaymentResult (confirmed / pending [+ redirect] / failed)
    ... callback: verify_webhook -> inbox -> process_webhook_event -> service.confirm_payment / fail_payment

Everything a plugin author needs is importable from this module. ``docs/providers.md`` is the guide.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from markupsafe import Markup
from sqlalchemy.orm import Session

from boxoffice.errors import InvalidValue, PaymentDeclined
from boxoffice.kit.money import ZERO, percentage, round_money
from boxoffice.providers.settings import ProviderSettings, validate_settings
from boxoffice.providers.webhooks import (
    IncomingEvent,
    WebhookNotReady,
    WebhookOutcome,
    WebhookResult,
    WebhookSignatureInvalid,
    WebhooksNotSupported,
)

if TYPE_CHECKING:
    from boxoffice.catalogue.models import Event
    from boxoffice.inbox.models import ProviderEvent
    from boxoffice.orders.models import Order
    from boxoffice.payments.models import Payment, Refund

__all__ = [
    "REDIRECT_URL",
    "CheckoutContext",
    "IncomingEvent",
    "PaymentError",
    "PaymentFormError",
    "PaymentProvider",
    "PaymentResult",
    "ProviderContractError",
    "ProviderSettings",
    "ProviderUnavailable",
    "RefundResult",
    "RemoteStatus",
    "WebhookNotReady",
    "WebhookOutcome",
    "WebhookResult",
    "WebhookSignatureInvalid",
    "WebhooksNotSupported",
    "amount_before_payment_fee",
    "fee_base",
    "reported",
]


@dataclass
class CheckoutContext:
    """What a provider may look at when deciding whether it is offered."""

    now: datetime
    country: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class PaymentError(PaymentDeclined):
    """The provider did not take (or give back) the money; ``detail`` is shown to the buyer as it is."""


class PaymentFormError(InvalidValue):
    """A field of the checkout form (or of the API document's attributes) is missing or wrong.

    ``field`` is the attribute's name; the error points at ``/data/attributes/<field>``.
    """

    code = "invalid-payment-data"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail, pointer=f"/data/attributes/{field}")
        self.field = field


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered unclearly: whether money moved is unknown.

    The attempt stays pending (never failed-and-charged) until a callback or the janitor settles it.
    """


# Where the core keeps a reported ``redirect_url`` on the attempt (``payment.info``) while it is pending.
REDIRECT_URL = "redirect-url"


@dataclass(frozen=True)
class PaymentResult:
    """What a provider reports from ``execute_payment``; the core applies it to the attempt.

    ``state`` is ``confirmed`` (the money is there), ``pending`` (on its way, or the buyer must
    confirm at ``redirect_url``) or ``failed`` (refused; ``message`` is shown to the buyer).
    ``reference`` is the provider's id of the payment; ``amount`` what it took when that differs
    from the attempt's amount (the books follow the money). Build one with the classmethods.
    """

    state: str
    reference: str | None = None
    amount: Decimal | None = None
    redirect_url: str | None = None
    message: str | None = None

    @classmethod
    def confirmed(cls, *, reference: str | None = None, amount: Decimal | None = None) -> PaymentResult:
        return cls("confirmed", reference=reference, amount=amount)

    @classmethod
    def pending(
        cls, *, reference: str | None = None, redirect_url: str | None = None, message: str | None = None
    ) -> PaymentResult:
        return cls("pending", reference=reference, redirect_url=redirect_url, message=message)

    @classmethod
    def failed(cls, message: str, *, reference: str | None = None) -> PaymentResult:
        return cls("failed", reference=reference, message=message)


@dataclass(frozen=True)
class RefundResult:
    """What a provider reports from ``execute_refund``: ``done`` (the money is back), ``transit`` (on
    its way; a callback or the janitor says when it arrived) or ``failed`` (refused, ``message``)."""

    state: str
    reference: str | None = None
    message: str | None = None

    @classmethod
    def done(cls, *, reference: str | None = None) -> RefundResult:
        return cls("done", reference=reference)

    @classmethod
    def transit(cls, *, reference: str | None = None) -> RefundResult:
        return cls("transit", reference=reference)

    @classmethod
    def failed(cls, message: str, *, reference: str | None = None) -> RefundResult:
        return cls("failed", reference=reference, message=message)


class ProviderContractError(TypeError):
    """A provider broke the plugin API: ``execute_payment`` / ``execute_refund`` returned something
    other than a :class:`PaymentResult` / :class:`RefundResult` with one of its states. A bug in the
    provider, not a decline: the unit of work rolls back, so nothing of that execution is kept."""


# The hook that returns each outcome value, and the states it may report (the core moves the attempt).
_HOOKS: dict[type, tuple[str, frozenset[str]]] = {
    PaymentResult: ("execute_payment", frozenset({"confirmed", "pending", "failed"})),
    RefundResult: ("execute_refund", frozenset({"done", "transit", "failed"})),
}
_Result = TypeVar("_Result", PaymentResult, RefundResult)


def reported(provider: PaymentProvider, value: object, kind: type[_Result]) -> _Result:
    """``value`` — what ``provider`` returned from the hook that reports a ``kind`` — when the core
    can apply it; otherwise :class:`ProviderContractError`, naming the provider, the hook and the value."""
    hook, states = _HOOKS[kind]
    if isinstance(value, kind) and value.state in states:
        return value
    got = f"a {kind.__name__} with state {value.state!r}" if isinstance(value, kind) else repr(value)
    raise ProviderContractError(
        f"Payment provider '{provider.identifier}' returned {got} from {hook}(); it must return a "
        f"{kind.__name__} ({' / '.join(sorted(states))}). See docs/providers.md."
    )


@dataclass(frozen=True)
class RemoteStatus:
    """What the janitor learned from the provider about a stuck attempt."""

    state: str  # a payment or refund state, or "unknown"
    amount: Decimal | None = None
    message: str | None = None


def amount_before_payment_fee(order: Order) -> Decimal:
    """The order total without its payment fees: what a provider's limits are based on."""
    return order.total - sum((f.value for f in order.live_fees if f.fee_type == "payment"), ZERO)


def fee_base(order: Order) -> Decimal:
    """What a provider's fee is computed on when the rest of the order is paid with it: what is
    left to pay without the fee not paid yet (as pretix does). Before any money arrived that is the
    total without the payment fee; after a partial payment, the rest; after a change, the new rest."""
    return max(order.pending_sum - sum((f.value for f in order.open_payment_fees), ZERO), ZERO)


class PaymentProvider(ABC):
    """Base class of every payment provider (pretix's ``BasePaymentProvider`` idea).

    An instance is bound to one event, that event's settings for the provider and the session of
    the unit of work it runs in (``self.session``); it is built by
    :func:`boxoffice.providers.registry.provider_for`.
    """

    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    # Order of the providers offered at checkout: higher first.
    priority: ClassVar[int] = 100
    settings_model: ClassVar[type[ProviderSettings]] = ProviderSettings
    # Only then may a buyer retry or switch method while an attempt of this provider is open.
    abort_pending_allowed: ClassVar[bool] = False
    # Offered to buyers at checkout; the free provider is implicit and never listed.
    public: ClassVar[bool] = True

    def __init__(self, event: Event, settings: ProviderSettings, session: Session) -> None:
        self.event = event
        self.settings = settings
        self.session = session

    # -- identity ---------------------------------------------------------------------------------
    @property
    def public_name(self) -> str:
        """The name buyers see: the organizer's choice, else ``verbose_name``."""
        return self.settings.public_name or self.verbose_name

    @property
    def actor(self) -> str:
        """Who the audit log names when this provider moves an attempt."""
        return f"provider:{self.identifier}"

    # -- settings ---------------------------------------------------------------------------------
    @classmethod
    def validate_settings(
        cls,
        raw: Mapping[str, Any],
        *,
        current: Mapping[str, Any] | None = None,
        currency: str | None = None,
        pointer: str = "/data/attributes/payment-providers",
    ) -> dict[str, Any]:
        """Validate an event's settings for this provider on save; return what to store.

        Secrets left out keep their stored value. Override to check more (call ``super()`` first).
        """
        return validate_settings(
            cls.settings_model, cls.identifier, raw, current=current, currency=currency, pointer=pointer
        )

    # -- checkout ---------------------------------------------------------------------------------
    def is_allowed(self, order: Order, context: CheckoutContext) -> bool:
        """Whether this provider is offered for ``order``: enabled, total range, time window, country."""
        s = self.settings
        if not s.enabled:
            return False
        total = amount_before_payment_fee(order)
        if s.min_total is not None and total < s.min_total:
            return False
        if s.max_total is not None and total > s.max_total:
            return False
        if s.available_from is not None and context.now < s.available_from:
            return False
        if s.available_until is not None and context.now > s.available_until:
            return False
        return not (context.country and context.country.upper() in s.restricted_countries)

    @property
    def payment_form_schema(self) -> dict[str, Any] | None:
        """JSON schema of the fields the buyer fills in at checkout (None: no form).

        A provider that takes a token (card number, PayPal order id, …) names that field after its
        own identifier: the Open Event charge sends ``{"<identifier>": "<token>"}``.
        """
        return None

    def checkout_prepare(self, order: Order, form_data: Mapping[str, Any]) -> dict[str, Any]:
        """Validate the checkout form (raise :class:`PaymentFormError`); return data to keep in the
        attempt's ``info``. Moves no money and runs before the attempt is written."""
        return {}

    def payment_prepare(self, payment: Payment, form_data: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Remember what ``execute_payment`` needs, in the same transaction that writes the attempt.

        ``payment.amount`` may be less than the order total (a partly paid order). Moves no money.
        """

    @abstractmethod
    def execute_payment(self, payment: Payment) -> PaymentResult:
        """Try to move the money; runs after the attempt is committed. Report, do not decide.

        Return a :class:`PaymentResult`: ``confirmed`` when the money is there, ``pending`` when it is
        on its way or the buyer must confirm at ``redirect_url``, ``failed`` when the provider refuses
        (raising :class:`PaymentError` means the same). The core moves the attempt (and the order)
        accordingly. Raise :class:`ProviderUnavailable` when the outcome is unknown. Send the
        payment's ``full_id`` to the provider, and build idempotency keys from it and
        ``payment.attempts``. Never move the attempt here (no ``payments.service`` call): anything but
        a :class:`PaymentResult` makes the core raise :class:`ProviderContractError`.
        """

    def cancel_payment(self, payment: Payment) -> None:  # noqa: B027 - optional hook
        """Give up an open attempt at the provider before the core cancels it (buyer switches method).

        Raise :class:`PaymentError` when the provider cannot cancel it any more (money already moved).
        """

    # -- rendering --------------------------------------------------------------------------------
    def payment_pending_render(self, payment: Payment) -> Markup:
        """What the buyer sees while the attempt is pending (bank details, instructions…)."""
        return Markup("<p>{}</p>").format("Your payment is being processed.")

    def payment_control_render(self, payment: Payment) -> Markup:
        """What the organizer sees about an attempt (default: its API details as a list)."""
        rows = Markup("").join(
            Markup("<dt>{}</dt><dd>{}</dd>").format(k, v) for k, v in self.api_payment_details(payment).items()
        )
        return Markup("<dl>{}</dl>").format(rows)

    def refund_control_render(self, refund: Refund) -> Markup:
        """What the organizer sees about a refund attempt."""
        return Markup("<p>{}</p>").format(refund.comment or "")

    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        """Provider data the API shows in a payment's ``details`` (JSON values, nothing secret)."""
        return {}

    # -- refunds ----------------------------------------------------------------------------------
    def payment_refund_supported(self, payment: Payment) -> bool:
        """Whether this provider gives money of ``payment`` back by itself (``execute_refund``).

        False: refunds are created for the organizer to carry out and mark done (never silently done).
        """
        return False

    def payment_partial_refund_supported(self, payment: Payment) -> bool:
        """Whether ``execute_refund`` can give back less than the whole payment."""
        return False

    def execute_refund(self, refund: Refund) -> RefundResult:
        """Move the money back and report it: a :class:`RefundResult` ``done`` or ``transit`` (the core
        moves the refund), ``failed`` or :class:`PaymentError` when the provider refuses,
        :class:`ProviderUnavailable` when the outcome is unknown. Runs after the refund is committed
        (state ``created``); send ``refund.full_id`` as reference and idempotency key. Never move the
        refund here: anything but a :class:`RefundResult` makes the core raise :class:`ProviderContractError`.
        """
        raise PaymentError("This payment method cannot refund automatically.", code="refund-not-supported")

    # -- money ------------------------------------------------------------------------------------
    def calculate_fee(self, amount: Decimal) -> Decimal:
        """The fee for paying ``amount`` with this provider (absolute + percent, rounded half-up).

        With reverse calculation the fee covers itself: ``amount + fee`` minus the provider's
        percentage of it and its absolute part leaves at least ``amount``.
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

    # -- background and privacy -------------------------------------------------------------------
    def fetch_payment_status(self, payment: Payment) -> RemoteStatus:
        """Ask the provider how a stuck attempt stands (janitor)."""
        return RemoteStatus("unknown")

    def fetch_refund_status(self, refund: Refund) -> RemoteStatus:
        """Ask the provider how a stuck refund stands (janitor)."""
        return RemoteStatus("unknown")

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        """Erase personal data kept by this provider; amounts, states, dates and references stay."""
        obj.info = {"_shredded": True}

    # -- callbacks (the inbox calls these) --------------------------------------------------------
    @classmethod
    def verify_webhook(cls, session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
        """Check a callback's signature and return the events it carries.

        A classmethod: the secret may belong to an event or organizer that only the payload names,
        so look it up (``session`` is for that) and build the event's provider with
        :func:`~boxoffice.providers.registry.provider_for`. ``headers`` are lower-case. Raise
        :class:`WebhookSignatureInvalid` when the body is not signed by the provider — nothing is
        stored then. Moves no money; changes nothing.
        """
        raise WebhooksNotSupported(f"Payment provider '{cls.identifier}' takes no callbacks.")

    @classmethod
    def process_webhook_event(cls, session: Session, event: ProviderEvent) -> WebhookResult:
        """Apply one stored event, moving payments and refunds only through the service layer.

        Runs in its own transaction, possibly again after a failure, so make it idempotent. Raise
        :class:`WebhookNotReady` when the row it refers to is not there yet (retried later); return
        ``WebhookResult.ignored(...)`` for event types this provider does not act on.
        """
        return WebhookResult.ignored(f"'{event.event_type}' is not handled.")
