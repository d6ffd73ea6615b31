"""Schemathesis drives the API from its own OpenAPI description, anonymously and as an organizer's admin:
no answer is a server error, every answer matches the documented schema, and every document is valid
JSON:API. The world's data is there, so the admin's requests reach real orders, events and products.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from jsonapi_schema import assert_jsonapi

EXAMPLES = 6
# The operations of this suite's routers (auth, catalogue, orders, payments, refunds, jobs); other
# domains' routers are theirs to drive the same way.
MY_TAGS = r"^(auth|catalogue|orders|payments|refunds|jobs)$"


def operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(tag_regex=MY_TAGS)
    return [result.ok() for result in schema.get_all_operations()]


def _check_every_operation(app: FastAPI, headers: dict[str, str]) -> list[str]:
    checked = []
    for operation in operations(app):

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers={**(case.headers or {}), **headers})
            # A schema cannot say every business rule (a provider must be enabled for the event, an
            # amount must fit the currency): a 422 for schema-valid input is a right answer here.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500, response.text
            if response.content and case.path != "/v1/auth/session":
                assert_jsonapi(response.json())

        check()
        checked.append(operation.label)
    return checked


def test_anonymous_callers_never_see_a_server_error(app: FastAPI, world: Any) -> None:
    checked = _check_every_operation(app, {})
    assert len(checked) >= 33, checked


def test_an_organizer_admin_never_sees_a_server_error(app: FastAPI, world: Any) -> None:
    checked = _check_every_operation(app, world.headers("admin_x"))
    assert len(checked) >= 33, checked
