"""A stateful fake of PayPal's REST API on 127.0.0.1: OAuth, Orders v2, captures, refunds, webhooks.

Same paths, status codes, JSON shapes, HATEOAS ``links`` and error bodies as PayPal, for exactly the
endpoints boxoffice uses. Start it from a fixture::

    @pytest.fixture
    def paypal() -> Iterator[PayPalFake]:
        with PayPalFake().running() as fake:
            yield fake          # fake.base_url, fake.client_id, fake.client_secret, fake.webhook_id

Test controls: :meth:`PayPalFake.approve` (or GET the approve URL like a browser),
``decline_next_capture``, ``pending_next_capture``/``complete_pending``, ``pending_next_refund``/
``complete_pending_refund``, ``fail_next_request``, ``delay_next_request``, ``expire_tokens``,
``fail_signature_verification``, ``verification_calls``, and webhook events in PayPal's envelope with
transmission headers (:meth:`event`, :meth:`signed`, :meth:`deliver`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fakes.servers import serve_asgi

MERCHANT_ID = "FAKEMERCHANT1"
_ZERO_DECIMAL = {"HUF", "JPY", "TWD"}
_VALUE = re.compile(r"^-?\d+(\.\d+)?$")
_ISSUES = {
    "INSTRUMENT_DECLINED": "The instrument presented was either declined by the processor or bank, or it "
    "can't be used for this payment.",
    "PAYER_ACTION_REQUIRED": "Payer needs to perform the following action before proceeding with payment.",
    "TRANSACTION_REFUSED": "The request was refused.",
    "ORDER_NOT_APPROVED": "Payer has not yet approved the Order for payment. Please redirect the payer to "
    "the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or "
    "provide a valid payment_source in the request.",
    "ORDER_ALREADY_CAPTURED": "Order already captured. If 'intent=CAPTURE' only one capture per order is "
    "allowed.",
    "REFUND_AMOUNT_EXCEEDED": "The refund amount must be less than or equal to the capture amount that has "
    "not yet been refunded.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded.",
    "PENDING_CAPTURE": "Cannot initiate a refund as the capture is pending.",
    "REFUND_NOT_ALLOWED": "Refund cannot be processed for this capture.",
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture.",
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision is "
    "supported.",
}
_SUMMARIES = {
    "PAYMENT.CAPTURE.COMPLETED": "Payment completed for {amount}",
    "PAYMENT.CAPTURE.PENDING": "Payment pending for {amount}",
    "PAYMENT.CAPTURE.DECLINED": "A payment capture for {amount} was declined.",
    "PAYMENT.CAPTURE.REFUNDED": "A {amount} capture payment was refunded",
    "PAYMENT.CAPTURE.REVERSED": "A {amount} capture payment was reversed",
    "CUSTOMER.DISPUTE.CREATED": "A new dispute opened with Case # {id}",
    "CUSTOMER.DISPUTE.RESOLVED": "A dispute was resolved with case # {id}",
    "CUSTOMER.DISPUTE.UPDATED": "A dispute was updated with case # {id}",
}


class PayPalFailure(Exception):
    """An error answer in PayPal's shape, raised inside handlers."""

    def __init__(self, status: int, name: str, message: str, issue: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.status, self.name, self.message, self.issue, self.detail = status, name, message, issue, detail


def _pid(length: int = 17) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value: Decimal, currency: str) -> dict[str, str]:
    places = 0 if currency in _ZERO_DECIMAL else 2
    return {"currency_code": currency, "value": f"{value.quantize(Decimal(1).scaleb(-places)):f}"}


def _unprocessable(issue: str) -> PayPalFailure:
    return PayPalFailure(
        422, "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
        issue,
    )  # fmt: skip


def _invalid(issue: str, field: str, description: str) -> PayPalFailure:
    return PayPalFailure(
        400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
        issue, field=field, description=description, location="body",
    )  # fmt: skip


def _not_found(field: str, value: str) -> PayPalFailure:
    return PayPalFailure(
        404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID",
        field=field, value=value, location="path",
        description="Specified resource ID does not exist. Please check the resource ID and try again.",
    )  # fmt: skip


class PayPalFake:
    """The fake's state and controls; ``running()`` serves it over HTTP."""

    def __init__(
        self, client_id: str = "fake-client-id", client_secret: str = "fake-client-secret",
        webhook_id: str = "WH-FAKE-0001",
    ) -> None:  # fmt: skip
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.base_url = ""
        self.token_ttl = 32400
        self.token_requests = 0
        self.fail_signature_verification = False
        self.verification_calls: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, PayPal-Request-Id
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.disputes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, float] = {}
        self._replies: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._capture_modes: list[tuple[str, str | None]] = []
        self._refund_modes: list[str] = []
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._transmissions: dict[str, dict[str, Any]] = {}
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self.app = Starlette(routes=self._routes())

    @contextmanager
    def running(self) -> Iterator[PayPalFake]:
        with serve_asgi(self.app) as url:
            self.base_url = url
            yield self

    # --- controls -------------------------------------------------------------------------------

    def approve(self, order_id: str, payer_id: str | None = None) -> None:
        """The buyer approves the order on PayPal's site."""
        with self._lock:
            order = self.orders[order_id]
            if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
                raise RuntimeError(f"order {order_id} is {order['status']}")
            payer = payer_id or _pid(13)
            name = {"given_name": "Pat", "surname": "Buyer"}
            email = f"buyer-{payer.lower()}@example.com"
            order["payer"] = {"name": name, "email_address": email, "payer_id": payer,
                              "address": {"country_code": "DE"}}  # fmt: skip
            order["payment_source"] = {"paypal": {"email_address": email, "account_id": payer,
                                                  "account_status": "VERIFIED", "name": name,
                                                  "address": {"country_code": "DE"}}}  # fmt: skip
            order["status"] = "APPROVED"
            order["update_time"] = _now()

    def decline_next_capture(self, issue: str | None = "INSTRUMENT_DECLINED") -> None:
        """Next capture fails: 422 with ``issue``, or (``issue=None``) 201 with a DECLINED capture."""
        with self._lock:
            self._capture_modes.append(("DECLINED", issue))

    def pending_next_capture(self, reason: str = "PENDING_REVIEW") -> None:
        """Next capture is created PENDING (order COMPLETED) with ``status_details.reason``."""
        with self._lock:
            self._capture_modes.append(("PENDING", reason))

    def complete_pending(self, capture_id: str, status: str = "COMPLETED") -> None:
        """A PENDING capture settles (COMPLETED or DECLINED), as PayPal does later."""
        with self._lock:
            capture = self.captures[capture_id]
            capture["status"] = status
            capture.pop("status_details", None)
            capture["update_time"] = _now()

    def pending_next_refund(self, reason: str = "ECHECK") -> None:
        with self._lock:
            self._refund_modes.append(reason)

    def complete_pending_refund(self, refund_id: str, status: str = "COMPLETED") -> None:
        with self._lock:
            refund = self.refunds[refund_id]
            refund["status"] = status
            refund.pop("status_details", None)
            refund["update_time"] = _now()
            self._settle_capture(refund["_capture_id"])

    def fail_next_request(self, status: int = 503) -> None:
        """The next API request (not the token one) answers ``status`` with PayPal's error body."""
        with self._lock:
            self._failures.append(status)

    def delay_next_request(self, seconds: float) -> None:
        with self._lock:
            self._delays.append(seconds)

    def expire_tokens(self) -> None:
        """Every issued access token stops working (the client must fetch a new one)."""
        with self._lock:
            self._tokens.clear()

    def reverse_capture(self, capture_id: str, amount: Decimal | None = None) -> str:
        """PayPal takes money back (e.g. a chargeback); returns the reversal's refund id."""
        with self._lock:
            capture = self.captures[capture_id]
            currency = capture["amount"]["currency_code"]
            value = amount if amount is not None else self._refundable(capture_id)
            return self._new_refund(capture_id, value, currency, note="Payment reversed", pending=None)

    def open_dispute(
        self, capture_id: str, amount: Decimal | None = None, reason: str = "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"
    ) -> str:
        with self._lock:
            capture = self.captures[capture_id]
            currency = capture["amount"]["currency_code"]
            value = amount if amount is not None else Decimal(capture["amount"]["value"])
            dispute_id = f"PP-D-{secrets.randbelow(10**6):06d}"
            now = _now()
            self.disputes[dispute_id] = {
                "dispute_id": dispute_id, "create_time": now, "update_time": now,
                "disputed_transactions": [{"seller_transaction_id": capture_id,
                                           "seller": {"merchant_id": MERCHANT_ID}, "items": [],
                                           "seller_protection_eligible": True}],
                "reason": reason, "status": "OPEN", "dispute_amount": _money(value, currency),
                "dispute_life_cycle_stage": "CHARGEBACK", "dispute_channel": "INTERNAL", "messages": [],
                "links": [{"href": f"{self.base_url}/v1/customer/disputes/{dispute_id}", "rel": "self",
                           "method": "GET"}],
            }  # fmt: skip
            return dispute_id

    def resolve_dispute(self, dispute_id: str, outcome: str = "RESOLVED_BUYER_FAVOUR") -> None:
        """``RESOLVED_BUYER_FAVOUR`` (money gone) or ``RESOLVED_SELLER_FAVOUR`` (money stays)."""
        with self._lock:
            dispute = self.disputes[dispute_id]
            dispute["status"] = "RESOLVED"
            dispute["update_time"] = _now()
            refunded = dispute["dispute_amount"] if outcome == "RESOLVED_BUYER_FAVOUR" else None
            dispute["dispute_outcome"] = {"outcome_code": outcome}
            if refunded:
                dispute["dispute_outcome"]["amount_refunded"] = dict(refunded)

    # --- webhooks -------------------------------------------------------------------------------

    def event(self, event_type: str, object_id: str) -> dict[str, Any]:
        """A webhook event in PayPal's envelope around the current state of a capture/refund/dispute.

        ``PAYMENT.CAPTURE.COMPLETED|PENDING|DECLINED`` take a capture id, ``PAYMENT.CAPTURE.REFUNDED|
        REVERSED`` a refund id, ``CUSTOMER.DISPUTE.CREATED|UPDATED|RESOLVED`` a dispute id.
        """
        with self._lock:
            if event_type.startswith("CUSTOMER.DISPUTE."):
                resource, kind, version = dict(self.disputes[object_id]), "dispute", "1.0"
                label = object_id
            elif event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
                resource, kind, version = self._public(self.refunds[object_id]), "refund", "2.0"
                label = _label(resource["amount"])
            else:
                resource, kind, version = self._capture_view(object_id), "capture", "2.0"
                label = _label(resource["amount"])
        event_id = f"WH-{_pid()}-{_pid()}"
        return {
            "id": event_id, "event_version": "1.0", "create_time": _now(), "resource_type": kind,
            "resource_version": version, "event_type": event_type,
            "summary": _SUMMARIES.get(event_type, event_type).format(amount=label, id=label),
            "resource": resource,
            "links": [
                {"href": f"{self.base_url}/v1/notifications/webhooks-events/{event_id}", "rel": "self",
                 "method": "GET"},
                {"href": f"{self.base_url}/v1/notifications/webhooks-events/{event_id}/resend",
                 "rel": "resend", "method": "POST"},
            ],
        }  # fmt: skip

    def signed(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body bytes and the ``PAYPAL-*`` transmission headers PayPal would send with them."""
        body = json.dumps(event).encode()
        transmission_id = str(uuid.uuid4())
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        message = f"{transmission_id}|{when}|{self.webhook_id}|{zlib.crc32(body)}".encode()
        signature = base64.b64encode(hmac.new(self._signing_key, message, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.base_url}/v1/notifications/certs/CERT-FAKE-0001",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-TRANSMISSION-TIME": when,
        }
        with self._lock:
            self._transmissions[transmission_id] = {"body": body, "headers": headers}
        return body, headers

    def deliver(self, url: str, event: dict[str, Any]) -> httpx.Response:
        """POST the signed event to ``url`` (the app's ``/v1/webhooks/paypal``), as PayPal does."""
        body, headers = self.signed(event)
        return httpx.post(url, content=body, headers=headers)

    # --- HTTP -----------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route("/v1/oauth2/token", self._token, methods=["POST"]),
            Route("/v2/checkout/orders", self._api(self._create_order), methods=["POST"]),
            Route("/v2/checkout/orders/{id}", self._api(self._get_order), methods=["GET"]),
            Route("/v2/checkout/orders/{id}/capture", self._api(self._capture_order), methods=["POST"]),
            Route("/v2/payments/captures/{id}", self._api(self._get_capture), methods=["GET"]),
            Route("/v2/payments/captures/{id}/refund", self._api(self._refund_capture), methods=["POST"]),
            Route("/v2/payments/refunds/{id}", self._api(self._get_refund), methods=["GET"]),
            Route("/v1/notifications/verify-webhook-signature", self._api(self._verify), methods=["POST"]),
            Route("/checkoutnow", self._checkout_page, methods=["GET"]),
        ]

    async def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = await request.form()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client", "error_description": "Client Authentication failed"},
                                status_code=401)  # fmt: skip
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "Grant Type is NULL"}, status_code=400)  # fmt: skip
        token = "A21AA" + secrets.token_urlsafe(48)
        loop_time = asyncio.get_running_loop().time()
        with self._lock:
            self.token_requests += 1
            self._tokens[token] = loop_time + self.token_ttl
        return JSONResponse({
            "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/"
                     "payments/refund openid", "access_token": token, "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T", "expires_in": self.token_ttl,
            "nonce": f"{_now()}{secrets.token_urlsafe(16)}",
        })  # fmt: skip

    def _api(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            request_id = request.headers.get("paypal-request-id")
            with self._lock:
                self.requests.append((request.method, request.url.path, request_id))
                delay = self._delays.pop(0) if self._delays else 0.0
                failure = self._failures.pop(0) if self._failures else None
            if delay:
                await asyncio.sleep(delay)
            if not self._authorized(request):
                return JSONResponse({
                    "name": "AUTHENTICATION_FAILURE",
                    "message": "Authentication failed due to invalid authentication credentials or a missing "
                               "Authorization header.",
                    "links": [{"href": "https://developer.paypal.com/docs/api/overview/#error",
                               "rel": "information_link"}],
                }, status_code=401)  # fmt: skip
            if failure is not None:
                return _failure_response(PayPalFailure(failure, "INTERNAL_SERVER_ERROR",
                                                       "An internal server error has occurred."))  # fmt: skip
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return _failure_response(_invalid("MALFORMED_REQUEST_JSON", "", "The request JSON is not well formed."))
            key = (request.url.path, request_id) if request_id and request.method == "POST" else None
            with self._lock:
                if key is not None and key in self._replies:
                    status, reply = self._replies[key]
                    return JSONResponse(reply, status_code=status)
                try:
                    status, reply = handler(request.path_params.get("id"), body)
                except PayPalFailure as failure_:
                    return _failure_response(failure_)
                if key is not None:
                    self._replies[key] = (status, reply)
            return JSONResponse(reply, status_code=status)

        return endpoint

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        with self._lock:
            expiry = self._tokens.get(token or "")
        return expiry is not None and asyncio.get_running_loop().time() < expiry

    async def _checkout_page(self, request: Request) -> Response:
        """The buyer's browser on PayPal: approve (or cancel) and go back to the shop."""
        order_id = request.query_params.get("token", "")
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                return Response("unknown order", status_code=404)
            if request.query_params.get("cancel"):
                return RedirectResponse(_with_query(order["_cancel_url"], {"token": order_id}), status_code=302)
            if order["status"] != "COMPLETED":
                self.approve(order_id)
            payer_id = order["payer"]["payer_id"]
            return RedirectResponse(
                _with_query(order["_return_url"], {"token": order_id, "PayerID": payer_id}), status_code=302
            )

    # --- handlers (called with the lock held) ---------------------------------------------------

    def _create_order(self, _: str | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE"):
            raise _invalid("MISSING_REQUIRED_PARAMETER", "/intent", "A required field / parameter is missing.")
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1:
            raise _invalid("MISSING_REQUIRED_PARAMETER", "/purchase_units", "The fake takes one purchase unit.")
        unit = units[0]
        amount = unit.get("amount") or {}
        currency, value = amount.get("currency_code"), amount.get("value")
        if not isinstance(currency, str) or not isinstance(value, str) or not _VALUE.match(value):
            raise _invalid("MISSING_REQUIRED_PARAMETER", "/purchase_units/@reference_id=='default'/amount",
                           "A required field / parameter is missing.")  # fmt: skip
        places = len(value.partition(".")[2])
        if places > (0 if currency in _ZERO_DECIMAL else 2):
            raise _unprocessable("DECIMAL_PRECISION")
        if Decimal(value) <= 0:
            raise _invalid("INVALID_PARAMETER_VALUE", "/purchase_units/@reference_id=='default'/amount/value",
                           "The value of a field is invalid.")  # fmt: skip
        if len(unit.get("custom_id") or "") > 127:
            raise _invalid("INVALID_STRING_LENGTH", "/purchase_units/@reference_id=='default'/custom_id",
                           "The value of a field is either too short or too long.")  # fmt: skip
        experience = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
        context = experience or body.get("application_context") or {}
        order_id = _pid()
        now = _now()
        self.orders[order_id] = {
            "id": order_id, "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED" if experience else "CREATED",
            "purchase_units": [{
                "reference_id": unit.get("reference_id", "default"), "amount": {"currency_code": currency,
                                                                                  "value": value},
                "payee": {"email_address": "merchant@example.com", "merchant_id": MERCHANT_ID},
                **{k: unit[k] for k in ("custom_id", "description", "invoice_id") if k in unit},
            }],
            "create_time": now, "update_time": now,
            "_return_url": context.get("return_url", "https://example.com/return"),
            "_cancel_url": context.get("cancel_url", "https://example.com/cancel"),
            "_experience": bool(experience),
        }  # fmt: skip
        return 201, self._order_view(order_id)

    def _get_order(self, order_id: str | None, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if order_id not in self.orders:
            raise _not_found("order_id", str(order_id))
        return 200, self._order_view(order_id)

    def _capture_order(self, order_id: str | None, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.orders.get(str(order_id))
        if order is None:
            raise _not_found("order_id", str(order_id))
        if order["status"] == "COMPLETED":
            raise _unprocessable("ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            raise _unprocessable("ORDER_NOT_APPROVED")
        status, detail = self._capture_modes.pop(0) if self._capture_modes else ("COMPLETED", None)
        if status == "DECLINED" and detail is not None:
            raise _unprocessable(detail)
        unit = order["purchase_units"][0]
        capture_id = _pid()
        now = _now()
        capture: dict[str, Any] = {
            "id": capture_id, "status": status, "amount": dict(unit["amount"]), "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE",
                                  "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]},
            "create_time": now, "update_time": now, "_order_id": order["id"],
            **{k: unit[k] for k in ("custom_id", "invoice_id") if k in unit},
        }  # fmt: skip
        if status == "PENDING":
            capture["status_details"] = {"reason": detail}
        elif status == "DECLINED":
            capture["status_details"] = {"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"}
        self.captures[capture_id] = capture
        unit["payments"] = {"captures": [capture_id]}
        order["status"] = "COMPLETED"
        order["update_time"] = now
        return 201, self._order_view(order["id"])

    def _get_capture(self, capture_id: str | None, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if capture_id not in self.captures:
            raise _not_found("capture_id", str(capture_id))
        return 200, self._capture_view(capture_id)

    def _refund_capture(self, capture_id: str | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        capture = self.captures.get(str(capture_id))
        if capture is None:
            raise _not_found("capture_id", str(capture_id))
        if capture["status"] == "PENDING":
            raise _unprocessable("PENDING_CAPTURE")
        if capture["status"] == "REFUNDED":
            raise _unprocessable("CAPTURE_FULLY_REFUNDED")
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            raise _unprocessable("REFUND_NOT_ALLOWED")
        currency = capture["amount"]["currency_code"]
        remaining = self._refundable(capture["id"])
        amount = body.get("amount")
        if amount is None:
            value = remaining
        else:
            if amount.get("currency_code") != currency:
                raise _unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH")
            value = Decimal(str(amount.get("value")))
            if value > remaining:
                raise _unprocessable("REFUND_AMOUNT_EXCEEDED")
        pending = self._refund_modes.pop(0) if self._refund_modes else None
        refund_id = self._new_refund(capture["id"], value, currency, note=body.get("note_to_payer"),
                                     pending=pending, invoice_id=body.get("invoice_id"))  # fmt: skip
        return 201, self._public(self.refunds[refund_id])

    def _get_refund(self, refund_id: str | None, _: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if refund_id not in self.refunds:
            raise _not_found("refund_id", str(refund_id))
        return 200, self._public(self.refunds[refund_id])

    def _verify(self, _: str | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.verification_calls.append(body)
        names = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time",
                 "webhook_id", "webhook_event")  # fmt: skip
        missing = [name for name in names if not body.get(name)]
        if missing:
            raise _invalid("MISSING_REQUIRED_PARAMETER", f"/{missing[0]}", "A required field is missing.")
        sent = self._transmissions.get(body["transmission_id"])
        ok = (
            not self.fail_signature_verification
            and sent is not None
            and body["webhook_id"] == self.webhook_id
            and json.loads(sent["body"]) == body["webhook_event"]
            and sent["headers"]["PAYPAL-TRANSMISSION-SIG"] == body["transmission_sig"]
            and sent["headers"]["PAYPAL-TRANSMISSION-TIME"] == body["transmission_time"]
            and sent["headers"]["PAYPAL-CERT-URL"] == body["cert_url"]
            and sent["headers"]["PAYPAL-AUTH-ALGO"] == body["auth_algo"]
        )
        return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}

    # --- views and bookkeeping ------------------------------------------------------------------

    def _order_view(self, order_id: str) -> dict[str, Any]:
        order = self.orders[order_id]
        view = self._public(order)
        unit = view["purchase_units"][0]
        if "payments" in unit:
            unit["payments"] = {"captures": [self._capture_view(c, nested=True) for c in unit["payments"]["captures"]]}
        base = f"{self.base_url}/v2/checkout/orders/{order_id}"
        links = [{"href": base, "rel": "self", "method": "GET"}]
        if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            rel = "payer-action" if order["_experience"] else "approve"
            links.append({"href": f"{self.base_url}/checkoutnow?token={order_id}", "rel": rel, "method": "GET"})
        if order["status"] in ("CREATED", "APPROVED"):
            links.append({"href": base, "rel": "update", "method": "PATCH"})
        if order["status"] == "APPROVED":
            links.append({"href": f"{base}/capture", "rel": "capture", "method": "POST"})
        view["links"] = links
        if order["_experience"]:
            view.setdefault("payment_source", {"paypal": {}})
        return view

    def _capture_view(self, capture_id: str, nested: bool = False) -> dict[str, Any]:
        capture = self.captures[capture_id]
        view = self._public(capture)
        gross = Decimal(capture["amount"]["value"])
        currency = capture["amount"]["currency_code"]
        view["seller_receivable_breakdown"] = {"gross_amount": _money(gross, currency),
                                               "paypal_fee": _money(Decimal(0), currency),
                                               "net_amount": _money(gross, currency)}  # fmt: skip
        base = f"{self.base_url}/v2/payments/captures/{capture_id}"
        view["links"] = [
            {"href": base, "rel": "self", "method": "GET"},
            {"href": f"{base}/refund", "rel": "refund", "method": "POST"},
            {"href": f"{self.base_url}/v2/checkout/orders/{capture['_order_id']}", "rel": "up", "method": "GET"},
        ]
        if not nested:
            view["supplementary_data"] = {"related_ids": {"order_id": capture["_order_id"]}}
        return view

    def _new_refund(
        self, capture_id: str, value: Decimal, currency: str, *, note: str | None, pending: str | None,
        invoice_id: str | None = None,
    ) -> str:  # fmt: skip
        refund_id = _pid()
        now = _now()
        refund: dict[str, Any] = {
            "id": refund_id, "status": "PENDING" if pending else "COMPLETED", "amount": _money(value, currency),
            "seller_payable_breakdown": {"gross_amount": _money(value, currency),
                                         "paypal_fee": _money(Decimal(0), currency),
                                         "net_amount": _money(value, currency)},
            "create_time": now, "update_time": now, "_capture_id": capture_id,
            "links": [{"href": f"{self.base_url}/v2/payments/refunds/{refund_id}", "rel": "self",
                       "method": "GET"},
                      {"href": f"{self.base_url}/v2/payments/captures/{capture_id}", "rel": "up",
                       "method": "GET"}],
        }  # fmt: skip
        if pending:
            refund["status_details"] = {"reason": pending}
        if note:
            refund["note_to_payer"] = note
        if invoice_id:
            refund["invoice_id"] = invoice_id
        custom_id = self.captures[capture_id].get("custom_id")
        if custom_id:
            refund["custom_id"] = custom_id
        self.refunds[refund_id] = refund
        self._settle_capture(capture_id)
        return refund_id

    def _refundable(self, capture_id: str) -> Decimal:
        capture = self.captures[capture_id]
        taken = sum(
            (Decimal(r["amount"]["value"]) for r in self.refunds.values()
             if r["_capture_id"] == capture_id and r["status"] in ("COMPLETED", "PENDING")),
            Decimal(0),
        )  # fmt: skip
        return Decimal(capture["amount"]["value"]) - taken

    def _settle_capture(self, capture_id: str) -> None:
        capture = self.captures[capture_id]
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
            return
        remaining = self._refundable(capture_id)
        full = Decimal(capture["amount"]["value"])
        capture["status"] = "REFUNDED" if remaining <= 0 else "PARTIALLY_REFUNDED" if remaining < full else "COMPLETED"

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        """A deep copy without the fake's own ``_keys``."""
        return json.loads(json.dumps({k: v for k, v in record.items() if not k.startswith("_")}))


def _label(money: dict[str, str]) -> str:
    return f"{money['value']} {money['currency_code']}"


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _failure_response(failure: PayPalFailure) -> JSONResponse:
    debug_id = secrets.token_hex(7)[:13]
    body: dict[str, Any] = {"name": failure.name, "message": failure.message, "debug_id": debug_id}
    if failure.issue:
        detail = {"issue": failure.issue, "description": _ISSUES.get(failure.issue, failure.message)}
        detail.update(failure.detail)
        body["details"] = [detail]
        body["links"] = [{"href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{failure.issue}",
                          "rel": "information_link", "method": "GET"}]  # fmt: skip
    return JSONResponse(body, status_code=failure.status)
