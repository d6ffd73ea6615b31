"""Where a buyer comes back to after a provider's page (3-D Secure, PayPal approval), and where they go next.

Return URLs carry our payment id, which is a small, guessable number, and lead to the order page,
which shows the order's secret link. So each return URL is signed: an HMAC of the provider, the
purpose and the payment id, keyed with a key derived from the installation's secret key. A URL
that was not handed out by us is answered with 404 and reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from boxoffice.accounts.service import secret_key
from boxoffice.config import get_settings
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment


def _signature(session: Session, provider: str, purpose: str, payment_id: int) -> str:
    key = hmac.new(secret_key(session).encode(), b"boxoffice provider return urls", hashlib.sha256).digest()
    message = f"{provider}:{purpose}:{payment_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def return_url(session: Session, payment: Payment, purpose: str = "return") -> str:
    """The absolute, signed URL ``/providers/<provider>/<purpose>/<payment id>?sig=…``."""
    sig = _signature(session, payment.provider, purpose, payment.id)
    base = get_settings().public_url
    return f"{base}/providers/{payment.provider}/{purpose}/{payment.id}?{urlencode({'sig': sig})}"


def signature_valid(session: Session, provider: str, purpose: str, payment_id: int, sig: str | None) -> bool:
    """Whether ``sig`` is the signature :func:`return_url` put on this payment's URL."""
    return bool(sig) and hmac.compare_digest(_signature(session, provider, purpose, payment_id), sig or "")


def signed_payment(session: Session, provider: str, purpose: str, payment_id: int, sig: str | None) -> Payment | None:
    """The payment of a return URL, if the URL is one we handed out for it (None: answer 404)."""
    payment = session.get(Payment, payment_id)
    if (
        payment is None
        or payment.provider != provider
        or not signature_valid(session, provider, purpose, payment_id, sig)
    ):
        return None
    return payment


def order_page_url(order: Order) -> str:
    """The buyer's order page (served by the shop pages): ``/e/<organizer>/<event>/order/<code>/<secret>/``."""
    event = order.event
    return f"{get_settings().public_url}/e/{event.organizer.slug}/{event.slug}/order/{order.code}/{order.secret}/"
