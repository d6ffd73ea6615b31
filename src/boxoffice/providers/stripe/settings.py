"""An event's Stripe settings (``secret-key``, ``publishable-key``, ``webhook-secret``) and its gateway."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import Field

from boxoffice.config import get_settings
from boxoffice.errors import InvalidValue
from boxoffice.providers.settings import ProviderSettings, validate_settings
from boxoffice.providers.stripe.gateway import DEFAULT_TIMEOUT, StripeGateway

IDENTIFIER = "stripe"
# Seconds to wait for Stripe; an unanswered call leaves the attempt pending for the janitor.
TIMEOUT = DEFAULT_TIMEOUT

_PREFIXES = {
    "secret_key": ("sk_", "rk_"),
    "publishable_key": ("pk_",),
    "webhook_secret": ("whsec_",),
}


class StripeSettings(ProviderSettings):
    # The descriptions are what the settings page shows by each key: where to find it, where it goes.
    secret_key: str = Field(
        default="",
        max_length=255,
        description="Stripe dashboard → Developers → API keys: the secret key (sk_live_…, or sk_test_… to "
        "test) or a restricted key (rk_…) allowed to write PaymentIntents and Refunds. It stays on the "
        "server: boxoffice creates PaymentIntents and refunds with it.",
    )
    publishable_key: str = Field(
        default="",
        max_length=255,
        description="Same page: the publishable key (pk_live_… or pk_test_…, of the same mode as the secret "
        "key). It is not secret: the order page gives it to Stripe.js, which shows the card form.",
    )
    webhook_secret: str = Field(
        default="",
        max_length=255,
        description="Stripe dashboard → Developers → Webhooks: add an endpoint <your boxoffice address>"
        "/v1/webhooks/stripe with the payment_intent.*, charge.refunded, charge.refund.updated and "
        "charge.dispute.* events (and checkout.session.expired for Stripe Checkout), then copy its signing "
        "secret (whsec_…) here.",
    )
    hosted_checkout: bool = Field(
        default=False,
        description="Send buyers to Stripe's own payment page (Stripe Checkout) and back, instead of the "
        "card form on the order page.",
    )

    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret_key", "webhook_secret"})


def check_settings(
    raw: Mapping[str, Any], *, current: Mapping[str, Any] | None, currency: str | None, pointer: str
) -> dict[str, Any]:
    """Validate Stripe settings on save: keys must look like Stripe's (a swapped key is refused).

    Stripe may be enabled before its keys are all there, as the organizer gathers them; it is only
    offered to buyers once :func:`complete` (see ``StripeProvider.is_allowed``).
    """
    stored = validate_settings(StripeSettings, IDENTIFIER, raw, current=current, currency=currency, pointer=pointer)
    settings = StripeSettings.load(stored)
    for name, prefixes in _PREFIXES.items():
        value = getattr(settings, name)
        if value and not value.startswith(prefixes):
            alias = name.replace("_", "-")
            raise InvalidValue(
                f"stripe: {alias} should start with {' or '.join(prefixes)}.",
                pointer=f"{pointer}/{IDENTIFIER}/{alias}",
                code="invalid-setting",
            )
    secret, public = settings.secret_key, settings.publishable_key
    if secret and public and _mode(secret) != _mode(public):
        raise InvalidValue(
            "stripe: the publishable key and the secret key must both be live keys or both be test keys.",
            pointer=f"{pointer}/{IDENTIFIER}/publishable-key",
            code="invalid-setting",
        )
    return stored


def _mode(key: str) -> str:
    """``test`` or ``live`` as Stripe writes it into its keys (``sk_test_…``, ``pk_live_…``)."""
    return "test" if "_test_" in key else "live"


def complete(settings: StripeSettings) -> bool:
    """Whether payments can be taken: the API key, and the webhook secret without which disputes
    and refunds made in the Stripe dashboard would go unseen."""
    return bool(settings.secret_key and settings.webhook_secret)


def gateway_for(settings: StripeSettings) -> StripeGateway:
    """The gateway for the account of ``settings`` (``BOXOFFICE_STRIPE_API_BASE`` in tests)."""
    return _gateway(settings.secret_key, get_settings().stripe_api_base, TIMEOUT)


@lru_cache(maxsize=64)
def _gateway(secret_key: str, api_base: str | None, timeout: float) -> StripeGateway:
    # One client (and its connection pool) per account, kept for the process.
    return StripeGateway(secret_key, api_base=api_base, timeout=timeout)
