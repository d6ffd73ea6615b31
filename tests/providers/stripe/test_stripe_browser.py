"""A buyer pays by card in the shop with Stripe.js, in Debian's Chromium driven by Playwright.

The order page loads Stripe.js from ``BOXOFFICE_STRIPE_JS_URL`` — here localstripe's fake, which
tests/fakes/localstripe.py makes behave like the real one — so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.catalogue.models import Event
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment
from boxoffice.providers.stripe.rules import FULL_ID_KEY, PAYMENT_KEY
from fakes.localstripe import CARD_3DS, CARD_DECLINED, CARD_OK
from fakes.servers import serve_asgi
from providers.conftest import pointed_at
from web.test_web_browser import chromium, shot  # noqa: F401  # the page tests' browser fixture and screenshots

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

Buyer = Any  # the ``buyer`` fixture's class (tests/providers/stripe/conftest.py)


@pytest.fixture
def server(stripe_api: str, buyer: Buyer) -> Iterator[str]:
    """boxoffice on a loopback port, its links and Stripe.js pointing at that port and localstripe."""
    with serve_asgi(create_app()) as url, pointed_at("BOXOFFICE_PUBLIC_URL", url), \
            pointed_at("BOXOFFICE_STRIPE_JS_URL", f"{stripe_api}/js.stripe.com/v3/"):  # fmt: skip
        yield url


@pytest.fixture
def page(request: pytest.FixtureRequest, server: str) -> Iterator[Any]:
    browser = request.getfixturevalue("chromium")  # the page tests' own, shared (imported above)
    context = browser.new_context(base_url=server, viewport={"width": 1000, "height": 900}, locale="en-GB")
    tab = context.new_page()
    outside: list[str] = []
    tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith("http://127.0.0.1:") else None)
    refused: list[str] = []  # what the pages' Content-Security-Policy blocked
    tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert not outside, f"the page reached beyond loopback: {outside}"
    assert not refused, f"the Content-Security-Policy refused: {refused}"


def place_order(page: Any, regular: int = 1) -> None:
    page.goto("/e/acme/conf/")
    page.get_by_label("Regular").fill(str(regular))
    page.get_by_label("E-mail address").fill("maria@example.org")
    page.get_by_label("Credit card (Stripe)").check()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Pay now")).to_be_visible()


def type_card(page: Any, number: str) -> None:
    """Type into the card Element as a buyer does (the fake's inputs are named by placeholder)."""
    card = page.locator("#stripe-card-element")
    expect(card.get_by_placeholder("number")).to_be_visible()
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("10115")


def pay(page: Any) -> None:
    page.get_by_role("button", name="Pay", exact=True).click()


def order_of(page: Any, buyer: Buyer) -> tuple[Order, list[Payment]]:
    code = re.search(r"/order/([A-Z0-9]+)/", page.url)
    assert code, page.url
    with buyer.uow() as s:
        order = s.execute(select(Order).where(Order.code == code.group(1))).scalar_one()
        payments = list(s.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.local_id)))
        assert all(p.full_id for p in payments)  # loads what full_id needs before the session closes
        s.expunge_all()
        return order, payments


def assert_intent_names(buyer: Buyer, payment: Payment, minor: int) -> None:
    intent = buyer.stripe(f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["status"] == "succeeded"
    assert intent["amount"] == minor and intent["currency"] == "eur"
    assert intent["metadata"][PAYMENT_KEY] == str(payment.id)
    assert intent["metadata"][FULL_ID_KEY] == payment.full_id


def test_a_buyer_pays_by_card_with_stripe_js_and_the_order_page_shows_it_paid(page: Any, buyer: Buyer) -> None:
    place_order(page, regular=2)
    expect(page.get_by_text("Credit card (Stripe): 98.00 EUR")).to_be_visible()

    type_card(page, CARD_OK)
    shot(page, "order-pay-stripe")
    pay(page)

    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
    expect(page.locator(".attempts li")).to_contain_text(re.compile(r"-P-1\s+Credit card \(Stripe\) · 98.00 EUR · confirmed"))
    order, payments = order_of(page, buyer)
    assert order.status == "paid" and [p.state for p in payments] == ["confirmed"]
    assert_intent_names(buyer, payments[0], 9800)


def test_a_declined_card_shows_stripes_message_and_another_card_pays_the_same_order(page: Any, buyer: Buyer) -> None:
    place_order(page)

    type_card(page, CARD_DECLINED)
    pay(page)

    expect(page.locator("#stripe-card-error")).to_have_text("Your card was declined.")
    shot(page, "order-stripe-declined")
    expect(page.locator(".status-line")).to_contain_text("Status: pending")
    expect(page.locator(".attempts li")).to_contain_text(re.compile(r"-P-1\s+Credit card \(Stripe\) · 49.00 EUR · failed"))

    type_card(page, CARD_OK)
    pay(page)

    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
    _, payments = order_of(page, buyer)
    assert [p.state for p in payments] == ["failed", "confirmed"]
    assert payments[0].info["message"] == "Your card was declined."
    assert payments[0].provider_reference != payments[1].provider_reference  # a new attempt, a new intent
    assert_intent_names(buyer, payments[1], 4900)


@pytest.mark.parametrize("authenticated", [True, False], ids=["authenticated", "refused"])
def test_a_card_needing_3d_secure_is_confirmed_in_stripes_dialog_on_the_page(
    page: Any, buyer: Buyer, authenticated: bool
) -> None:
    place_order(page)

    type_card(page, CARD_3DS)
    pay(page)
    page.get_by_role("button", name="Complete authentication" if authenticated else "Fail authentication").click()

    if authenticated:
        expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
        assert_intent_names(buyer, order_of(page, buyer)[1][0], 4900)
    else:  # the order stays payable, with the bank's refusal by the card form
        expect(page.locator("#stripe-card-error")).to_contain_text("failed authentication")
        expect(page.locator(".status-line")).to_contain_text("Status: pending")
        assert [p.state for p in order_of(page, buyer)[1]] == ["failed"]


def test_an_incomplete_card_is_refused_on_the_page_and_the_same_attempt_then_pays(page: Any, buyer: Buyer) -> None:
    place_order(page)

    type_card(page, "4242")
    pay(page)

    expect(page.locator("#stripe-card-error")).to_have_text("Your card number is incomplete.")
    type_card(page, CARD_OK)
    pay(page)

    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
    _, payments = order_of(page, buyer)
    assert [p.state for p in payments] == ["confirmed"]


def test_the_rest_of_a_partly_paid_order_is_paid_by_card_for_that_amount(page: Any, buyer: Buyer) -> None:
    order_id = buyer.place(regular=2)
    buyer.pay(order_id, CARD_OK, amount=Decimal("50.00"))
    order = buyer.order(order_id)
    assert order.payment_state == "partially-paid"

    page.goto(f"/e/acme/conf/order/{order.code}/{order.secret}/")
    expect(page.get_by_text("Credit card (Stripe): 48.00 EUR")).to_be_visible()
    type_card(page, CARD_OK)
    pay(page)

    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
    _, payments = order_of(page, buyer)
    assert [(p.amount, p.state) for p in payments] == [(Decimal("50.00"), "confirmed"), (Decimal("48.00"), "confirmed")]
    assert_intent_names(buyer, payments[1], 4800)


def test_with_hosted_checkout_the_buyer_pays_on_stripes_page_and_comes_back_paid(page: Any, buyer: Buyer) -> None:
    with buyer.uow() as s:
        event = s.get(Event, buyer.shop.event_id)
        event.payment_providers = {**event.payment_providers,
                                   "stripe": {**event.payment_providers["stripe"], "hosted-checkout": True}}  # fmt: skip
    place_order(page)
    expect(page.get_by_text("You pay on Stripe's secure payment page")).to_be_visible()
    pay(page)

    expect(page.get_by_role("heading", name="Pay 4900 EUR")).to_be_visible()  # the fake's page, in minor units
    for card in (CARD_DECLINED, CARD_OK):
        for name, value in (("number", card), ("exp_month", "12"), ("exp_year", "2034"), ("cvc", "123")):
            page.get_by_placeholder(name).fill(value)
        page.get_by_role("button", name="Pay").click()
        if card == CARD_DECLINED:
            expect(page.get_by_role("alert")).to_have_text("Your card was declined.")  # Stripe's page: retry there

    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
    _, payments = order_of(page, buyer)
    assert [p.state for p in payments] == ["confirmed"]
    assert payments[0].info["checkout-session"].startswith("cs_test_")
    assert_intent_names(buyer, payments[0], 4900)
