"""The whole back office in Debian's Chromium, through the pages alone: an organizer creates an event,
its products and quotas, tries it in test mode, goes live and sells, builds the team, hands out and
revokes an API token, and cancels the event. Screenshots go where ``test_web_browser`` puts them."""

from __future__ import annotations

import re

import pytest

from web.pagekit import ADMIN, CARD_OK
from web.test_web_browser import chromium, log_in, open_section, server, shot  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def browser_context(chromium, server: str):  # type: ignore[no-untyped-def]  # noqa: F811
    context = chromium.new_context(base_url=server, viewport={"width": 1000, "height": 760}, locale="en-GB")
    yield context
    context.close()


@pytest.fixture
def page(browser_context):  # type: ignore[no-untyped-def]
    tab = browser_context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    return tab


def flash(page):  # type: ignore[no-untyped-def]
    return page.locator("p.flash")


def fits_a_phone(page) -> None:  # type: ignore[no-untyped-def]
    """At 375 px nothing is wider than the screen (no sideways scrolling)."""
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size({"width": 1000, "height": 760})


def event_section(page, name: str) -> None:  # type: ignore[no-untyped-def]
    open_section(page, name)
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_an_organizer_runs_an_event_from_the_first_draft_to_its_cancellation(page, web_shop, run_jobs) -> None:  # type: ignore[no-untyped-def]
    log_in(page)
    page.get_by_role("link", name="acme", exact=True).click()
    expect(page.get_by_role("heading", name="Events of acme")).to_be_visible()

    # A draft event: the address follows the name, the currency comes from the ISO 4217 list.
    page.get_by_label("Name", exact=True).fill("Autumn Gala")
    expect(page.get_by_label("Address in the shop")).to_have_value("autumn-gala")
    page.get_by_label("Currency").select_option("CHF")
    page.get_by_label("Time zone").fill("Europe/Zurich")
    page.get_by_label("Begins").fill("2030-10-10T19:00")
    page.get_by_label("Ends").fill("2030-10-10T23:30")
    page.get_by_label("Place").fill("Kongresshaus, Zürich")
    page.get_by_label("Description").fill("An evening of music and dinner.")
    shot(page, "control-events")
    page.get_by_role("button", name="Create event").click()
    expect(flash(page)).to_contain_text("The event is created as a draft.")
    expect(page.locator("header .life")).to_have_text("draft")

    # Products, with a wrong price first: the error stands next to the field.
    event_section(page, "Products")
    page.get_by_label("Name", exact=True).fill("Standard")
    page.get_by_label(re.compile(r"^Price")).fill("25.005")
    page.get_by_role("button", name="Add product").click()
    expect(page.locator("#price-error")).to_be_visible()
    page.get_by_label(re.compile(r"^Price")).fill("25.00")
    page.get_by_label("Description").fill("A seat in the hall.")
    page.get_by_role("button", name="Add product").click()
    expect(flash(page)).to_have_text("Standard is added.")
    page.get_by_label("Name", exact=True).fill("Balcony")
    page.get_by_label(re.compile(r"^Price")).fill("40.00")
    page.get_by_label("Most per order").fill("2")
    page.get_by_role("button", name="Add product").click()
    page.get_by_role("button", name="Move Balcony up").click()
    expect(page.locator("table tbody tr").first).to_contain_text("Balcony")
    shot(page, "control-products")

    event_section(page, "Quotas")
    page.get_by_label("Name", exact=True).fill("Hall")
    page.get_by_label("Size").fill("3")
    page.get_by_label("Standard").check()
    page.get_by_label("Balcony").check()
    page.get_by_role("button", name="Add quota").click()
    expect(flash(page)).to_have_text("Quota Hall is added.")

    shop = page.context.new_page()
    shop.goto("/e/acme/autumn-gala/")
    expect(shop.get_by_text("Tickets for Autumn Gala are not on sale yet.")).to_be_visible()

    # Test mode: the sandbox may be switched on, a test order is paid with a test card.
    event_section(page, "Event")
    page.get_by_role("button", name="Start test mode").click()
    expect(flash(page)).to_contain_text("Test mode is on")
    event_section(page, "Settings")
    page.locator("#provider-sandbox summary").click()
    page.locator("#sandbox-enabled").check()
    page.get_by_role("button", name="Save Sandbox test card").click()
    expect(flash(page)).to_have_text("Sandbox test card: settings saved.")
    page.locator("#provider-manual summary").click()
    page.locator("#manual-enabled").check()
    page.get_by_role("button", name="Save Manual payment").click()

    shop.goto("/e/acme/autumn-gala/")
    expect(shop.get_by_role("note")).to_contain_text("Test mode — no real money")
    expect(shop.get_by_text("Kongresshaus, Zürich")).to_be_visible()
    expect(shop.get_by_text("A seat in the hall.")).to_be_visible()
    expect(shop.get_by_text("3 left").first).to_be_visible()
    shop.get_by_label("Standard").fill("1")
    shop.get_by_label("E-mail address").fill("tester@example.org")
    shop.get_by_label("Sandbox test card").check()
    shot(shop, "shop-test-mode")
    shop.get_by_role("button", name="Place order").click()
    shop.get_by_label("Card number").fill(CARD_OK)
    shop.get_by_role("button", name="Pay", exact=True).click()
    expect(shop.get_by_role("status")).to_have_text("Thank you! Your payment is confirmed.")

    event_section(page, "Event")
    expect(page.get_by_text("1 test order(s).")).to_be_visible()
    page.get_by_role("button", name="Delete all 1 test orders").click()
    expect(flash(page)).to_have_text("1 test order(s) deleted.")
    page.get_by_role("button", name="Go live").click()
    expect(flash(page)).to_have_text("The event is live: the shop sells real tickets.")
    expect(page.locator("header .life")).to_have_text("live")
    shot(page, "control-event")

    # Live: no sandbox any more; real orders take the seats.
    shop.goto("/e/acme/autumn-gala/")
    expect(shop.get_by_label("Sandbox test card")).to_have_count(0)
    expect(shop.get_by_role("note")).to_have_count(0)
    shop.get_by_label("Standard").fill("2")
    shop.get_by_label("E-mail address").fill("guest@example.org")
    shot(shop, "shop-live")
    fits_a_phone(shop)
    shop.get_by_role("button", name="Place order").click()
    expect(shop.get_by_role("status")).to_contain_text("Your order is placed")
    shop.goto("/e/acme/autumn-gala/")
    expect(shop.get_by_text("1 left").first).to_be_visible()

    event_section(page, "Quotas")
    expect(page.locator("table tbody tr").first).to_contain_text(re.compile(r"Hall\s+3\s+2\s+0\s+1"))
    shot(page, "control-quotas")
    fits_a_phone(page)

    # The team: a staff member sees orders but not settings; a token is shown once, then revoked.
    page.get_by_role("link", name="acme", exact=True).click()
    open_section(page, "Team and API tokens")
    page.get_by_label("E-mail address").fill("door@acme.example")
    page.get_by_label("Role", exact=True).select_option("staff")
    page.get_by_label("First password").fill("door-password")
    page.get_by_role("button", name="Add member").click()
    expect(flash(page)).to_have_text("door@acme.example is in the team as staff.")
    page.get_by_label(re.compile(r"^Name")).fill("door app")
    page.get_by_role("button", name="Create token").click()
    expect(flash(page)).to_contain_text(re.compile(r"shown only once: bxo_\S+"))
    shot(page, "control-team")
    page.get_by_role("button", name="Revoke door app").click()
    expect(flash(page)).to_have_text("API token 'door app' is revoked.")
    expect(page.get_by_text("revoked", exact=False).first).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("E-mail address").fill("door@acme.example")
    page.get_by_label("Password").fill("door-password")
    page.get_by_role("button", name="Log in").click()
    page.goto("/control/acme/autumn-gala/orders/")
    expect(page.get_by_role("link", name=re.compile(r"^[A-Z0-9]{5,}$")).first).to_be_visible()
    expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings")).to_have_count(0)
    page.goto("/control/acme/autumn-gala/settings/")
    expect(page.get_by_text("Only the organizer's admins may do this.")).to_be_visible()

    # The admin cancels the whole event: preview, start, result.
    page.context.clear_cookies()
    page.goto("/control/login?next=/control/acme/autumn-gala/orders/")
    page.get_by_label("E-mail address").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=re.compile(r"^[A-Z0-9]{5,}$")).first.click()
    page.get_by_role("button", name="Mark paid").click()
    expect(flash(page)).to_contain_text("is marked paid")
    event_section(page, "Dashboard")
    expect(page.locator("#sales")).to_contain_text(re.compile(r"Standard\s*2\s*50.00 CHF"))
    shot(page, "control-dashboard-sales")
    event_section(page, "Cancel event")
    expect(page.locator("#cancel-preview")).to_contain_text("1 order(s) will be canceled and 50.00 CHF given back")
    page.get_by_label("Type CANCEL to confirm").fill("CANCEL")
    shot(page, "control-cancel")
    page.get_by_role("button", name="Cancel 1 order(s)").click()
    expect(page.get_by_role("heading", name=re.compile("Cancellation job"))).to_be_visible()
    expect(page.locator("#result")).to_contain_text(re.compile(r"Orders canceled\s*1\s*Refunded automatically\s*0\s*Manual refunds waiting\s*1"))
    shot(page, "control-cancel-result")
