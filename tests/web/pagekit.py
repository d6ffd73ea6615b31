"""Helpers of the page tests: a client that fills in CSRF tokens like a browser's forms do, statement files,
and readers of what a page shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from fastapi.testclient import TestClient

from conftest import Shop

BANK_ACCOUNT = {
    "enabled": True,
    "bank-account-holder": "Acme Events GmbH",
    "iban": "DE02 1203 0000 0000 2020 51",
    "bic": "BYLADEM1001",
    "bank-name": "Demo Bank",
}
PROVIDERS = {"sandbox": {"enabled": True}, "manual": {"enabled": True}, "banktransfer": BANK_ACCOUNT}
ADMIN = ("admin@acme.example", "admin-password")
STAFF = ("staff@acme.example", "staff-password")
STRANGER = ("admin@other.example", "other-password")
CARD_OK, CARD_DECLINED, CARD_ACTION = "4242424242424242", "4000000000000002", "4000000000003220"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_FLASH = re.compile(r'class="flash"[^>]*>([^<]*)<')


class Pages:
    """A test client that keeps cookies and sends each form with the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._token: str | None = None

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(url, **kwargs)
        found = _TOKEN.search(response.text)
        if found:
            self._token = found.group(1)
        return response

    def token(self) -> str:
        if self._token is None:
            self.get("/control/login")
        assert self._token is not None
        return self._token

    def post(self, url: str, data: Mapping[str, Any] | None = None, *, follow: bool = False, **kwargs: Any) -> httpx.Response:
        form = {"csrf_token": self.token(), **(data or {})}
        response = self.client.post(url, data=form, follow_redirects=follow, **kwargs)
        found = _TOKEN.search(response.text)
        if found:
            self._token = found.group(1)
        return response

    def login(self, who: tuple[str, str] = ADMIN) -> None:
        response = self.post("/control/login", {"email": who[0], "password": who[1], "next": "/control/"})
        assert response.status_code == 303, response.text

    def place(self, shop: Shop, *, regular: int = 2, student: int = 0, provider: str = "sandbox",
              email: str = "buyer@example.com") -> str:
        """Place an order in the shop; the buyer's order page path (with its secret)."""
        response = self.post("/e/acme/conf/", {
            f"qty-{shop.regular_id}": str(regular), f"qty-{shop.student_id}": str(student),
            "email": email, "provider": provider, "action": "place",
        })
        assert response.status_code == 303, response.text
        return response.headers["location"].split("?")[0]

    def pay_card(self, order_path: str, card: str = CARD_OK) -> httpx.Response:
        return self.post(order_path + "pay", {"provider": "sandbox", "pay-sandbox-sandbox": card})


def flash_of(response: httpx.Response) -> str | None:
    """The one-shot message the page shows after a redirect."""
    found = _FLASH.search(response.text)
    return found.group(1).strip() if found else None


def text_of(html: str) -> str:
    """A page's visible text on one line (tags dropped), for assertions on what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


def code_of(order_path: str) -> str:
    return order_path.rstrip("/").split("/")[-2]


@dataclass(frozen=True)
class Entry:
    amount: str
    remittance: str
    payer: str = "Erika Mustermann"
    iban: str = "DE89370400440532013000"
    booked_on: date = date(2024, 3, 8)


def statement_csv(*entries: Entry) -> bytes:
    """A German savings-bank CSV export (semicolons, day-first dates, decimal commas)."""
    rows = ['"Buchungstag";"Verwendungszweck";"Beguenstigter/Zahlungspflichtiger";"IBAN";"Betrag";"Waehrung"']
    for e in entries:
        rows.append(f'"{e.booked_on:%d.%m.%Y}";"{e.remittance}";"{e.payer}";"{e.iban}";"{e.amount.replace(".", ",")}";"EUR"')
    return ("\r\n".join(rows) + "\r\n").encode("cp1252")




def go_live(uow, shop: Shop) -> None:  # type: ignore[no-untyped-def]
    """Take the test shop out of test mode (the sandbox off): its orders from now on are real ones,
    which the dashboard counts."""
    from boxoffice.catalogue.models import Event
    from boxoffice.catalogue.service import update_event

    with uow() as s:
        event = s.get(Event, shop.event_id)
        update_event(s, event, {"test_mode": False, "payment_providers": {"sandbox": {"enabled": False}}})


def paid_by_hand(uow, order_id: int, actor: str = "user:admin@acme.example") -> None:  # type: ignore[no-untyped-def]
    """The organizer records the order's money as received (manual payment, confirmed)."""
    from boxoffice.payments import service as payments
    from boxoffice.payments.checkout import begin_payment

    with uow() as s:
        payment = begin_payment(s, order_id, provider="manual", actor=actor)
        payments.confirm_payment(s, payment.id, actor=actor)
