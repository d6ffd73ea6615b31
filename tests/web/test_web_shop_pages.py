"""The buyer's pages over HTTP: shop, checkout, order page, payment, receipt — and their refusals."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, update

from boxoffice.catalogue.models import Quota
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment
from web.pagekit import CARD_ACTION, CARD_DECLINED, code_of, flash_of, text_of


def _orders(uow) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return int(s.execute(select(func.count(Order.id))).scalar_one())


def test_the_shop_lists_products_with_prices_availability_and_each_methods_fee(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Quota).where(Quota.id == web_shop.quota_id).values(used=95))
        s.execute(update(type(web_shop.event)).where(type(web_shop.event).id == web_shop.event_id).values(
            payment_providers={"sandbox": {"enabled": True, "fee-abs": "0.50", "fee-percent": "2"},
                               "manual": {"enabled": True}}))
    page = text_of(pages.get("/e/acme/conf/").text)
    assert "Regular 5 left 49.00 EUR" in page and "Student 5 left 19.00 EUR" in page
    assert "Sandbox test card fee 0.50 EUR + 2 %" in page and "Manual payment no fee" in page

    review = pages.post("/e/acme/conf/", {f"qty-{web_shop.regular_id}": "2", "email": "", "action": "review"})
    shown = text_of(review.text)
    assert review.status_code == 200 and "Subtotal 98.00 EUR" in shown
    assert "Sandbox test card fee 2.46 EUR" in shown  # 0.50 + 2 % of 98.00
    assert _orders(uow) == 0


def test_a_sold_out_product_is_shown_as_sold_out_and_cannot_be_bought(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(Quota).where(Quota.id == web_shop.quota_id).values(used=100))
    shop = pages.get("/e/acme/conf/")
    assert "Sold out" in shop.text and f'name="qty-{web_shop.regular_id}" type="number" value="0" disabled' in shop.text
    refused = pages.post("/e/acme/conf/", {f"qty-{web_shop.regular_id}": "1", "email": "a@b.example",
                                           "provider": "sandbox", "action": "place"})
    assert refused.status_code == 409 and "Not enough tickets left in 'Tickets'" in text_of(refused.text)
    assert _orders(uow) == 0


def test_checkout_mistakes_are_shown_next_to_the_form_and_nothing_is_placed(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    qty = f"qty-{web_shop.regular_id}"
    no_email = pages.post("/e/acme/conf/", {qty: "1", "email": "", "provider": "sandbox", "action": "place"})
    assert no_email.status_code == 422 and 'id="email-error"' in no_email.text
    assert 'aria-invalid="true" aria-describedby="email-error"' in no_email.text
    bad_quantity = pages.post("/e/acme/conf/", {qty: "two", "email": "a@b.example", "provider": "sandbox"})
    assert bad_quantity.status_code == 422 and f'id="{qty}-error"' in bad_quantity.text
    nothing = pages.post("/e/acme/conf/", {qty: "0", "email": "a@b.example", "provider": "sandbox"})
    assert nothing.status_code == 422 and "An order needs at least one ticket." in nothing.text
    no_method = pages.post("/e/acme/conf/", {qty: "1", "email": "a@b.example"})
    assert no_method.status_code == 422 and "Choose how you want to pay." in no_method.text
    assert _orders(uow) == 0


def test_a_method_that_cannot_be_used_for_the_order_places_nothing(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.execute(update(type(web_shop.event)).where(type(web_shop.event).id == web_shop.event_id).values(
            payment_providers={"sandbox": {"enabled": True, "max-total": "50.00"}}))
    refused = pages.post("/e/acme/conf/", {f"qty-{web_shop.regular_id}": "2", "email": "a@b.example",
                                           "provider": "sandbox", "action": "place"})
    assert refused.status_code == 422 and "cannot be used for this order" in refused.text
    assert _orders(uow) == 0


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.get("/e/acme/conf/")
    forged = pages.client.post("/e/acme/conf/", data={f"qty-{web_shop.regular_id}": "1", "email": "a@b.example",
                                                      "provider": "sandbox", "csrf_token": "forged"})
    assert forged.status_code == 403 and "The form has expired" in forged.text
    assert _orders(uow) == 0


def test_buying_two_tickets_and_paying_by_sandbox_card_shows_the_order_paid(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=2)
    order_page = pages.get(path)
    assert "Your order is placed. Please pay now." in text_of(order_page.text)
    assert 'name="pay-sandbox-sandbox"' in order_page.text and "Sandbox test card: 98.00 EUR" in text_of(order_page.text)

    paid = pages.pay_card(path)
    assert paid.status_code == 303 and paid.headers["location"] == path
    shown = pages.get(path)
    assert flash_of(shown) == "Thank you! Your payment is confirmed."
    assert "Status: paid · Payment: paid" in text_of(shown.text) and "Pay now" not in shown.text
    order = load_order(code_of(path))
    assert order.status == "paid" and order.payment_total == Decimal("98.00") and len(order.positions) == 2


def test_a_declined_card_is_shown_with_the_failed_attempt_and_the_buyer_can_retry(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1)
    declined = pages.pay_card(path, CARD_DECLINED)
    assert declined.status_code == 422
    shown = text_of(declined.text)
    assert "Payment declined: Your card was declined." in shown and "failed" in shown
    retried = pages.pay_card(path)
    assert retried.status_code == 303
    order = load_order(code_of(path))
    assert order.status == "paid" and [p.state for p in order.payments] == ["failed", "confirmed"]


def test_a_card_form_mistake_points_at_the_field_and_records_no_attempt(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1)
    refused = pages.pay_card(path, "")
    assert refused.status_code == 422 and 'id="pay-sandbox-sandbox-error"' in refused.text
    assert load_order(code_of(path)).payments == []


def test_a_card_that_requires_action_goes_to_the_confirmation_page_and_back_to_the_order(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1)
    sent = pages.pay_card(path, CARD_ACTION)
    assert sent.status_code == 303 and "/sandbox/confirm/" in sent.headers["location"]
    waiting = pages.get(path)
    assert 'data-poll="' in waiting.text and "confirm the payment with your card issuer" in waiting.text
    confirm_path = "/" + sent.headers["location"].split("/", 3)[3]
    back = pages.client.post(confirm_path, data={"decision": "approve"}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == path
    state = pages.get(path + "state").json()["state"]
    assert state == "paid|paid|confirmed" and load_order(code_of(path)).status == "paid"


def test_bank_transfer_shows_the_reference_and_the_page_waits_for_the_money(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1, provider="banktransfer")
    shown = pages.get(path)
    order = load_order(code_of(path))
    reference = order.payments[0].provider_reference
    assert reference and reference in shown.text and "DE02 1203 0000 0000 2020 51" in shown.text
    assert order.payments[0].state == "pending" and 'data-poll="' in shown.text
    # The buyer may switch to a card while the transfer has not arrived.
    assert pages.pay_card(path).status_code == 303
    assert [p.state for p in load_order(code_of(path)).payments] == ["canceled", "confirmed"]


def test_the_order_page_needs_the_secret_and_reveals_nothing_without_it(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1)
    code = code_of(path)
    assert pages.get(f"/e/acme/conf/order/{code}/wrong-secret/").status_code == 404
    assert pages.get(f"/e/acme/conf/order/{code}/wrong-secret/state").status_code == 404
    assert pages.get(f"/e/acme/fair/order/{code}/x/").status_code == 404
    assert pages.get("/e/acme/nope/").status_code == 404


def test_the_receipt_lists_positions_payments_and_the_balance(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1, student=1)
    pages.pay_card(path)
    receipt = pages.get(path + "receipt")
    shown = text_of(receipt.text)
    assert receipt.status_code == 200 and f'filename="receipt-{code_of(path)}.html"' in receipt.headers["content-disposition"]
    assert "Regular 49.00 EUR" in shown and "Student 19.00 EUR" in shown and "Total 68.00 EUR" in shown
    assert f"{code_of(path)}-P-1 Sandbox test card" in shown


def test_the_state_endpoint_only_reads(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1, provider="banktransfer")
    with uow() as s:
        before = s.execute(select(Payment.state)).scalars().all()
    for _ in range(3):
        assert pages.get(path + "state").json()["state"] == "pending|unpaid|pending"
    with uow() as s:
        assert s.execute(select(Payment.state)).scalars().all() == before


def test_the_stylesheet_and_script_are_served_and_nothing_else(pages) -> None:  # type: ignore[no-untyped-def]
    assert pages.client.get("/static/boxoffice.css").headers["content-type"].startswith("text/css")
    assert pages.client.get("/static/boxoffice.js").status_code == 200
    assert pages.client.get("/static/..%2Fpages.py").status_code == 404
