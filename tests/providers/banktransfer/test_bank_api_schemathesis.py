"""Schemathesis drives the bank transfer operations from the OpenAPI description, anonymously and as the
organizer's admin, with imports, lines and refunds in the database: no answer is a server error,
every answer matches its documented schema, and every JSON answer is a valid JSON:API document."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from boxoffice.accounts.auth import issue_user_token
from boxoffice.accounts.models import Membership, User
from boxoffice.app import create_app
from boxoffice.payments.refunding import refund_order
from jsonapi_schema import assert_jsonapi

EXAMPLES = 6


def _check_every_operation(app: Any, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(tag_regex=r"^bank transfers$")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers={**(case.headers or {}), **headers})
            # Business rules (an IBAN's check digits, a refund waiting) are no schema's: 4xx is fine.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500, response.text
            media_type = (response.headers.get("content-type") or [""])[0]
            if response.content and media_type.startswith("application/vnd.api+json"):
                assert_jsonapi(response.json())

        check()
        checked.append(operation.label)
    return checked


def test_no_bank_transfer_operation_answers_with_a_server_error(bank) -> None:  # type: ignore[no-untyped-def]
    order_id = bank.order()
    reference = bank.choose_transfer(order_id)
    bank.import_file(bank.csv(bank.entry("49.00", reference), bank.entry("5.00", "unknown")))
    with bank.uow() as s:
        refund_order(s, order_id, amount=Decimal("9.00"), actor=bank.admin)
        user = User(email="admin@example.org", password_hash="-")
        s.add(user)
        s.flush()
        s.add(Membership(user_id=user.id, organizer_id=bank.shop.event.organizer_id, role="admin"))
        token = issue_user_token(s, user)
    app = create_app()
    with TestClient(app):
        anonymous = _check_every_operation(app, {})
        admin = _check_every_operation(app, {"Authorization": f"Bearer {token}"})
    assert len(anonymous) == len(admin) == 10, admin
