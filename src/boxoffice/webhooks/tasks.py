"""The job that makes one delivery attempt: POST the signed document, then log the answer."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from boxoffice import __version__
from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.outbox.tasks import Task
from boxoffice.webhooks.destinations import RefusedDestination, connect_address
from boxoffice.webhooks.models import WebhookDelivery
from boxoffice.webhooks.payloads import body_bytes
from boxoffice.webhooks.rules import SIGNATURE_HEADER, signature_header
from boxoffice.webhooks.service import AttemptResult, record_attempt

# Seconds to wait for an endpoint's answer, and for its connection.
TIMEOUT, CONNECT_TIMEOUT = 10.0, 5.0


def post(url: str, secret: str, payload: dict[str, Any], *, delivery_id: int) -> AttemptResult:
    """POST ``payload`` to ``url`` signed with ``secret``; any answer or failure becomes a result."""
    # Imported here: httpx costs about 5 MB of memory, which a process running no deliveries is spared.
    import httpx

    body = body_bytes(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"boxoffice-webhooks/{__version__}",
        SIGNATURE_HEADER: signature_header(secret, int(now().timestamp()), body),
        "Boxoffice-Event-Id": str(payload["id"]),
        "Boxoffice-Delivery-Id": str(delivery_id),
    }
    started = time.monotonic()
    try:
        target = httpx.URL(url)
        # Connect to the address that was checked, not to whatever the name resolves to next
        # (DNS rebinding); the URL's host still names the site for the Host header and TLS.
        address = connect_address(url)
        headers["Host"] = target.netloc.decode("ascii")
        # Redirects are not followed: the organizer registered this URL, not wherever it points to.
        with httpx.Client(timeout=httpx.Timeout(TIMEOUT, connect=CONNECT_TIMEOUT), follow_redirects=False) as client:
            response = client.post(
                target.copy_with(host=str(address)),
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.host},
            )
    except RefusedDestination as exc:
        return AttemptResult(status=None, error=f"Refused destination: {exc}"[:1000], duration_ms=0)
    except httpx.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptResult(status=None, error=f"{type(exc).__name__}: {exc}"[:1000], duration_ms=elapsed)
    elapsed = int((time.monotonic() - started) * 1000)
    ok = 200 <= response.status_code < 300
    return AttemptResult(
        status=response.status_code,
        error=None if ok else f"HTTP {response.status_code}",
        duration_ms=elapsed,
        excerpt=response.text[:500] or None,
    )


def deliver(params: dict[str, Any]) -> None:
    """Attempt ``params["attempt"]`` of delivery ``params["delivery_id"]``, unless it is settled or
    that attempt was already made. The HTTP call happens outside any transaction."""
    delivery_id, number = int(params["delivery_id"]), int(params["attempt"])
    with unit_of_work() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.state != "pending" or delivery.attempts >= number:
            return
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            delivery.state = "failed"
            delivery.next_attempt_at = None
            delivery.last_error = "the endpoint is disabled"
            return
        url, secret, payload = endpoint.url, endpoint.secret, delivery.payload
    result = post(url, secret, payload, delivery_id=delivery_id)
    with unit_of_work() as session:
        record_attempt(session, delivery_id, number, result)


DELIVER = Task("webhooks.deliver", deliver, lease=timedelta(minutes=2))
