"""The bank transfer provider: the organizer's account as settings, a stable reference per order, what
the buyer and the organizer see, and what shredding leaves behind."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from boxoffice.catalogue.models import Event
from boxoffice.errors import InvalidValue
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment
from boxoffice.providers.banktransfer import service
from boxoffice.providers.banktransfer.provider import BankTransferProvider
from boxoffice.providers.banktransfer.references import is_valid_reference
from boxoffice.providers.base import CheckoutContext
from boxoffice.providers.registry import provider_for, validate_payment_providers

D = Decimal
POINTER = "/data/attributes/payment-providers/banktransfer"


def test_settings_store_the_account_in_electronic_form() -> None:
    stored = validate_payment_providers(
        {"banktransfer": {"enabled": True, "bank-account-holder": " Demo GmbH ", "iban": "de02 1203 0000 0000 2020 51",
                          "bic": "byladem1001", "reference-prefix": "demo"}},
        currency="EUR",
    )["banktransfer"]  # fmt: skip
    assert (stored["bank-account-holder"], stored["iban"], stored["bic"]) == (
        "Demo GmbH",
        "DE02120300000000202051",
        "BYLADEM1001",
    )
    assert stored["reference-prefix"] == "DEMO"


@pytest.mark.parametrize(
    ("settings", "member", "words"),
    [
        ({"iban": "DE02120300000000202052"}, "iban", "check digits do not match"),
        ({"bic": "DEMO"}, "bic", "is not a BIC"),
        ({"reference-prefix": "DEMO-CONF"}, "reference-prefix", "1 to 6 letters"),
        ({"bank-account-holder": "x" * 71}, "bank-account-holder", "at most 70"),
    ],
)
def test_wrong_settings_are_refused_naming_the_member(settings, member, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue) as caught:
        BankTransferProvider.validate_settings(settings, currency="EUR")
    assert caught.value.pointer == f"{POINTER}/{member}"
    assert words in caught.value.detail


def test_an_incomplete_account_may_be_saved_while_the_organizer_gathers_it() -> None:
    assert BankTransferProvider.validate_settings({"enabled": True}, currency="EUR")["iban"] is None


def test_without_an_account_bank_transfer_is_not_offered(uow, shop) -> None:  # type: ignore[no-untyped-def]
    # ``shop`` enables bank transfer with no account at all (as stored before the account was set).
    with uow() as s:
        event = s.get(Event, shop.event_id)
        plugin = provider_for(event, "banktransfer", s)
        order = Order(event_id=event.id, total=D("49.00"), fees=[])
        assert plugin.settings.enabled and not plugin.is_allowed(order, CheckoutContext(now=now()))


def test_paying_by_transfer_leaves_the_attempt_pending_with_the_orders_reference(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    code = bank.order_row(order_id).code
    assert reference.startswith(f"DEMOCO-{code}") and is_valid_reference(reference)
    with bank.uow() as s:
        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        plugin = provider_for(payment.order.event, "banktransfer", s)
        assert (payment.state, payment.info["reference"], plugin.matching_id(payment)) == (
            "pending",
            reference,
            reference,
        )
        details = plugin.api_payment_details(payment)
    assert details == {
        "reference": reference,
        "bank-account-holder": "Demo Konferenz GmbH",
        "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001",
        "bank-name": "Demo Bank",
    }


def test_the_reference_given_to_a_buyer_never_changes_and_still_matches_after_a_new_prefix(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    with bank.uow() as s:
        event = s.get(Event, bank.shop.event_id)
        settings = dict(event.payment_providers["banktransfer"])
        event.payment_providers = {**event.payment_providers, "banktransfer": {**settings, "reference-prefix": "NEW"}}
    # A second attempt of the same order shows the buyer the same reference as before …
    with bank.uow() as s:
        s.execute(update(Payment).where(Payment.order_id == order_id).values(state="canceled"))
    assert bank.choose_transfer(order_id) == reference
    # … a new order gets the new prefix, and a transfer written without separators under the old
    # prefix is still found.
    assert bank.choose_transfer(bank.order()).startswith("NEW-")
    report = bank.import_file(bank.csv(bank.entry("49.00", "Ticket " + reference.replace("-", ""))))
    assert report.counts == {"matched": 1}
    assert bank.order_row(order_id).status == "paid"


def test_the_pending_page_shows_the_account_amount_and_reference_escaped(bank) -> None:  # type: ignore[no-untyped-def]
    with bank.uow() as s:
        event = s.get(Event, bank.shop.event_id)
        settings = dict(event.payment_providers["banktransfer"])
        event.payment_providers = {"banktransfer": {**settings, "bank-account-holder": "<b>Demo</b> & Co"}}
    order_id = bank.order(regular=1, student=1)
    reference = bank.choose_transfer(order_id)
    with bank.uow() as s:
        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        html = str(provider_for(payment.order.event, "banktransfer", s).payment_pending_render(payment))
    assert "&lt;b&gt;Demo&lt;/b&gt; &amp; Co" in html and "<b>Demo" not in html
    assert "DE02 1203 0000 0000 2020 51" in html and "BYLADEM1001" in html
    assert "68.00 EUR" in html and reference in html


def test_the_organizer_sees_who_paid_and_where_a_refund_goes(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("49.00", reference, payer="Max <Muster>")))
    from boxoffice.payments.refunding import refund_order

    with bank.uow() as s:
        [refund] = refund_order(s, order_id, amount=D("10.00"), actor=bank.admin)
        payment = refund.payment
        plugin = provider_for(payment.order.event, "banktransfer", s)
        payment_html = str(plugin.payment_control_render(payment))
        refund_html = str(plugin.refund_control_render(refund))
    assert "Max &lt;Muster&gt;" in payment_html and "DE89 3704 0044 0532 0130 00" in payment_html
    assert "Max &lt;Muster&gt; (DE89 3704 0044 0532 0130 00)" in refund_html


def test_shredding_removes_payer_data_and_keeps_references_and_amounts(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("49.00", f"{reference} Erika", payer="Erika Mustermann")))
    with bank.uow() as s:
        payment = s.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        provider_for(payment.order.event, "banktransfer", s).shred_payment_info(payment)
        assert payment.info == {
            "reference": reference,
            "bank_transaction": payment.info["bank_transaction"],
            "_shredded": True,
        }
        assert service.shred_bank_data(s, bank.shop.event_id) == 1
        assert service.shred_bank_data(s, bank.shop.event_id) == 0
    [line] = bank.transactions()
    assert (line.payer_name, line.payer_iban, line.remittance) == ("", "", "")
    assert (line.amount, line.state, line.matches[0].order_id) == (D("49.00"), "matched", order_id)
    # The same statement imported after shredding still counts nothing twice.
    assert bank.import_file(bank.csv(bank.entry("49.00", f"{reference} Erika"))).counts == {"already-imported": 1}
