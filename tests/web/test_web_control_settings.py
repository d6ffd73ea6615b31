"""Event settings, webhooks, the shredder and bank transfers in the control panel, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from boxoffice.catalogue.models import Event
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments.checkout import pay
from boxoffice.webhooks.models import WebhookDelivery, WebhookEndpoint
from web.pagekit import Entry, flash_of, statement_csv, text_of

SETTINGS = "/control/acme/conf/settings/"


def _event(uow, event_id: int) -> Event:  # type: ignore[no-untyped-def]
    with uow() as s:
        event = s.get(Event, event_id)
        assert event is not None
        return event


def test_a_providers_settings_form_is_generated_from_its_schema_and_saves(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    page = pages.get(SETTINGS)
    for field in ("sandbox-enabled", "sandbox-fee-abs", "sandbox-restricted-countries", "manual-instructions",
                  "banktransfer-iban", "banktransfer-reference-prefix"):
        assert f'id="{field}"' in page.text
    saved = pages.post(SETTINGS + "providers/sandbox", {
        "sandbox-enabled": "on", "sandbox-fee-abs": "0.30", "sandbox-fee-percent": "1.5",
        "sandbox-restricted-countries": "us, ca", "sandbox-public-name": "Card",
    })
    assert saved.status_code == 303 and flash_of(pages.get(saved.headers["location"])) == "Sandbox test card: settings saved."
    stored = _event(uow, web_shop.event_id).payment_providers["sandbox"]
    assert stored["fee-abs"] == "0.30" and stored["fee-percent"] == "1.5"
    assert stored["restricted-countries"] == ["CA", "US"] and stored["public-name"] == "Card"
    turned_off = pages.post(SETTINGS + "providers/manual", {"manual-instructions": "Pay at the door."})
    assert turned_off.status_code == 303
    assert _event(uow, web_shop.event_id).payment_providers["manual"]["enabled"] is False


def test_an_invalid_setting_is_shown_at_its_field_and_nothing_is_saved(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    before = _event(uow, web_shop.event_id).payment_providers
    refused = pages.post(SETTINGS + "providers/sandbox", {"sandbox-enabled": "on", "sandbox-fee-abs": "0.001"})
    assert refused.status_code == 422 and 'id="fee-abs-error"' in refused.text
    assert "sandbox:" in text_of(refused.text)
    no_account = pages.post(SETTINGS + "providers/banktransfer", {"banktransfer-enabled": "on", "banktransfer-iban": "XX00"})
    assert no_account.status_code == 422 and 'id="iban-error"' in no_account.text
    assert _event(uow, web_shop.event_id).payment_providers == before
    assert pages.post(SETTINGS + "providers/free", {}).status_code == 404


def test_expiry_and_late_payment_policies_are_saved_and_checked(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    saved = pages.post(SETTINGS + "policies", {
        "expiry-days": "5", "expiry-skip-weekends": "on", "last-payment-date": "2031-05-01T18:00",
        "expiry-reminder-hours": "12", "late-payment-policy": "refund", "change-underpaid-policy": "keep-paid",
    })
    assert saved.status_code == 303
    settings = _event(uow, web_shop.event_id).settings
    assert settings == {
        "expiry-days": 5, "expiry-skip-weekends": True, "last-payment-date": "2031-05-01T18:00:00+00:00",
        "expiry-reminder-hours": 12, "late-payment-policy": "refund", "change-underpaid-policy": "keep-paid",
    }
    page = pages.get(SETTINGS)
    assert 'value="2031-05-01T18:00"' in page.text and '<option value="refund" selected>' in page.text
    for bad in ({"expiry-minutes": "0"}, {"late-payment-policy": "keep"}, {"expiry-reminder-hours": "9999"},
                {"last-payment-date": "May 1st"}, {"change-underpaid-policy": "forgive"}):
        refused = pages.post(SETTINGS + "policies", bad)
        assert refused.status_code == 422, bad
    assert _event(uow, web_shop.event_id).settings == settings


def test_webhooks_are_added_with_their_secret_shown_once_and_their_deliveries_listed(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    added = pages.post("/control/acme/conf/webhooks/", {
        "url": "https://hooks.example.com/boxoffice", "type-order.paid": "on", "type-refund.done": "on",
    })
    assert added.status_code == 303
    message = flash_of(pages.get(added.headers["location"])) or ""
    with uow() as s:
        endpoint = s.query(WebhookEndpoint).one()
        endpoint_id, secret = endpoint.id, endpoint.secret
    assert message.endswith(secret) and endpoint.event_types == ["order.paid", "refund.done"]
    assert secret not in pages.get("/control/acme/conf/webhooks/").text

    with uow() as s:
        order = orders.place_order(s, web_shop.event_id, email="a@b.example", items=[LineItem(web_shop.regular_id, 1)],
                                   actor="buyer")
        order_id = order.id
    pay(order_id, provider="sandbox", actor="buyer", form_data={"sandbox": "4242424242424242"}, uow=uow)
    log = pages.get(f"/control/acme/conf/webhooks/{endpoint_id}/")
    assert "order.paid" in text_of(log.text)
    with uow() as s:
        delivery_id = s.query(WebhookDelivery.id).scalar()
    again = pages.post(f"/control/acme/conf/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
    assert flash_of(pages.get(again.headers["location"])) == f"Delivery {delivery_id} is queued to be sent again."

    off = pages.post(f"/control/acme/conf/webhooks/{endpoint_id}/toggle")
    assert flash_of(pages.get(off.headers["location"])).endswith("is disabled.")  # type: ignore[union-attr]


def test_a_webhook_with_a_bad_url_or_no_events_is_refused(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    bad_url = pages.post("/control/acme/conf/webhooks/", {"url": "ftp://x", "type-order.paid": "on"})
    assert bad_url.status_code == 422 and 'id="url-error"' in bad_url.text
    no_types = pages.post("/control/acme/conf/webhooks/", {"url": "https://hooks.example.com/"})
    assert no_types.status_code == 422 and "Subscribe to at least one event type." in no_types.text
    with uow() as s:
        assert s.query(WebhookEndpoint).count() == 0
    assert pages.get("/control/acme/conf/webhooks/999/").status_code == 404


def test_the_shredder_refuses_before_the_event_ended_and_runs_as_a_job_when_forced(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        s.get(Event, web_shop.event_id).date_from = now() + timedelta(days=30)  # type: ignore[union-attr]
    pages.login()
    page = text_of(pages.get("/control/acme/conf/shredder/").text)
    assert "has not ended" in page
    assert "Orders 0" in text_of(pages.get("/control/acme/conf/shredder/?force=on").text)
    wrong = pages.post("/control/acme/conf/shredder/", {"confirm": "conference", "force": "on"})
    assert wrong.status_code == 422 and "Type the event's short name 'conf'" in text_of(wrong.text)
    refused = pages.post("/control/acme/conf/shredder/", {"confirm": "conf"})
    assert refused.status_code == 409
    started = pages.post("/control/acme/conf/shredder/", {"confirm": "conf", "force": "on", "include_orders": "on"})
    assert started.status_code == 303 and "Job " in text_of(pages.get(started.headers["location"]).text)
    download = pages.get("/control/acme/conf/shredder/download?include_orders=on")
    assert download.headers["content-type"] == "application/zip" and download.content[:2] == b"PK"


def test_a_bank_statement_upload_pays_the_order_and_unmatched_lines_are_assigned(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        first = orders.place_order(s, web_shop.event_id, email="a@b.example", items=[LineItem(web_shop.regular_id, 1)],
                                   actor="buyer")
        second = orders.place_order(s, web_shop.event_id, email="c@d.example", items=[LineItem(web_shop.student_id, 1)],
                                    actor="buyer")
        ids = (first.id, first.code), (second.id, second.code)
    pay(ids[0][0], provider="banktransfer", actor="buyer", uow=uow)
    reference = load_order(ids[0][1]).payments[0].provider_reference
    pages.login()
    statement = statement_csv(Entry("49.00", f"Tickets {reference}"), Entry("19.00", "for my friend"),
                              Entry("-4.90", "Kontofuehrung"))
    uploaded = pages.client.post("/control/acme/conf/bank/import", data={"csrf_token": pages.token()},
                                 files={"statement": ("statement.csv", statement, "text/csv")}, follow_redirects=False)
    assert uploaded.status_code == 303
    assert flash_of(pages.get(uploaded.headers["location"])) == "Imported statement.csv: 3 lines (1 matched, 2 no-match)."
    assert load_order(ids[0][1]).status == "paid"

    waiting = pages.get("/control/acme/conf/bank/")
    assert "2 lines." in text_of(waiting.text)
    line_ids = [int(x) for x in __import__("re").findall(r'/bank/(\d+)/assign', waiting.text)]
    wrong = pages.post(f"/control/acme/conf/bank/{line_ids[0]}/assign", {"order": "ZZZZZ"})
    assert wrong.status_code == 422 and "There is no order ZZZZZ in this event." in text_of(wrong.text)
    assigned = pages.post(f"/control/acme/conf/bank/{line_ids[0]}/assign", {"order": ids[1][1].lower()})
    assert flash_of(pages.get(assigned.headers["location"])) == f"The line is booked on order {ids[1][1]}."
    assert load_order(ids[1][1]).status == "paid"
    discarded = pages.post(f"/control/acme/conf/bank/{line_ids[1]}/discard")
    assert discarded.status_code == 303 and "0 lines." in text_of(pages.get("/control/acme/conf/bank/").text)
    assert load_order(ids[0][1]).payment_total == Decimal("49.00")

    again = pages.client.post("/control/acme/conf/bank/import", data={"csrf_token": pages.token()},
                              files={"statement": ("statement.csv", statement, "text/csv")}, follow_redirects=False)
    assert "3 already-imported" in (flash_of(pages.get(again.headers["location"])) or "")
    assert load_order(ids[0][1]).payment_total == Decimal("49.00")


def test_an_upload_without_a_file_or_with_an_unreadable_one_imports_nothing(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    missing = pages.post("/control/acme/conf/bank/import", {})
    assert missing.status_code == 422 and "Choose the statement file" in missing.text
    garbage = pages.client.post("/control/acme/conf/bank/import", data={"csrf_token": pages.token()},
                                files={"statement": ("x.csv", b"hello;world\n1;2\n", "text/csv")}, follow_redirects=False)
    assert "could not be imported" in (flash_of(pages.get(garbage.headers["location"])) or "")


def test_the_import_form_takes_the_columns_of_an_unrecognised_csv(pages, web_shop, uow, load_order) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(s, web_shop.event_id, email="a@b.example", items=[LineItem(web_shop.regular_id, 1)],
                                   actor="buyer")
        order_id, code = order.id, order.code
    pay(order_id, provider="banktransfer", actor="buyer", uow=uow)
    reference = load_order(code).payments[0].provider_reference
    own = f"When;Text;Money\n08.03.2024;Tickets {reference};49,00\n".encode()
    pages.login()
    form = pages.get("/control/acme/conf/bank/").text
    assert 'name="column-booked-on"' in form and 'name="column-remittance"' in form
    plain = pages.client.post("/control/acme/conf/bank/import", data={"csrf_token": pages.token()},
                              files={"statement": ("own.csv", own, "text/csv")}, follow_redirects=False)
    assert "could not be imported" in (flash_of(pages.get(plain.headers["location"])) or "")
    mapped = pages.client.post(
        "/control/acme/conf/bank/import",
        data={"csrf_token": pages.token(), "column-booked-on": "When", "column-remittance": "Text",
              "column-amount": "2", "date-format": "%d.%m.%Y", "decimal-comma": "1"},
        files={"statement": ("own.csv", own, "text/csv")}, follow_redirects=False,
    )  # fmt: skip
    assert flash_of(pages.get(mapped.headers["location"])) == "Imported own.csv: 1 lines (1 matched)."
    assert load_order(code).status == "paid"
    wrong = pages.client.post("/control/acme/conf/bank/import",
                              data={"csrf_token": pages.token(), "column-booked-on": "When"},
                              files={"statement": ("own.csv", own, "text/csv")})
    assert wrong.status_code == 422 and "amount" in text_of(wrong.text)
