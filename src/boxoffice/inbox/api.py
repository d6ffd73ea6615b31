"""``POST /v1/webhooks/{provider}``: provider callbacks, verified by the provider and stored once.

The answer comes as soon as the events are stored (2xx), so providers do not time out and resend;
each new event is queued as an ``inbox.process`` job in the same transaction (outbox), and processed
by id in a transaction of its own once that commits — by the job runner, not the web request.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.inbox.service import Received, receive
from boxoffice.inbox.tasks import PROCESS
from boxoffice.kit.responses import JSONAPIResponse, domain_error_response, error_response, http_error
from boxoffice.outbox.service import enqueue

router = APIRouter(tags=["webhooks"])

# Provider events are small; anything bigger is not one of them.
MAX_BODY_BYTES = 1_000_000


@router.post(
    "/v1/webhooks/{provider}",
    summary="Receive a payment provider's callback",
    description=(
        "The provider's signature is checked (400 and nothing stored when it does not match). "
        "Each event is stored once by its provider event id: a replay answers 200 and changes nothing."
    ),
)
async def receive_webhook(provider: str, request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return error_response([http_error(413, "A provider event is at most 1 MB.")], 413)
    try:
        received = await _store(provider, dict(request.headers), body)
    except DomainError as exc:
        # Rendered here, not by the app's handler, so the answer does not depend on app wiring.
        return domain_error_response(exc)
    new = sum(1 for item in received if item.new)
    return JSONAPIResponse({"meta": {"received": new, "duplicates": len(received) - new}}, status_code=200)


async def _store(provider: str, headers: dict[str, str], body: bytes) -> list[Received]:
    def store() -> list[Received]:
        with unit_of_work() as session:
            received = receive(session, provider, headers, body)
            for item in received:
                if item.new:
                    enqueue(session, PROCESS, {"event_id": item.event_id}, dedupe_key=f"inbox-event:{item.event_id}")
            return received

    # The database work is blocking: off the event loop, like every plain ``def`` endpoint.
    return await run_in_threadpool(store)
