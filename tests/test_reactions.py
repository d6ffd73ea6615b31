"""The wiring of audit actions to their side effects (boxoffice/reactions.py) is complete and explicit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.mail.reactions import queue_mails
from boxoffice.mail.rules import mails_for
from boxoffice.orders.actions import Action
from boxoffice.orders.expiry import queue_late_payment_refund
from boxoffice.reactions import REACTIONS
from boxoffice.webhooks.reactions import collect as send_webhook
from boxoffice.webhooks.rules import EVENT_TYPES

DATA = {"payment": "ABCDE-P-1", "refund": "ABCDE-R-1", "overpaid_by": "1.00"}


def test_every_webhook_event_type_is_an_action_that_sends_a_webhook() -> None:
    for event_type in EVENT_TYPES:
        assert send_webhook in REACTIONS.get(Action(event_type), ())


def test_only_webhook_event_types_send_webhooks() -> None:
    assert {a.value for a, reactions in REACTIONS.items() if send_webhook in reactions} == set(EVENT_TYPES)


@pytest.mark.parametrize("action", list(Action))
def test_an_action_that_calls_for_a_mail_is_wired_to_the_mail_reaction(action: Action) -> None:
    wants_mail = any(
        mails_for(action, DATA, order_status=status, order_total=Decimal("10.00"))
        for status in ("pending", "paid", "expired")
    )
    assert wants_mail == (queue_mails in REACTIONS.get(action, ()))


def test_a_late_payment_whose_quota_is_gone_may_go_back() -> None:
    assert [a for a, reactions in REACTIONS.items() if queue_late_payment_refund in reactions] == [
        Action.ORDER_QUOTA_EXCEEDED
    ]
