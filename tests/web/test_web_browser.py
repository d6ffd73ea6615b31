"""The pages in Debian's Chromium, driven by Playwright against a real server on a loopback port.

Each flow is what a buyer or an organizer does with the mouse and keyboard; the screenshots of the
pages are saved to ``test-artifacts/screenshots/`` on every run, and to ``docs/screenshots/`` (the
ones the README shows) with ``BOXOFFICE_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from boxoffice.app import create_app
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.payments.checkout import pay
from components import chromium_path
from fakes.servers import serve_asgi
from web.pagekit import ADMIN, CARD_OK, Entry, go_live, paid_by_hand, statement_csv

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

_ROOT = Path(__file__).resolve().parents[2]
# A normal run must not rewrite the committed pictures; refreshing them is a deliberate act.
SCREENSHOTS = (
    _ROOT / "docs" / "screenshots"
    if os.environ.get("BOXOFFICE_UPDATE_SCREENSHOTS") == "1"
    else _ROOT / "test-artifacts" / "screenshots"
)
MAX_SHOT_HEIGHT = 1300
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    path = chromium_path()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(database_url: str, web_shop) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``boxoffice serve`` as it runs: uvicorn serving ``create_app()`` on a free loopback port."""
    with serve_asgi(create_app()) as url:
        yield url


@pytest.fixture
def page(chromium, server: str):  # type: ignore[no-untyped-def]
    context = chromium.new_context(base_url=server, viewport={"width": 1000, "height": 760}, locale="en-GB")
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" of money-moving buttons
    # Every flow also proves the pages work under their Content-Security-Policy: nothing is refused.
    refused: list[str] = []
    tab.on("console", lambda message: refused.append(f"{tab.url}: {message.text}") if "Content Security Policy" in message.text else None)
    yield tab
    context.close()
    assert refused == []


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save the page as ``<SCREENSHOTS>/<name>.png``; long pages are cut to keep the files small."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT)
    clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, clip=clip)


def log_in(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/control/")
    expect(page.get_by_role("heading", name="Log in to the control panel")).to_be_visible()
    page.get_by_label("E-mail address").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    shot(page, "control-login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def open_section(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name, exact=True).click()


def paid_order(uow, shop, regular: int = 2) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(s, shop.event_id, email="maria@example.org",
                                   items=[LineItem(shop.regular_id, regular)], actor="buyer")
        order_id, code = order.id, order.code
    pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": CARD_OK}, uow=uow)
    return order_id, code


def test_buy_two_tickets_pay_by_sandbox_card_and_see_the_order_paid(page, web_shop) -> None:  # type: ignore[no-untyped-def]
    page.goto("/e/acme/conf/")
    page.get_by_label("Regular").fill("2")
    page.get_by_label("E-mail address").fill("maria@example.org")
    page.get_by_label("Sandbox test card").check()
    page.get_by_role("button", name="Update totals").click()
    expect(page.get_by_text("Subtotal")).to_be_visible()
    shot(page, "shop")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name="Pay now")).to_be_visible()
    expect(page.get_by_text("Sandbox test card: 98.00 EUR")).to_be_visible()
    page.get_by_label("Card number").fill(CARD_OK)
    shot(page, "order-pay")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("Thank you! Your payment is confirmed.")
    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")
    expect(page.locator(".attempts li")).to_contain_text(re.compile(r"-P-1\s+Sandbox test card · 98.00 EUR · confirmed"))
    shot(page, "order-paid")
    page.goto(page.url + "receipt")
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    shot(page, "receipt")


def test_pay_by_bank_transfer_import_the_statement_and_the_order_is_paid(page, web_shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page.goto("/e/acme/conf/")
    page.get_by_label("Regular").fill("1")
    page.get_by_label("E-mail address").fill("erika@example.org")
    page.get_by_label("Bank transfer").check()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Please transfer")).to_be_visible()
    order_url = page.url
    reference = page.locator(".bank-transfer code").inner_text()
    assert reference.startswith("CONF-")
    shot(page, "order-bank-transfer")

    statement = tmp_path / "statement.csv"
    statement.write_bytes(statement_csv(Entry("49.00", f"Ticket {reference}"), Entry("-4.90", "Kontofuehrung")))
    log_in(page)
    open_section(page, "Bank transfers")
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported statement.csv: 2 lines (1 matched, 1 no-match).")
    expect(page.get_by_text("Kontofuehrung")).to_be_visible()
    shot(page, "control-bank")
    open_section(page, "Dashboard")
    expect(page.locator('[data-warning="unmatched"] .count')).to_have_text("1")
    shot(page, "control-dashboard")

    page.goto(order_url)
    expect(page.locator(".status-line")).to_contain_text("Status: paid · Payment: paid")


def test_a_partial_refund_from_the_order_detail_shows_in_the_balance(page, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    _, code = paid_order(uow, web_shop)
    log_in(page)
    open_section(page, "Orders")
    shot(page, "control-orders")
    page.get_by_role("link", name=code).click()
    expect(page.locator('[data-balance="paid"]')).to_have_text("98.00 EUR")

    page.get_by_label(re.compile("Amount to give back")).fill("20.00")
    page.get_by_role("button", name="Show proposed split").click()
    expect(page.get_by_role("table", name="Proposed refund split")).to_contain_text(f"{code}-P-1")
    page.get_by_label(re.compile(r"^Amount \(EUR\)")).fill("20.00")
    page.get_by_role("button", name="Refund", exact=True).click()

    expect(page.get_by_role("status")).to_have_text(f"Refund of 20.00 EUR: {code}-R-1 (done).")
    expect(page.locator('[data-balance="refunded"]')).to_have_text("20.00 EUR")
    expect(page.locator('[data-balance="pending"]')).to_have_text("20.00 EUR")
    shot(page, "control-order-refunded")


def test_an_external_refund_accepted_leaves_the_order_as_chosen(page, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    go_live(uow, web_shop)  # a real order: the dashboard's warnings leave test orders out
    with uow() as s:
        order = orders.place_order(s, web_shop.event_id, email="maria@example.org",
                                   items=[LineItem(web_shop.regular_id, 1)], actor="buyer")
        order_id, code = order.id, order.code
    paid_by_hand(uow, order_id)
    with uow() as s:
        payments.create_external_refund(s, order_id, amount=Decimal("49.00"), actor="provider:manual",
                                        provider="manual", comment="dispute lost")
    log_in(page)
    expect(page.locator('[data-warning="open-refunds"] .count')).to_have_text("1")
    page.locator('[data-warning="open-refunds"] a').click()
    page.get_by_role("link", name=code).click()
    expect(page.get_by_text("This money went back outside boxoffice.")).to_be_visible()
    page.get_by_label("keep the order; the buyer pays again (pending)").check()
    shot(page, "control-order-external-refund")
    page.get_by_role("button", name="Accept external refund").click()

    expect(page.get_by_role("status")).to_have_text(f"External refund {code}-R-1 accepted; the order is pending.")
    expect(page.locator(".status-line")).to_contain_text("pending")
    expect(page.locator('[data-balance="pending"]')).to_have_text("49.00 EUR")

    for section, name in (("Settings", "control-settings"), ("Webhooks", "control-webhooks"),
                          ("Data shredder", "control-shredder")):
        open_section(page, section)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shot(page, name)
