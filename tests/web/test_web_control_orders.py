"""The organizer's dashboard, orders list and order detail over HTTP."""

from __future__ import annotations

from decimal import Decimal

from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import begin_payment, pay
from boxoffice.providers.banktransfer.importing import run_import, start_import
from web.pagekit import CARD_OK, Entry, go_live, paid_by_hand, statement_csv, text_of

ACTOR = "user:admin@acme.example"


def _order(uow, shop, *, regular: int = 1, email: str = "buyer@example.com") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(s, shop.event_id, email=email, items=[LineItem(shop.regular_id, regular)],
                                   actor="buyer")
        return order.id, order.code


def _paid(uow, shop, **kwargs) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    order_id, code = _order(uow, shop, **kwargs)
    pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": CARD_OK}, uow=uow)
    return order_id, code


def _record(uow, order_id: int, amount: str) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        payment = begin_payment(s, order_id, provider="manual", actor=ACTOR, amount=Decimal(amount), allow_settled=True)
        payments.confirm_payment(s, payment.id, actor=ACTOR)


def test_the_dashboard_counts_what_needs_attention_and_links_to_it(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    # The dashboard leaves test-mode orders out (issue #13): these are real orders of a live event.
    go_live(uow, web_shop)
    overpaid_id, _ = _order(uow, web_shop)
    paid_by_hand(uow, overpaid_id)
    _record(uow, overpaid_id, "10.00")
    refunded_id, _ = _order(uow, web_shop)
    paid_by_hand(uow, refunded_id)
    with uow() as s:
        payments.create_external_refund(s, refunded_id, amount=Decimal("49.00"), actor="provider:manual", provider="manual")
        bank_import = start_import(s, web_shop.event_id, filename="s.csv", actor=ACTOR, background=False,
                                   content=statement_csv(Entry("12.00", "no reference here")))
    run_import(bank_import.id)
    pages.login()
    page = pages.get("/control/acme/conf/")
    shown = text_of(page.text)
    assert "1 Overpaid orders" in shown and "1 Open refunds (created, transit, external)" in shown
    assert "1 Unmatched bank transfers" in shown and "0 Stuck payments and refunds" in shown
    assert 'href="/control/acme/conf/orders/?payment_state=overpaid"' in page.text
    assert '<svg role="img" aria-label="' in page.text and 'class="pygal-chart"' in page.text
    # The chart's label sums it up for screen readers: two payments and the extra 10.00.
    assert "Orders placed: 98.00 EUR; Payments received: 108.00 EUR; Refunds done: 0.00 EUR" in page.text


def test_the_orders_list_filters_like_the_api_and_pages_through_results(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        for number in range(55):
            orders.place_order(s, web_shop.event_id, email=f"bulk{number}@example.com",
                               items=[LineItem(web_shop.student_id, 1)], actor="buyer")
    _, paid_code = _paid(uow, web_shop, email="maria@example.org")
    pages.login()
    first = text_of(pages.get("/control/acme/conf/orders/").text)
    assert "56 orders." in first and "Page 1 of 2" in first
    second = pages.get("/control/acme/conf/orders/?status=pending&page=2")
    assert "Page 2 of 2" in text_of(second.text) and 'rel="prev"' in second.text and "status=pending" in second.text
    paid = text_of(pages.get("/control/acme/conf/orders/?payment_state=paid").text)
    assert "1 order." in paid and paid_code in paid
    assert paid_code in text_of(pages.get("/control/acme/conf/orders/?q=MARIA").text)
    assert paid_code in text_of(pages.get(f"/control/acme/conf/orders/?q={paid_code.lower()}").text)
    assert "0 orders." in text_of(pages.get("/control/acme/conf/orders/?open_refund=on").text)
    assert "0 orders." in text_of(pages.get("/control/acme/conf/orders/?q=%25").text)


def test_the_order_detail_shows_positions_balance_attempts_and_the_timeline(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    _, code = _paid(uow, web_shop, regular=2)
    pages.login()
    detail = pages.get(f"/control/acme/conf/orders/{code}/")
    shown = text_of(detail.text)
    assert 'data-balance="total">98.00 EUR' in detail.text and 'data-balance="paid">98.00 EUR' in detail.text
    assert f"{code}-P-1 Sandbox test card · 98.00 EUR · confirmed" in shown
    assert "card-last4" in shown  # the provider's own words about the attempt
    for action in ("order.placed", "payment.created", "payment.confirmed", "order.paid"):
        assert action in shown
    assert pages.get("/control/acme/conf/orders/NOPE1/").status_code == 404
