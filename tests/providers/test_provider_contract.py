"""The contract every payment provider passes, parametrized over provider ids.

A provider joins by adding a :class:`Driver` to ``DRIVERS``: how to make its payment succeed (and,
when it can, decline), how a pending payment is completed out of band, what it does with refunds,
and — when it takes callbacks — how to sign one. The tests only go through the public use cases
(``payments.checkout``, ``payments.refunding``, the inbox), as the API and the pages do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy import func, select

from boxoffice.app import create_app
from boxoffice.errors import InvalidValue, PaymentDeclined
from boxoffice.inbox.models import ProviderEvent
from boxoffice.kit.clock import now
from boxoffice.kit.money import format_amount, to_minor_units
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import pay
from boxoffice.payments.models import Payment
from boxoffice.payments.refunding import refund_now
from boxoffice.providers.banktransfer import importing
from boxoffice.providers.base import PaymentProvider, ProviderSettings
from boxoffice.providers.registry import provider_class, provider_classes, provider_for
from boxoffice.providers.sandbox import processor, signing
from boxoffice.providers.stripe import rules as stripe_rules
from conftest import make_shop
from fakes import stripe_events
from fakes.localstripe import API_KEY as STRIPE_KEY
from fakes.paypal import PayPalFake

D = Decimal
Uow = Callable[[], Any]
STRIPE_SECRET = "whsec_contract"


@dataclass(frozen=True)
class Driver:
    """How the contract tests drive one provider."""

    provider: str
    # The event's settings for the provider.
    settings: dict[str, Any] = field(default_factory=lambda: {"enabled": True})
    # Price of the one ticket the test order holds.
    price: str = "49.00"
    # Checkout form of a payment that succeeds; of one the provider declines (None: it never declines).
    pay_form: dict[str, Any] = field(default_factory=dict)
    decline_form: dict[str, Any] | None = None
    # Completes a payment the provider left pending (the organizer confirms, a statement is imported…).
    settle: Callable[[Uow, int], None] | None = None
    # Whether the provider gives money back by itself; whether in part.
    refunds_itself: bool = False
    partial_refunds: bool = False
    # Values that are personal data in ``payment.info`` and must be gone after shredding.
    personal: tuple[str, ...] = ()
    # Signs a callback body as the provider would (None: the provider takes no callbacks).
    sign: Callable[[Uow, bytes], dict[str, str]] | None = None

    def prepare(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        """Start what the provider talks to for one test (a test server); the event's settings."""
        return self.settings

    def make_paid(self, uow: Uow, order_id: int) -> int:
        """Pay the order in full through this provider; returns the confirmed payment's id."""
        outcome = pay(order_id, provider=self.provider, actor="buyer", form_data=self.pay_form, uow=uow)
        if outcome.state == "pending":
            assert self.settle is not None, f"{self.provider} left the payment pending and has no settle step"
            self.settle(uow, outcome.payment_id)
        return outcome.payment_id


def _organizer_confirms(uow: Uow, payment_id: int) -> None:
    with uow() as s:
        payments.confirm_payment(s, payment_id, actor="user:organizer")


def _sandbox_signature(uow: Uow, body: bytes) -> dict[str, str]:
    created = int(now().timestamp())
    with uow() as s:
        return {signing.HEADER: signing.sign(signing.webhook_key(s), body, created)}


def _statement_arrives(uow: Uow, payment_id: int) -> None:
    """The organizer imports a bank statement showing the buyer's transfer with its reference."""
    with uow() as s:
        payment = s.get(Payment, payment_id)
        amount = format_amount(payment.amount, payment.order.currency).replace(".", ",")
        statement = (
            "Buchungstag;Betrag;Verwendungszweck;Name;IBAN\n"
            f"08.03.2024;{amount};{payment.provider_reference};Erika Mustermann;DE89370400440532013000\n"
        )
        import_id = importing.start_import(
            s, payment.order.event_id, filename="statement.csv", content=statement.encode(), actor="user:organizer",
            background=False,
        ).id
    importing.run_import(import_id)


def _post_callback(provider: str, body: bytes, headers: dict[str, str]) -> None:
    answer = TestClient(create_app()).post(f"/v1/webhooks/{provider}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


def _stripe_signature(uow: Uow, body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": stripe_events.sign(body, STRIPE_SECRET)}


@dataclass(frozen=True)
class StripeDriver(Driver):
    """Stripe through localstripe; Stripe's webhook for each payment is sent as Stripe would (localstripe
    sends none)."""

    def prepare(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        request.getfixturevalue("stripe_api")
        return self.settings

    def make_paid(self, uow: Uow, order_id: int) -> int:
        payment_id = super().make_paid(uow, order_id)
        with uow() as s:
            payment = s.get(Payment, payment_id)
            event = stripe_events.payment_intent_succeeded(
                payment.provider_reference,
                amount=to_minor_units(payment.amount, payment.order.currency),
                currency=payment.order.currency.lower(),
                metadata=stripe_rules.payment_metadata(payment.id, payment.full_id),
            )
        body = stripe_events.dumps(event)
        _post_callback("stripe", body, _stripe_signature(uow, body))
        return payment_id


@dataclass(frozen=True)
class SandboxDriver(Driver):
    """The sandbox answers a card charge synchronously; its callback for the charge arrives afterwards,
    as a real processor's would (the inbox finds the payment confirmed already)."""

    def make_paid(self, uow: Uow, order_id: int) -> int:
        payment_id = super().make_paid(uow, order_id)
        with uow() as s:
            intent = processor.find_intent(s, s.get(Payment, payment_id).provider_reference)
            body = processor.event_body(
                "payment_intent.succeeded", processor.intent_object(intent), created=int(now().timestamp())
            )
        _post_callback("sandbox", body, _sandbox_signature(uow, body))
        return payment_id


# The PayPal fake of the running test (PayPal signs callbacks with state only the fake holds).
_PAYPAL: dict[str, PayPalFake] = {}


def _paypal_signature(uow: Uow, body: bytes) -> dict[str, str]:
    return _PAYPAL["fake"].signed(json.loads(body))[1]


def _buyer_approves_at_paypal(uow: Uow, payment_id: int) -> None:
    """The buyer approves on PayPal's page and comes back (the order is captured); PayPal's webhook follows."""
    with uow() as s:
        approve_url = s.get(Payment, payment_id).info["approve-url"]
    back = urlsplit(httpx.get(approve_url, follow_redirects=False).headers["location"])
    returned = TestClient(create_app()).get(f"{back.path}?{back.query}", follow_redirects=False)
    assert returned.status_code == 303, returned.text
    with uow() as s:
        capture_id = s.get(Payment, payment_id).info["capture-id"]
    fake = _PAYPAL["fake"]
    body, headers = fake.signed(fake.event("PAYMENT.CAPTURE.COMPLETED", capture_id))
    _post_callback("paypal", body, headers)


@dataclass(frozen=True)
class PayPalDriver(Driver):
    def prepare(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        fake: PayPalFake = request.getfixturevalue("paypal_fake")
        _PAYPAL["fake"] = fake
        return {**self.settings, "client-id": fake.client_id, "client-secret": fake.client_secret,
                "webhook-id": fake.webhook_id}  # fmt: skip


@dataclass(frozen=True)
class FreeDriver(Driver):
    def make_paid(self, uow: Uow, order_id: int) -> int:
        # Placing an order with nothing to pay settles it through the free provider at once.
        with uow() as s:
            return s.get(Order, order_id).payments[0].id


DRIVERS: dict[str, Driver] = {
    "free": FreeDriver("free", settings={}, price="0.00"),
    "manual": Driver("manual", settle=_organizer_confirms),
    "banktransfer": Driver(
        "banktransfer",
        settings={"enabled": True, "bank-account-holder": "Demo Konferenz GmbH", "iban": "DE02120300000000202051"},
        settle=_statement_arrives,
        personal=("Erika Mustermann", "DE89370400440532013000"),
    ),
    "sandbox": SandboxDriver(
        "sandbox",
        pay_form={"sandbox": "4242424242424242"},
        decline_form={"sandbox": "4000000000000002"},
        refunds_itself=True,
        partial_refunds=True,
        personal=("4242",),
        sign=_sandbox_signature,
    ),
    "stripe": StripeDriver(
        "stripe",
        settings={"enabled": True, "secret-key": STRIPE_KEY, "webhook-secret": STRIPE_SECRET},
        # Stripe's own test PaymentMethods (localstripe knows them too).
        pay_form={"stripe": "pm_card_visa"},
        decline_form={"stripe": "pm_card_chargeCustomerFail"},
        refunds_itself=True,
        partial_refunds=True,
        personal=("pm_card_visa",),
        sign=_stripe_signature,
    ),
    "paypal": PayPalDriver(
        "paypal",
        # Without a token the buyer is sent to approve; with an unknown one PayPal refuses at once.
        decline_form={"paypal": "UNKNOWNORDER1"},
        settle=_buyer_approves_at_paypal,
        refunds_itself=True,
        partial_refunds=True,
        sign=_paypal_signature,
    ),
}


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest) -> Driver:
    return DRIVERS[request.param]


@pytest.fixture
def order_id(uow: Uow, driver: Driver, request: pytest.FixtureRequest) -> int:
    settings = driver.prepare(request)
    with uow() as s:
        shop = make_shop(s, regular=driver.price, providers={driver.provider: settings} if settings else {})
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        ).id


def _plugin(s: Any, driver: Driver, order_id: int) -> PaymentProvider:
    return provider_for(s.get(Order, order_id).event, driver.provider, s)


# Providers being written in parallel; each leaves this set when its driver joins DRIVERS.
DRIVERS_TO_COME: frozenset[str] = frozenset()


def test_every_installed_provider_has_a_driver() -> None:
    missing = set(provider_classes()) - set(DRIVERS) - DRIVERS_TO_COME
    assert not missing, f"no contract driver for {sorted(missing)}"


def test_the_provider_is_registered_and_its_settings_validate(driver: Driver) -> None:
    cls = provider_class(driver.provider)
    assert cls.identifier == driver.provider and cls.verbose_name
    assert issubclass(cls.settings_model, ProviderSettings)
    if driver.provider != "free":
        stored = cls.validate_settings({"enabled": True, "fee-abs": "0.50"}, currency="EUR")
        shown = cls.settings_model.load(stored).public_dict()
        assert shown["enabled"] is True and not set(cls.settings_model.secret_fields) & set(shown)
        with pytest.raises(InvalidValue):
            cls.validate_settings({"fee-abs": 0.5})


def test_a_payment_pays_the_order_and_is_explained(uow: Uow, driver: Driver, order_id: int) -> None:
    payment_id = driver.make_paid(uow, order_id)
    with uow() as s:
        order = s.get(Order, order_id)
        payment = s.get(Payment, payment_id)
        assert order.status == "paid" and order.payment_state in ("paid", "free")
        assert (payment.provider, payment.state) == (driver.provider, "confirmed")
        plugin = _plugin(s, driver, order_id)
        json.dumps(plugin.api_payment_details(payment))
        for rendered in (plugin.payment_control_render(payment), plugin.payment_pending_render(payment)):
            assert isinstance(rendered, Markup)
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order_id)).all()
        assert {"payment.created", "payment.confirmed", "order.paid"} <= set(actions)


def test_a_decline_is_recorded_and_leaves_the_order_unpaid(uow: Uow, driver: Driver, order_id: int) -> None:
    if driver.decline_form is None:
        pytest.skip(f"{driver.provider} never declines")
    with pytest.raises(PaymentDeclined) as caught:
        pay(order_id, provider=driver.provider, actor="buyer", form_data=driver.decline_form, uow=uow)
    assert caught.value.detail
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "pending" and order.payment_state == "unpaid"
        assert [p.state for p in order.payments] == ["failed"]


def test_part_of_an_order_can_be_paid(uow: Uow, driver: Driver, order_id: int) -> None:
    if driver.price == "0.00":
        pytest.skip("nothing to pay in part")
    outcome = pay(order_id, provider=driver.provider, actor="buyer", amount=D("20.00"), form_data=driver.pay_form, uow=uow)
    if outcome.state == "pending" and driver.settle:
        driver.settle(uow, outcome.payment_id)
    with uow() as s:
        order = s.get(Order, order_id)
        assert order.status == "pending" and order.pending_sum == D("29.00")


@pytest.mark.parametrize("part", ["whole", "partial"])
def test_a_refund_is_executed_by_the_provider_or_left_for_the_organizer(
    uow: Uow, driver: Driver, order_id: int, part: str
) -> None:
    if driver.price == "0.00":
        pytest.skip("nothing to refund")
    payment_id = driver.make_paid(uow, order_id)
    amount = D(driver.price) if part == "whole" else D("10.00")
    automatic = driver.refunds_itself and (part == "whole" or driver.partial_refunds)
    refund = refund_now(payment_id, amount=amount, actor="user:organizer", uow=uow)
    if automatic:
        assert refund.state == "done"
    else:
        # Never silently done: it waits for the organizer to give the money back and say so.
        assert refund.state == "created"
        with uow() as s:
            payments.mark_refund_done(s, refund.id, actor="user:organizer")
    with uow() as s:
        assert s.get(Order, order_id).refund_total == amount
        assert s.get(Payment, payment_id).state == ("refunded" if part == "whole" else "confirmed")


def test_shredding_removes_personal_data_but_keeps_the_books(uow: Uow, driver: Driver, order_id: int) -> None:
    payment_id = driver.make_paid(uow, order_id)
    with uow() as s:
        payment = s.get(Payment, payment_id)
        before = (payment.amount, payment.state, payment.payment_date)
        _plugin(s, driver, order_id).shred_payment_info(payment)
        assert (payment.amount, payment.state, payment.payment_date) == before
        assert not any(value in json.dumps(payment.info) for value in driver.personal)


def test_replayed_callbacks_change_nothing_and_forged_ones_are_refused(uow: Uow, driver: Driver, order_id: int) -> None:
    if driver.sign is None:
        pytest.skip(f"{driver.provider} takes no callbacks")
    driver.make_paid(uow, order_id)
    with uow() as s:
        stored = s.scalars(select(ProviderEvent).where(ProviderEvent.provider == driver.provider)).all()
        audit_entries = s.scalar(select(func.count()).select_from(AuditEntry))
    assert stored, "a provider that takes callbacks reports the payment through one"
    client = TestClient(create_app())
    url = f"/v1/webhooks/{driver.provider}"
    for event in stored:
        body = json.dumps(event.payload).encode()
        replay = client.post(url, content=body, headers=driver.sign(uow, body))
        assert replay.status_code == 200 and replay.json()["meta"]["duplicates"] == 1
        forged = client.post(url, content=body, headers={})
        assert forged.status_code in (400, 401)
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_entries
        assert s.scalar(select(func.count()).select_from(ProviderEvent)) == len(stored)
