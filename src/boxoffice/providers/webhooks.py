"""What a provider hands the inbox when its callbacks arrive, and what it answers after processing one.

The inbox (:mod:`boxoffice.inbox`) owns the flow: verify → store once → answer → process by id. A
provider only says what a request body contains (:meth:`~boxoffice.providers.base.PaymentProvider.verify_webhook`)
and what one stored event means for our payments and refunds
(:meth:`~boxoffice.providers.base.PaymentProvider.process_webhook_event`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from boxoffice.errors import BadRequest, NotFound


@dataclass(frozen=True)
class IncomingEvent:
    """One verified event from a provider callback.

    ``external_id`` is the provider's own event id: the inbox stores each ``(provider, external_id)``
    once, so a replayed or concurrently duplicated callback has no second effect. ``organizer_id``
    says whose event it is (for the organizer's list); None when the payload does not tell.
    """

    external_id: str
    type: str
    payload: dict[str, Any]
    organizer_id: int | None = None


class WebhookOutcome(StrEnum):
    PROCESSED = "processed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class WebhookResult:
    """What processing one event did; ``order_id`` links it to the order it concerned."""

    outcome: WebhookOutcome
    order_id: int | None = None
    detail: str | None = None

    @classmethod
    def processed(cls, order_id: int | None = None, detail: str | None = None) -> WebhookResult:
        return cls(WebhookOutcome.PROCESSED, order_id, detail)

    @classmethod
    def ignored(cls, detail: str, order_id: int | None = None) -> WebhookResult:
        return cls(WebhookOutcome.IGNORED, order_id, detail)


class WebhookSignatureInvalid(BadRequest):
    """The callback is not signed by the provider (forged, altered, too old): refused, nothing stored."""

    code = "invalid-signature"
    title = "Invalid signature"


class WebhooksNotSupported(NotFound):
    """The provider takes no callbacks."""

    code = "webhooks-not-supported"


class WebhookNotReady(Exception):
    """The event refers to a payment or refund that is not there yet (its transaction has not
    committed): the inbox keeps the event and processes it again later."""
