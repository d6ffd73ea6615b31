"""The back office: events, their life, products, quotas, team and tokens, bulk cancellation — as pages."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from boxoffice.accounts.models import ApiToken
from boxoffice.activity.models import ActivityEntry
from boxoffice.catalogue.models import Event, Product, Quota
from boxoffice.orders.models import Order
from web.pagekit import ADMIN, STAFF, STRANGER, code_of, flash_of, go_live, paid_by_hand, text_of


def _event(uow, slug: str = "conf") -> Event:  # type: ignore[no-untyped-def]
    with uow() as s:
        event = s.execute(select(Event).where(Event.slug == slug)).scalar_one()
        s.expunge(event)
        return event


def test_an_admin_creates_a_draft_event_with_a_real_currency_and_a_derived_slug(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    page = pages.get("/control/acme/")
    assert "conf EUR" in text_of(page.text) and '<option value="JPY"' in page.text
    refused = pages.post("/control/acme/events", {"name": "Summit", "currency": "ABC", "timezone": "Asia/Tokyo"})
    assert refused.status_code == 422
    assert 'id="currency-error"' in refused.text and "not the ISO 4217 code" in text_of(refused.text)
    created = pages.post("/control/acme/events", {
        "name": "Summer Fest 2026", "currency": "JPY", "timezone": "Asia/Tokyo", "date-from": "2026-07-01T18:00",
        "date-to": "2026-07-01T23:00", "location": "Harbour Hall", "description": "Music all night.",
    })
    assert created.status_code == 303 and created.headers["location"] == "/control/acme/summer-fest-2026/event/"
    event = _event(uow, "summer-fest-2026")
    assert (event.live, event.test_mode, event.currency, event.location) == (False, False, "JPY", "Harbour Hall")
    assert event.date_from is not None and event.date_from.isoformat() == "2026-07-01T09:00:00+00:00"
    shop = pages.get("/e/acme/summer-fest-2026/")
    assert "not on sale" in text_of(shop.text) and "Place order" not in shop.text


def test_a_bad_end_date_is_shown_next_to_its_field_and_changes_nothing(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    refused = pages.post("/control/acme/conf/event/", {
        "name": "Renamed", "slug": "conf", "timezone": "UTC", "date-from": "2026-07-02T10:00", "date-to": "2026-07-01T10:00",
    })
    assert refused.status_code == 422 and 'id="date-to-error"' in refused.text
    assert _event(uow).name == "conf EUR"


def test_test_mode_then_going_live_turns_the_sandbox_off_and_deletes_only_test_orders(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    test_order = code_of(pages.place(web_shop, regular=2, provider="sandbox"))
    assert load_order(test_order).test_mode is True
    pages.login()
    life = pages.get("/control/acme/conf/event/")
    assert "1 test order(s)" in text_of(life.text)
    gone = pages.post("/control/acme/conf/event/delete-test-orders", follow=True)
    assert "1 test order(s) deleted." in flash_of(gone)  # type: ignore[operator]
    with uow() as s:
        assert s.execute(select(Order)).first() is None
        assert s.get(Quota, web_shop.quota_id).used == 0  # type: ignore[union-attr]
    live = pages.post("/control/acme/conf/event/life", {"to": "live"}, follow=True)
    assert "The event is live" in flash_of(live)  # type: ignore[operator]
    event = _event(uow)
    assert (event.live, event.test_mode, event.payment_providers["sandbox"]["enabled"]) == (True, False, False)
    shop = pages.get("/e/acme/conf/")
    assert 'value="sandbox"' not in shop.text and "test mode" not in text_of(shop.text).lower()
    real = code_of(pages.place(web_shop, regular=1, provider="banktransfer"))
    assert load_order(real).test_mode is False
    refused = pages.post("/control/acme/conf/settings/providers/sandbox", {"sandbox-enabled": "on"})
    assert refused.status_code == 422 and "test mode" in text_of(refused.text)


def test_products_are_created_reordered_deactivated_and_deleted_only_when_never_sold(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    refused = pages.post("/control/acme/conf/products/", {"name": "VIP", "price": "10.001", "active": "on"})
    assert refused.status_code == 422 and 'id="price-error"' in refused.text
    added = pages.post("/control/acme/conf/products/", {
        "name": "VIP", "price": "99.50", "active": "on", "description": "Front row.", "max-per-order": "2",
        f"quota-{web_shop.quota_id}": "on",
    })
    assert added.status_code == 303
    with uow() as s:
        vip = s.execute(select(Product).where(Product.name == "VIP")).scalar_one()
        vip_id, quota_ids = vip.id, [q.id for q in vip.quotas]
    assert quota_ids == [web_shop.quota_id]
    pages.post(f"/control/acme/conf/products/{vip_id}/move", {"direction": "up"})
    with uow() as s:
        order = [p.name for p in s.execute(select(Product).order_by(Product.position, Product.id)).scalars() if p.event_id == web_shop.event_id]
    assert order == ["Regular", "VIP", "Student"]
    shop = text_of(pages.get("/e/acme/conf/").text)
    assert "Front row." in shop
    too_many = pages.post("/e/acme/conf/", {f"qty-{vip_id}": "3", "email": "b@example.com", "provider": "manual", "action": "place"})
    assert too_many.status_code == 422 and "At most 2 of VIP" in text_of(too_many.text)
    pages.place(web_shop, regular=1, provider="manual")
    sold = pages.post(f"/control/acme/conf/products/{web_shop.regular_id}/delete", follow=True)
    assert "cannot be deleted, only deactivated" in flash_of(sold)  # type: ignore[operator]
    deleted = pages.post(f"/control/acme/conf/products/{vip_id}/delete", follow=True)
    assert flash_of(deleted) == "VIP is deleted."
    with uow() as s:
        assert [e.action for e in s.execute(select(ActivityEntry).order_by(ActivityEntry.id)).scalars()][-1] == "product.deleted"


def test_a_quota_shows_its_seats_and_never_shrinks_below_them(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.place(web_shop, regular=2, provider="manual")
    pages.login()
    listing = text_of(pages.get("/control/acme/conf/quotas/").text)
    assert "Tickets 100 2 0 98 Regular, Student" in listing
    refused = pages.post(f"/control/acme/conf/quotas/{web_shop.quota_id}/", {"name": "Tickets", "size": "1",
                         f"product-{web_shop.regular_id}": "on", f"product-{web_shop.student_id}": "on"})
    assert refused.status_code == 409 and 'id="size-error"' in refused.text
    saved = pages.post(f"/control/acme/conf/quotas/{web_shop.quota_id}/", {"name": "Hall", "size": "5",
                       f"product-{web_shop.regular_id}": "on", f"product-{web_shop.student_id}": "on"})
    assert saved.status_code == 303
    with uow() as s:
        quota = s.get(Quota, web_shop.quota_id)
        assert quota is not None and (quota.name, quota.size, quota.used) == ("Hall", 5, 2)
        entry = s.execute(select(ActivityEntry).where(ActivityEntry.action == "quota.changed")).scalar_one()
        assert entry.actor == f"user:{ADMIN[0]}"
        assert entry.data == {"before": {"name": "Tickets", "size": 100}, "after": {"name": "Hall", "size": 5}}


def test_a_staff_member_sees_orders_but_gets_403_on_settings_and_a_stranger_404(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login(ADMIN)
    added = pages.post("/control/acme/team/members", {"email": "door@acme.example", "role": "staff", "password": "door-password"})
    assert added.status_code == 303
    pages.post("/control/logout")
    pages.login(("door@acme.example", "door-password"))
    assert pages.get("/control/acme/conf/orders/").status_code == 200
    dashboard = pages.get("/control/acme/conf/")
    assert "Products" not in text_of(dashboard.text) and "Settings" not in text_of(dashboard.text)
    for path in ("settings/", "products/", "quotas/", "event/", "cancel/"):
        refused = pages.get(f"/control/acme/conf/{path}")
        assert refused.status_code == 403 and "Only the organizer's admins may do this." in text_of(refused.text)
    assert pages.get("/control/acme/team/").status_code == 403
    pages.post("/control/logout")
    pages.login(STRANGER)
    for path in ("/control/acme/", "/control/acme/team/", "/control/acme/conf/products/", f"/control/acme/conf/products/{web_shop.regular_id}/"):
        assert pages.get(path).status_code == 404
    assert pages.get(f"/control/other/fair/products/{web_shop.regular_id}/").status_code == 404


def test_an_api_token_is_shown_once_works_and_stops_working_when_revoked(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    created = pages.post("/control/acme/team/tokens", {"name": "door app", "role": "staff"}, follow=True)
    token = re.search(r"(bxo_[A-Za-z0-9_-]+)", flash_of(created) or "")
    assert token is not None
    assert token.group(1) not in pages.get("/control/acme/team/").text
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    assert pages.client.get(f"/v1/events/{web_shop.event_id}", headers=headers).status_code == 200
    with uow() as s:
        token_id = s.execute(select(ApiToken.id).where(ApiToken.name == "door app")).scalar_one()
    pages.post(f"/control/acme/team/tokens/{token_id}/revoke")
    assert pages.client.get(f"/v1/events/{web_shop.event_id}", headers=headers).status_code == 401


def test_the_last_admin_cannot_be_removed(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    team = pages.get("/control/acme/team/")
    ids = re.findall(r"/control/acme/team/members/(\d+)/remove", team.text)
    removed = pages.post(f"/control/acme/team/members/{ids[1]}/remove", follow=True)
    assert flash_of(removed) == f"{STAFF[0]} is no longer in the team."
    refused = pages.post(f"/control/acme/team/members/{ids[0]}/remove", follow=True)
    assert "The last admin of a team cannot be removed." in flash_of(refused)  # type: ignore[operator]


def test_cloning_copies_the_catalogue_but_no_orders(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.place(web_shop, regular=1, provider="manual")
    pages.login()
    cloned = pages.post("/control/acme/conf/event/clone", {"name": "Conf 2027", "slug": "conf-2027"})
    assert cloned.status_code == 303
    with uow() as s:
        copy = s.execute(select(Event).where(Event.slug == "conf-2027")).scalar_one()
        products = s.execute(select(Product).where(Product.event_id == copy.id)).scalars().all()
        quotas = s.execute(select(Quota).where(Quota.event_id == copy.id)).scalars().all()
        assert (copy.live, copy.test_mode) == (False, True)
        assert sorted(p.name for p in products) == ["Regular", "Student"]
        assert [(q.size, q.used, len(q.products)) for q in quotas] == [(100, 0, 2)]
        assert s.execute(select(Order).where(Order.event_id == copy.id)).first() is None


def test_the_cancel_page_previews_the_money_and_runs_the_job(pages, web_shop, run_jobs) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1, provider="sandbox")
    pages.pay_card(path)
    pages.place(web_shop, regular=1, provider="manual")
    pages.login()
    preview = text_of(pages.get("/control/acme/conf/cancel/?cancellation-fee=9.00&refund=on").text)
    assert "2 order(s) will be canceled and 40.00 EUR given back" in preview
    refused = pages.post("/control/acme/conf/cancel/", {"refund": "on", "confirm": "no"})
    assert refused.status_code == 422 and 'id="confirm-error"' in refused.text
    started = pages.post("/control/acme/conf/cancel/", {"cancellation-fee": "9.00", "refund": "on", "confirm": "CANCEL"}, follow=True)
    shown = text_of(started.text)
    assert "Orders canceled 2" in shown and "Refunded automatically 1" in shown


def test_the_dashboard_shows_sales_per_product_and_quota_fill_without_test_orders(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.pay_card(pages.place(web_shop, regular=2, provider="sandbox"))  # a test order, paid
    go_live(uow, web_shop)
    real = code_of(pages.place(web_shop, regular=1, student=1, provider="manual"))
    with uow() as s:
        order_id = s.execute(select(Order.id).where(Order.code == real)).scalar_one()
    paid_by_hand(uow, order_id)
    pages.login()
    shown = text_of(pages.get("/control/acme/conf/").text)
    assert "Regular 1 49.00 EUR" in shown and "Student 1 19.00 EUR" in shown and "Total 2 68.00 EUR" in shown
    # Seats are counted as taken, test orders included, until the test orders are deleted.
    assert "Tickets: 4 paid, 0 held by pending orders, 96 of 100 left" in shown
    assert "Orders placed: 68.00 EUR" in pages.get("/control/acme/conf/").text


def test_every_back_office_form_refuses_a_post_without_its_csrf_token(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    for path in ("/control/acme/events", "/control/acme/team/tokens", "/control/acme/conf/products/",
                 "/control/acme/conf/quotas/", "/control/acme/conf/event/life", "/control/acme/conf/cancel/"):
        forged = pages.client.post(path, data={"name": "x", "to": "live", "confirm": "CANCEL"}, follow_redirects=False)
        assert forged.status_code == 403, path


def test_the_shop_shows_sold_out_a_few_left_and_the_sale_window(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from boxoffice.catalogue.service import create_product
    from boxoffice.kit.clock import now

    with uow() as s:
        event = s.get(Event, web_shop.event_id)
        s.get(Quota, web_shop.quota_id).size = 3  # type: ignore[union-attr]
        create_product(s, event, name="Early bird", price=Decimal("9.00"),  # type: ignore[arg-type]
                       details={"available_until": now() - timedelta(days=1)})
        create_product(s, event, name="Late owl", price=Decimal("9.00"),  # type: ignore[arg-type]
                       details={"available_from": now() + timedelta(days=1)})
    shop = pages.get("/e/acme/conf/")
    shown = text_of(shop.text)
    assert "Regular 3 left" in shown and "Sale ended" in shown and "On sale from" in shown
    pages.place(web_shop, regular=3, provider="manual")
    assert "Regular Sold out" in text_of(pages.get("/e/acme/conf/").text)


def test_staff_see_the_events_but_not_the_form_that_creates_one(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login(STAFF)
    page = pages.get("/control/acme/")
    assert page.status_code == 200 and "conf EUR" in text_of(page.text) and "Create an event" not in page.text
    assert pages.post("/control/acme/events", {"name": "Sneaky", "currency": "EUR"}).status_code == 403
