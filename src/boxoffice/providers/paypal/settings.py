"""An event's PayPal settings (``client-id``, ``client-secret``, ``webhook-id``) and its API client."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import Field

from boxoffice.config import get_settings
from boxoffice.providers.paypal.client import DEFAULT_TIMEOUT, LIVE_API_BASE, PayPalClient
from boxoffice.providers.settings import ProviderSettings, validate_settings

IDENTIFIER = "paypal"
SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
# Seconds to wait for PayPal; an unanswered call leaves the attempt pending for the janitor.
TIMEOUT = DEFAULT_TIMEOUT


class PayPalSettings(ProviderSettings):
    # The REST app's credentials (developer.paypal.com → Apps & Credentials).
    client_id: str = Field(default="", max_length=255)
    client_secret: str = Field(default="", max_length=255)
    # The id PayPal gave the webhook pointing at /v1/webhooks/paypal; webhooks are verified with it.
    webhook_id: str = Field(default="", max_length=255)
    # True: PayPal's sandbox (test accounts) instead of live money.
    sandbox: bool = False

    secret_fields: ClassVar[frozenset[str]] = frozenset({"client_secret"})


def check_settings(
    raw: Mapping[str, Any], *, current: Mapping[str, Any] | None, currency: str | None, pointer: str
) -> dict[str, Any]:
    """Validate PayPal settings on save. PayPal may be enabled before its credentials are all there,
    as the organizer gathers them; it is only offered to buyers once :func:`complete`."""
    return validate_settings(PayPalSettings, IDENTIFIER, raw, current=current, currency=currency, pointer=pointer)


def complete(settings: PayPalSettings) -> bool:
    """Whether payments can be taken: the app's credentials, and the webhook id without which
    PayPal's callbacks (refunds, reversals, disputes) could not be verified."""
    return bool(settings.client_id.strip() and settings.client_secret.strip() and settings.webhook_id.strip())


def client_for(settings: PayPalSettings) -> PayPalClient:
    """The client of the REST app of ``settings`` (``BOXOFFICE_PAYPAL_API_BASE`` in tests)."""
    base = get_settings().paypal_api_base or (SANDBOX_API_BASE if settings.sandbox else LIVE_API_BASE)
    return _client(settings.client_id, settings.client_secret, base, TIMEOUT)


@lru_cache(maxsize=64)
def _client(client_id: str, client_secret: str, api_base: str, timeout: float) -> PayPalClient:
    # One client per app and process, so its OAuth token is fetched once and reused until it expires.
    return PayPalClient(client_id, client_secret, api_base=api_base, timeout=timeout)
