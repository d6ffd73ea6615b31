"""The Stripe wire layer: PaymentIntents, Refunds and webhook events, in our own vocabulary.

A thin typed wrapper over the official SDK's ``StripeClient`` (never the global ``stripe.api_key``):
one client per API key, the API version pinned, no automatic network retries (the caller's janitor
decides when to ask again). It answers with small frozen dataclasses, never with SDK objects.

Outcomes. A refusal — card declined, unknown payment method, amount below Stripe's minimum — is a
*result* with ``status='failed'`` and Stripe's message for the buyer. Only what leaves the outcome
unknown or is our own fault raises: :class:`GatewayUnavailable` (network, timeout, Stripe 5xx, rate
limit; the caller leaves the payment pending and asks again later), :class:`IdempotencyConflict`
(same key, different request), :class:`GatewayConfigError` (invalid or restricted API key) and
:class:`GatewayRequestError` (Stripe refused a non-money request, e.g. an unknown intent id).

Idempotency keys come from the caller. Stripe stores the first answer to a key for 24 hours and
replays it — a decline included — so a retry after a decline must use a *new* key: the caller
builds keys from our payment id and attempt number (``payment-<id>-<attempt>``), refund keys from
our refund id. Our ids also travel as ``metadata`` so the janitor can match Stripe's objects back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boxoffice.kit.currencies import exponent

# The SDK (about 10 MB of memory with the HTTP clients it loads) is imported by the functions that
# call it: a process that never calls Stripe, such as a web worker of a shop without Stripe, never loads it.
if TYPE_CHECKING:
    import stripe

# The API version the SDK (stripe 16.x) was generated for; bump both together.
STRIPE_API_VERSION = "2026-10-28.endive"
DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_TIMEOUT = 30.0

# Stripe writes ISK with two (always zero) decimals for backwards compatibility; ISO 4217 says none.
_STRIPE_EXPONENT_OVERRIDES = {"ISK": 2}
# Stripe takes three decimals in these currencies only with the last one 0 (5.120 KWD, never 5.124).
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# ``awaiting_card``: created for Stripe.js, no card confirmed on it yet (Stripe's
# ``requires_payment_method`` without a ``last_payment_error``).
IntentStatus = Literal["succeeded", "requires_action", "processing", "failed", "canceled", "awaiting_card"]
RefundStatus = Literal["succeeded", "pending", "failed", "canceled"]


class StripeGatewayError(Exception):
    """Base of everything this module raises; ``message`` is Stripe's (or ours) for the log."""

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class GatewayUnavailable(StripeGatewayError):
    """The outcome is unknown (network, timeout, 5xx, rate limit): keep the attempt pending."""


class IdempotencyConflict(GatewayUnavailable):
    """The key was already used for a different request; the earlier request's outcome is unknown here."""


class GatewayConfigError(StripeGatewayError):
    """The API key is invalid or lacks a permission: an organizer has to fix the settings."""


class GatewayRequestError(StripeGatewayError):
    """Stripe refused a request that moves no money (unknown id, intent not cancelable, ...)."""


class AmountNotSupported(ValueError):
    """An amount Stripe cannot charge or refund in its currency (a three-decimal amount not ending in 0)."""


class SignatureInvalid(StripeGatewayError):
    """A webhook payload that is not signed with the secret, too old, or not an event at all."""


@dataclass(frozen=True, slots=True)
class IntentResult:
    """Where a PaymentIntent stands. ``intent_id`` is None only when Stripe refused to create one."""

    intent_id: str | None
    status: IntentStatus
    redirect_url: str | None = None
    failure_message: str | None = None
    charge_id: str | None = None
    failure_code: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    # For Stripe.js ``handleNextAction`` when an action has no redirect URL; kept out of logs.
    client_secret: str | None = field(default=None, repr=False)
    # Ours, sent when the intent was created: tells our attempts from anyone else's.
    metadata: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """A Stripe Checkout Session: its hosted page, and the intent once the buyer paid (or tried to)."""

    session_id: str
    status: str  # open, complete, expired
    url: str | None = None
    payment_intent_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """Where a Refund stands. ``refund_id`` is None only when Stripe refused to create one."""

    refund_id: str | None
    status: RefundStatus
    failure_message: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    charge_id: str | None = None
    # Ours when we made the refund; empty for refunds made in the Stripe dashboard.
    metadata: dict[str, str] = field(default_factory=dict, compare=False)
    payment_intent_id: str | None = None


def _stripe_exponent(currency: str) -> int:
    return _STRIPE_EXPONENT_OVERRIDES.get(currency.upper(), exponent(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("49.00")`` EUR → 4900, ``Decimal("1500")`` JPY → 1500; refuses lost precision."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"amount must be a finite Decimal, not {amount!r}")
    if amount < 0:
        raise ValueError(f"amount must not be negative: {amount}")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows")
    minor = int(amount.scaleb(_stripe_exponent(currency)))
    if currency.upper() in THREE_DECIMAL_CURRENCIES and minor % 10:
        raise AmountNotSupported(
            f"Stripe takes {currency.upper()} amounts only in steps of 0.010; "
            f"{amount} {currency.upper()} cannot be paid by card."
        )
    return minor


def supported_amount(amount: Decimal, currency: str) -> bool:
    """Whether Stripe can move ``amount`` in ``currency`` (see :func:`to_minor_units`)."""
    try:
        to_minor_units(amount, currency)
    except ValueError:
        return False
    return True


def from_minor_units(value: int, currency: str) -> Decimal:
    """4900 EUR → ``Decimal("49.00")``, 1500 JPY → ``Decimal("1500")``, 1234 KWD → ``Decimal("1.234")``."""
    places = exponent(currency)
    return Decimal(value).scaleb(-_stripe_exponent(currency)).quantize(Decimal(1).scaleb(-places))


def intent_params(
    amount: Decimal,
    currency: str,
    payment_method: str,
    metadata: Mapping[str, object],
    description: str | None,
    return_url: str | None,
) -> dict[str, Any]:
    """The create-and-confirm parameters: cards only, by PaymentMethod id or confirmation token."""
    params: dict[str, Any] = {
        "amount": to_minor_units(amount, currency),
        "currency": currency.lower(),
        "confirm": True,
        # Mutually exclusive with automatic_payment_methods: this pins the intent to cards.
        # (On this API version the older ``payment_method_types`` is rejected.)
        "allowed_payment_method_types": ["card"],
        "metadata": {str(k): str(v) for k, v in metadata.items()},
    }
    if payment_method.startswith("ctoken_"):
        params["confirmation_token"] = payment_method
    else:
        params["payment_method"] = payment_method
    if description:
        params["description"] = description
    if return_url:
        params["return_url"] = return_url
    return params


class StripeGateway:
    """One Stripe account (one secret key) seen through the operations boxoffice needs."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        import stripe

        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": (api_base or DEFAULT_API_BASE).rstrip("/")},
            stripe_version=STRIPE_API_VERSION,
            max_network_retries=0,
            http_client=http_client or stripe.RequestsClient(timeout=timeout),
        )

    def charge(
        self,
        amount: Decimal,
        currency: str,
        payment_method: str,
        metadata: Mapping[str, object],
        idempotency_key: str,
        return_url: str | None = None,
        description: str | None = None,
    ) -> IntentResult:
        """Create and confirm a PaymentIntent for ``amount`` with a ``pm_…`` or ``ctoken_…`` token."""
        return self._create_intent(intent_params(amount, currency, payment_method, metadata, description, return_url),
                                   idempotency_key)  # fmt: skip

    def create_intent(
        self,
        amount: Decimal,
        currency: str,
        metadata: Mapping[str, object],
        idempotency_key: str,
        description: str | None = None,
    ) -> IntentResult:
        """Create a card PaymentIntent that Stripe.js confirms in the buyer's browser (its ``client_secret``)."""
        params: dict[str, Any] = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "allowed_payment_method_types": ["card"],
            "metadata": {str(k): str(v) for k, v in metadata.items()},
        }
        if description:
            params["description"] = description
        return self._create_intent(params, idempotency_key)

    def _create_intent(self, params: dict[str, Any], idempotency_key: str) -> IntentResult:
        """Create a PaymentIntent; a decline or refusal is a failed result (see the module docstring)."""
        import stripe

        try:
            intent = self._client.v1.payment_intents.create(
                params,  # type: ignore[arg-type]  # a plain dict of the documented parameters
                {"idempotency_key": idempotency_key},
            )
        except (stripe.CardError, stripe.InvalidRequestError) as error:
            return _refused_intent(error)
        except stripe.StripeError as error:
            raise _translate(error) from error
        return _intent_result(intent)

    def create_checkout(
        self,
        amount: Decimal,
        currency: str,
        metadata: Mapping[str, object],
        idempotency_key: str,
        *,
        name: str,
        success_url: str,
        cancel_url: str,
        email: str | None = None,
    ) -> CheckoutResult:
        """A Checkout Session (Stripe's hosted payment page) for ``amount``; its intent carries ``metadata``."""
        import stripe

        plain = {str(k): str(v) for k, v in metadata.items()}
        params: dict[str, Any] = {
            "mode": "payment",
            "payment_method_types": ["card"],
            "line_items": [{
                "quantity": 1,
                "price_data": {"currency": currency.lower(), "unit_amount": to_minor_units(amount, currency),
                               "product_data": {"name": name}},
            }],
            "payment_intent_data": {"metadata": plain, "description": name},
            "metadata": plain,
            "success_url": success_url,
            "cancel_url": cancel_url,
        }  # fmt: skip
        if email:
            params["customer_email"] = email
        try:
            session = self._client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]  # a plain dict of the documented parameters
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            raise GatewayRequestError(_message(error), code=error.code, http_status=error.http_status) from error
        except stripe.StripeError as error:
            raise _translate(error) from error
        return _checkout_result(session)

    def retrieve_checkout(self, session_id: str) -> CheckoutResult:
        """Where a Checkout Session stands (``payment_intent`` appears once the buyer paid or tried)."""
        return _checkout_result(self._call(self._client.v1.checkout.sessions.retrieve, session_id))

    def expire_checkout(self, session_id: str) -> CheckoutResult:
        """Close an open Checkout Session so it can no longer be paid."""
        return _checkout_result(self._call(self._client.v1.checkout.sessions.expire, session_id))

    def retrieve(self, intent_id: str) -> IntentResult:
        """The intent as Stripe has it now (the janitor's question for pending payments)."""
        return _intent_result(self._call(self._client.v1.payment_intents.retrieve, intent_id))

    def cancel(self, intent_id: str) -> IntentResult:
        """Cancel an intent that has not succeeded (e.g. an abandoned 3-D Secure step)."""
        return _intent_result(self._call(self._client.v1.payment_intents.cancel, intent_id))

    def refund(
        self,
        intent_or_charge: str,
        amount: Decimal | None,
        currency: str,
        metadata: Mapping[str, object],
        idempotency_key: str,
    ) -> RefundResult:
        """Refund ``amount`` (None: what is left) of a ``pi_…`` intent or a ``ch_…``/``py_…`` charge."""
        import stripe

        target = "charge" if intent_or_charge.startswith(("ch_", "py_")) else "payment_intent"
        params: dict[str, Any] = {
            target: intent_or_charge,
            "metadata": {str(k): str(v) for k, v in metadata.items()},
        }
        if amount is not None:
            params["amount"] = to_minor_units(amount, currency)
        try:
            refund = self._client.v1.refunds.create(
                params,  # type: ignore[arg-type]  # a plain dict of the documented parameters
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            return RefundResult(refund_id=None, status="failed", failure_message=_message(error))
        except stripe.StripeError as error:
            raise _translate(error) from error
        return _refund_result(refund)

    def retrieve_refund(self, refund_id: str) -> RefundResult:
        """The refund as Stripe has it now (pending refunds settle later, or fail)."""
        return _refund_result(self._call(self._client.v1.refunds.retrieve, refund_id))

    def refunds_of(self, intent_id: str) -> list[RefundResult]:
        """Every refund of a ``pi_…`` intent, ours and those made in the Stripe dashboard.

        ``charge.refunded`` events no longer carry the charge's refunds, so this is how a webhook
        handler learns which refunds a charge has.
        """
        import stripe

        try:
            page = self._client.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
            return [_refund_result(refund) for refund in page.auto_paging_iter()]
        except stripe.InvalidRequestError as error:
            raise GatewayRequestError(_message(error), code=error.code, http_status=error.http_status) from error
        except stripe.StripeError as error:
            raise _translate(error) from error

    def find_intents(self, metadata_key: str, value: str) -> list[IntentResult]:
        """Intents whose ``metadata[metadata_key]`` is ``value`` (Stripe's search; lags up to a minute).

        For an attempt whose create call timed out: Stripe may have made the intent without our
        learning its id.
        """
        import stripe

        if not (metadata_key.replace("_", "").isalnum() and value.replace("-", "").isalnum()):
            raise ValueError("metadata search takes plain keys and values")
        query = f"metadata['{metadata_key}']:'{value}'"
        try:
            found = self._client.v1.payment_intents.search({"query": query, "limit": 100})
        except stripe.InvalidRequestError as error:
            raise GatewayRequestError(_message(error), code=error.code, http_status=error.http_status) from error
        except stripe.StripeError as error:
            raise _translate(error) from error
        return [_intent_result(intent) for intent in found.data]

    @staticmethod
    def verify_event(
        payload: bytes, signature_header: str, secret: str, tolerance: int = 300
    ) -> dict[str, Any]:
        """See :func:`verify_event` (needs no API key; here for convenience)."""
        return verify_event(payload, signature_header, secret, tolerance)

    def _call(self, method: Any, object_id: str) -> Any:
        import stripe

        try:
            return method(object_id)
        except stripe.InvalidRequestError as error:
            raise GatewayRequestError(
                _message(error), code=error.code, http_status=error.http_status
            ) from error
        except stripe.StripeError as error:
            raise _translate(error) from error


def verify_event(payload: bytes, signature_header: str, secret: str, tolerance: int = 300) -> dict[str, Any]:
    """Check the ``Stripe-Signature`` header with the SDK and return the event as a dict."""
    import stripe

    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise SignatureInvalid(str(error) or "invalid signature") from error
    if not isinstance(event, dict) or event.get("object") != "event" or "type" not in event:
        raise SignatureInvalid("the signed payload is not a Stripe event")
    return event


def read_intent(payload: Mapping[str, Any]) -> IntentResult:
    """A PaymentIntent as a webhook event carries it (``data.object``), read like an API answer."""
    return _intent_result(payload)


def read_refund(payload: Mapping[str, Any]) -> RefundResult:
    """A Refund as a webhook event carries it, read like an API answer."""
    return _refund_result(payload)


def _plain(obj: Any) -> Any:
    """SDK objects are not mappings; read them as the plain JSON Stripe sent (webhook payloads already are)."""
    if isinstance(obj, Mapping):
        return obj
    import stripe

    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else None


def _id_of(value: Any) -> str | None:
    """An expandable field: an id string, or the object itself (expanded, or localstripe's way)."""
    if isinstance(value, str):
        return value
    found = _get(value, "id")
    return found if isinstance(found, str) else None


def _metadata(obj: Any) -> dict[str, str]:
    found = _get(obj, "metadata")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def _amount(obj: Any) -> tuple[Decimal | None, str | None]:
    minor, currency = _get(obj, "amount"), _get(obj, "currency")
    if isinstance(minor, int) and isinstance(currency, str):
        return from_minor_units(minor, currency), currency.upper()
    return None, currency.upper() if isinstance(currency, str) else None


_INTENT_STATUSES: dict[str, IntentStatus] = {
    "succeeded": "succeeded",
    "requires_action": "requires_action",
    "processing": "processing",
    "canceled": "canceled",
    # Confirmed and refused: Stripe waits for another payment method, we call the attempt failed.
    "requires_payment_method": "failed",
    # Not reachable with confirm=true and automatic capture; unknown to us, so keep it pending.
    "requires_confirmation": "processing",
    "requires_capture": "processing",
}


def _intent_result(sdk_intent: Any) -> IntentResult:
    intent = _plain(sdk_intent)
    status = _INTENT_STATUSES.get(str(_get(intent, "status")), "processing")
    error = _get(intent, "last_payment_error")
    if status == "failed" and not error:
        status = "awaiting_card"  # waiting for its first card, nothing was refused
    next_action = _get(intent, "next_action")
    redirect = _get(_get(next_action, "redirect_to_url"), "url")
    amount, currency = _amount(intent)
    return IntentResult(
        intent_id=_id_of(intent),
        status=status,
        redirect_url=redirect if status == "requires_action" else None,
        failure_message=_get(error, "message") if status == "failed" else None,
        charge_id=_id_of(_get(intent, "latest_charge")),
        failure_code=(_get(error, "decline_code") or _get(error, "code")) if status == "failed" else None,
        amount=amount,
        currency=currency,
        client_secret=_get(intent, "client_secret"),
        metadata=_metadata(intent),
    )


def _checkout_result(sdk_session: Any) -> CheckoutResult:
    session = _plain(sdk_session)
    return CheckoutResult(
        session_id=str(_get(session, "id")),
        status=str(_get(session, "status") or "open"),
        url=_get(session, "url"),
        payment_intent_id=_id_of(_get(session, "payment_intent")),
    )


def _refused_intent(error: stripe.StripeError) -> IntentResult:
    """A 402 decline or 400 refusal: the attempt failed; Stripe may still name the intent it made."""
    body = _get(error.json_body, "error") or {}
    intent = _get(body, "payment_intent")
    amount, currency = _amount(intent)
    return IntentResult(
        intent_id=_id_of(intent),
        status="failed",
        failure_message=_message(error),
        charge_id=_id_of(_get(body, "charge")),
        failure_code=_get(body, "decline_code") or error.code,
        amount=amount,
        currency=currency,
    )


_REFUND_STATUSES: dict[str, RefundStatus] = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "canceled",
}


def _refund_result(sdk_refund: Any) -> RefundResult:
    refund = _plain(sdk_refund)
    status = _REFUND_STATUSES.get(str(_get(refund, "status")), "pending")
    reason = _get(refund, "failure_reason")
    amount, currency = _amount(refund)
    return RefundResult(
        refund_id=_id_of(refund),
        status=status,
        failure_message=f"Stripe could not refund: {reason}" if status == "failed" and reason else None,
        amount=amount,
        currency=currency,
        charge_id=_id_of(_get(refund, "charge")),
        metadata=_metadata(refund),
        payment_intent_id=_id_of(_get(refund, "payment_intent")),
    )


def _message(error: stripe.StripeError) -> str:
    message = error.user_message
    return message if isinstance(message, str) and message else type(error).__name__


def _translate(error: stripe.StripeError) -> StripeGatewayError:
    """Map an SDK error that is not a refusal onto our exceptions."""
    import stripe

    kind: type[StripeGatewayError]
    if isinstance(error, stripe.IdempotencyError):
        kind = IdempotencyConflict
    elif isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        kind = GatewayConfigError
    else:  # APIConnectionError, APIError (5xx, 409), RateLimitError and anything new: unknown outcome
        kind = GatewayUnavailable
    return kind(_message(error), code=error.code, http_status=error.http_status)
