"""The PayPal wire layer: Orders v2, captures, refunds and webhook verification over httpx.

The buyer approves an order on PayPal's site; boxoffice then captures it. Every call that moves
money sends a ``PayPal-Request-Id`` from the caller (our payment or refund id and attempt): PayPal
answers a repeated id with the first answer instead of acting twice. Our ids travel as ``custom_id``.

Outcomes. PayPal's business refusals (HTTP 422: instrument declined, order not approved, refund
exceeds the capture, ...) raise :class:`PayPalDeclined` with PayPal's description for the buyer.
What leaves the outcome unknown — network errors, timeouts, 5xx, 429, 409 — raises
:class:`PayPalUnavailable`: keep the attempt pending and ask again (``get_order``/``get_refund``).
Bad credentials raise :class:`PayPalConfigError`. A capture's own status decides whether money
moved: an order can be ``COMPLETED`` while its capture is ``PENDING`` or ``DECLINED``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boxoffice.kit.currencies import exponent

# httpx (about 5 MB of memory: it loads rich, click and pygments for its command line when they are
# installed) is imported by the functions that call PayPal, not by every web process.
if TYPE_CHECKING:
    import httpx

LIVE_API_BASE = "https://api-m.paypal.com"
DEFAULT_TIMEOUT = 30.0

# PayPal takes no decimals for these, whatever ISO 4217 says (HUF and TWD have two there).
_PAYPAL_EXPONENT_OVERRIDES = {"HUF": 0, "TWD": 0}
_WEBHOOK_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}

CaptureStatus = Literal["COMPLETED", "PENDING", "DECLINED", "FAILED"]
RefundStatus = Literal["COMPLETED", "PENDING", "FAILED", "CANCELLED"]


class PayPalError(Exception):
    """Base of everything this module raises; ``issue`` is PayPal's detail code when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        issue: str | None = None,
        name: str | None = None,
        debug_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.issue = issue
        self.name = name
        self.debug_id = debug_id
        self.http_status = http_status


class PayPalUnavailable(PayPalError):
    """The outcome is unknown (network, timeout, 5xx, 429, 409): keep the attempt pending."""


class PayPalConfigError(PayPalError):
    """Client id/secret rejected or not allowed: an organizer has to fix the settings."""


class PayPalDeclined(PayPalError):
    """PayPal refused the operation (HTTP 422); ``message`` is meant for the buyer or the organizer."""


class PayPalRequestError(PayPalError):
    """PayPal found the request malformed (HTTP 400 and other 4xx)."""


class PayPalNotFound(PayPalRequestError):
    """No such order, capture or refund (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class PayPalOrder:
    """An order; ``approve_url`` is where the buyer approves it (None once approved or completed)."""

    id: str
    status: str
    approve_url: str | None
    amount: Decimal | None = None
    currency: str | None = None
    custom_id: str | None = None
    payer_id: str | None = None
    capture_id: str | None = None
    capture_status: CaptureStatus | None = None


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """A capture. ``order_status`` is None when read directly (``get_capture``)."""

    order_status: str | None
    capture_id: str | None
    capture_status: CaptureStatus
    amount: Decimal | None
    currency: str | None
    custom_id: str | None
    failure_message: str | None = None
    status_reason: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    """A refund of a capture."""

    refund_id: str
    status: RefundStatus
    amount: Decimal | None = None
    currency: str | None = None
    failure_message: str | None = None


def _paypal_exponent(currency: str) -> int:
    return _PAYPAL_EXPONENT_OVERRIDES.get(currency.upper(), exponent(currency))


def format_amount(amount: Decimal, currency: str) -> str:
    """The ``value`` PayPal expects: ``"49.00"`` EUR, ``"1500"`` JPY; refuses lost precision."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"amount must be a finite Decimal, not {amount!r}")
    if amount < 0:
        raise ValueError(f"amount must not be negative: {amount}")
    quantum = Decimal(1).scaleb(-_paypal_exponent(currency))
    exact = amount.quantize(quantum)
    if exact != amount:
        raise ValueError(f"{amount} has more decimals than PayPal allows for {currency.upper()}")
    return f"{exact:f}"


def parse_money(money: Any) -> tuple[Decimal | None, str | None]:
    """PayPal's ``{"currency_code": "EUR", "value": "49.00"}`` as (Decimal, code)."""
    if not isinstance(money, Mapping):
        return None, None
    value, code = money.get("value"), money.get("currency_code")
    return (Decimal(value) if isinstance(value, str) else None), (code if isinstance(code, str) else None)


class PayPalClient:
    """One PayPal REST app (client id and secret); the OAuth token is cached and thread-safe."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_base: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        self._client_id = client_id
        self._client_secret = client_secret
        self._base = (api_base or LIVE_API_BASE).rstrip("/")
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PayPalClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- orders ---------------------------------------------------------------------------------

    def create_order(
        self,
        amount: Decimal,
        currency: str,
        custom_id: str,
        request_id: str,
        return_url: str,
        cancel_url: str,
        description: str | None = None,
        brand_name: str | None = None,
    ) -> PayPalOrder:
        """Create a CAPTURE order; the buyer approves it at ``approve_url``."""
        if len(custom_id) > 127:
            raise ValueError("custom_id is limited to 127 characters")
        unit: dict[str, Any] = {
            "reference_id": "default",
            "custom_id": custom_id,
            "amount": {"currency_code": currency.upper(), "value": format_amount(amount, currency)},
        }
        if description:
            unit["description"] = description[:127]
        experience: dict[str, Any] = {
            "return_url": return_url,
            "cancel_url": cancel_url,
            "user_action": "PAY_NOW",
            "shipping_preference": "NO_SHIPPING",
        }
        if brand_name:
            experience["brand_name"] = brand_name[:127]
        body = {
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": {"experience_context": experience}},
        }
        return _order(self._request("POST", "/v2/checkout/orders", body=body, request_id=request_id))

    def get_order(self, order_id: str) -> PayPalOrder:
        """The order as PayPal has it now, with its capture if there is one."""
        return _order(self._request("GET", f"/v2/checkout/orders/{_segment(order_id)}"))

    def capture_order(self, order_id: str, request_id: str) -> CaptureResult:
        """Capture an approved order. A repeated ``request_id`` returns the first capture."""
        path = f"/v2/checkout/orders/{_segment(order_id)}/capture"
        try:
            data = self._request("POST", path, body={}, request_id=request_id)
        except PayPalDeclined as error:
            if error.issue != "ORDER_ALREADY_CAPTURED":
                raise
            # Captured by an earlier attempt whose answer we lost: read what happened instead.
            data = self._request("GET", f"/v2/checkout/orders/{_segment(order_id)}")
        capture = _first_capture(data)
        if capture is None:
            raise PayPalUnavailable(f"PayPal answered without a capture for order {order_id}")
        return _capture(capture, order_status=_str(data.get("status")), order_id=_str(data.get("id")))

    def get_capture(self, capture_id: str) -> CaptureResult:
        """A capture read directly (e.g. to settle a PENDING one)."""
        data = self._request("GET", f"/v2/payments/captures/{_segment(capture_id)}")
        related = _dig(data, "supplementary_data", "related_ids", "order_id")
        return _capture(data, order_status=None, order_id=_str(related))

    # --- refunds --------------------------------------------------------------------------------

    def refund_capture(
        self,
        capture_id: str,
        amount: Decimal | None,
        currency: str,
        request_id: str,
        note: str | None = None,
        invoice_id: str | None = None,
    ) -> RefundResult:
        """Refund ``amount`` of a capture (None: what is left of it)."""
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = {"currency_code": currency.upper(), "value": format_amount(amount, currency)}
        if note:
            body["note_to_payer"] = note[:255]
        if invoice_id:
            body["invoice_id"] = invoice_id[:127]
        path = f"/v2/payments/captures/{_segment(capture_id)}/refund"
        return _refund(self._request("POST", path, body=body, request_id=request_id))

    def get_refund(self, refund_id: str) -> RefundResult:
        """The refund as PayPal has it now (PENDING refunds settle later)."""
        return _refund(self._request("GET", f"/v2/payments/refunds/{_segment(refund_id)}"))

    # --- webhooks -------------------------------------------------------------------------------

    def verify_webhook_signature(self, headers: Mapping[str, str], body: bytes, webhook_id: str) -> bool:
        """Ask PayPal whether ``body`` came from PayPal for ``webhook_id``; False on any doubt.

        The event travels to PayPal byte for byte as received: PayPal checks the signature over the
        original text, so a re-serialized event can fail verification.
        """
        lowered = {key.lower(): value for key, value in headers.items()}
        fields = {name: lowered.get(header) for name, header in _WEBHOOK_HEADERS.items()}
        if not webhook_id or not all(fields.values()):
            return False
        try:
            if not isinstance(json.loads(body), dict):
                return False
        except ValueError:
            return False
        envelope = json.dumps({**fields, "webhook_id": webhook_id}, separators=(",", ":"))
        payload = envelope[:-1].encode() + b',"webhook_event":' + body.strip() + b"}"
        try:
            answer = self._request("POST", "/v1/notifications/verify-webhook-signature", raw=payload)
        except (PayPalRequestError, PayPalDeclined):  # PayPal could not check it: not verified
            return False
        return answer.get("verification_status") == "SUCCESS"

    # --- transport ------------------------------------------------------------------------------

    def _access_token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if refresh or self._token is None or self._clock() >= self._token_expires_at:
                self._token, lifetime = self._fetch_token()
                margin = min(300.0, lifetime * 0.1)
                self._token_expires_at = self._clock() + lifetime - margin
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        import httpx

        try:
            response = self._http.post(
                f"{self._base}/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise PayPalUnavailable(f"PayPal token request failed: {error!r}") from error
        if response.status_code in (400, 401, 403):
            data = _json(response)
            message = _str(data.get("error_description")) or "PayPal rejected the client credentials"
            raise PayPalConfigError(message, name=_str(data.get("error")), http_status=response.status_code)
        if not response.is_success:
            raise _error(response)
        data = _json(response)
        token, lifetime = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not isinstance(lifetime, (int, float)):
            raise PayPalUnavailable("PayPal answered the token request without a token")
        return token, float(lifetime)

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        raw: bytes | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        content = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        response = self._send(method, path, content, request_id, self._access_token())
        if response.status_code == 401:  # token revoked or expired early: one fresh try
            response = self._send(method, path, content, request_id, self._access_token(refresh=True))
        if not response.is_success:
            raise _error(response)
        if not response.content:
            return {}
        data = _json(response)
        if not data:
            raise PayPalUnavailable(f"PayPal answered {method} {path} with an unreadable body")
        return data

    def _send(
        self, method: str, path: str, content: bytes | None, request_id: str | None, token: str
    ) -> httpx.Response:
        import httpx

        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Prefer": "return=representation",
        }
        if content is not None:
            headers["Content-Type"] = "application/json"
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        try:
            return self._http.request(
                method, f"{self._base}{path}", content=content, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            raise PayPalUnavailable(f"{method} {path} failed: {error!r}") from error


def _segment(identifier: str) -> str:
    """PayPal ids are upper-case letters and digits; refuse anything that could change the path."""
    if not identifier or not identifier.replace("-", "").isalnum():
        raise PayPalNotFound(f"not a PayPal id: {identifier!r}", http_status=404)
    return identifier


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def _error(response: httpx.Response) -> PayPalError:
    """PayPal's ``{"name", "message", "debug_id", "details": [{"issue", "description"}]}`` as ours."""
    data = _json(response)
    details = data.get("details")
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], Mapping) else {}
    issue, description = _str(first.get("issue")), _str(first.get("description"))
    name = _str(data.get("name")) or _str(data.get("error"))
    message = (
        description
        or _str(data.get("message"))
        or _str(data.get("error_description"))
        or f"PayPal answered HTTP {response.status_code}"
    )
    status = response.status_code
    kind: type[PayPalError]
    if status in (409, 429) or status >= 500:
        kind = PayPalUnavailable
    elif status in (401, 403):
        kind = PayPalConfigError
    elif status == 404:
        kind = PayPalNotFound
    elif status == 422:
        kind = PayPalDeclined
    else:
        kind = PayPalRequestError
    return kind(message, issue=issue, name=name, debug_id=_str(data.get("debug_id")), http_status=status)


def _approve_url(data: Mapping[str, Any]) -> str | None:
    links = data.get("links")
    for rel in ("payer-action", "approve"):
        for link in links if isinstance(links, list) else []:
            if isinstance(link, Mapping) and link.get("rel") == rel:
                return _str(link.get("href"))
    return None


def _first_unit(data: Mapping[str, Any]) -> Mapping[str, Any]:
    units = data.get("purchase_units")
    unit = units[0] if isinstance(units, list) and units else {}
    return unit if isinstance(unit, Mapping) else {}


def _first_capture(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    captures = _dig(_first_unit(data), "payments", "captures")
    if isinstance(captures, list) and captures and isinstance(captures[-1], Mapping):
        return captures[-1]
    return None


def _order(data: Mapping[str, Any]) -> PayPalOrder:
    unit = _first_unit(data)
    amount, currency = parse_money(unit.get("amount"))
    capture = _first_capture(data)
    status = _str(data.get("status")) or "UNKNOWN"
    return PayPalOrder(
        id=_str(data.get("id")) or "",
        status=status,
        approve_url=_approve_url(data) if status in ("CREATED", "PAYER_ACTION_REQUIRED") else None,
        amount=amount,
        currency=currency,
        custom_id=_str(unit.get("custom_id")),
        payer_id=_str(_dig(data, "payer", "payer_id")),
        capture_id=_str(capture.get("id")) if capture else None,
        capture_status=_capture_status(capture.get("status")) if capture else None,
    )


_CAPTURE_STATUSES: dict[str, CaptureStatus] = {
    "COMPLETED": "COMPLETED",
    "PARTIALLY_REFUNDED": "COMPLETED",  # refunded later: it was captured all the same
    "REFUNDED": "COMPLETED",
    "PENDING": "PENDING",
    "DECLINED": "DECLINED",
    "FAILED": "FAILED",
}


def _capture_status(status: Any) -> CaptureStatus:
    """Unknown statuses count as PENDING: not money we can count yet."""
    return _CAPTURE_STATUSES.get(status, "PENDING") if isinstance(status, str) else "PENDING"


def _capture(capture: Mapping[str, Any], *, order_status: str | None, order_id: str | None) -> CaptureResult:
    status = _capture_status(capture.get("status"))
    amount, currency = parse_money(capture.get("amount"))
    reason = _str(_dig(capture, "status_details", "reason"))
    failed = status in ("DECLINED", "FAILED")
    return CaptureResult(
        order_status=order_status,
        capture_id=_str(capture.get("id")),
        capture_status=status,
        amount=amount,
        currency=currency,
        custom_id=_str(capture.get("custom_id")),
        failure_message=(f"PayPal {status.lower()} the payment" + (f" ({reason})" if reason else ""))
        if failed
        else None,
        status_reason=reason,
        order_id=order_id,
    )


def _refund(data: Mapping[str, Any]) -> RefundResult:
    raw = data.get("status")
    status: RefundStatus = raw if raw in ("COMPLETED", "PENDING", "FAILED", "CANCELLED") else "PENDING"
    amount, currency = parse_money(data.get("amount"))
    reason = _str(_dig(data, "status_details", "reason"))
    return RefundResult(
        refund_id=_str(data.get("id")) or "",
        status=status,
        amount=amount,
        currency=currency,
        failure_message=f"PayPal could not refund ({reason or raw})" if status in ("FAILED", "CANCELLED") else None,
    )
