"""Schemathesis drives the tiny app from its own OpenAPI description: what is documented is what it does,
and every answer, success or error, is a valid JSON:API document.

Left out: the endpoint that fails on purpose, the form and webhook endpoints (not JSON:API), and the
keyset-paginated list (an opaque cursor cannot be described, so random ones are rightly refused).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from jsonapi_schema import assert_jsonapi


def operations(jsonapi_app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", jsonapi_app).exclude(
        path_regex=r"^/v1/(boom|forms/|webhooks/|payments)"
    )
    return [result.ok() for result in schema.get_all_operations()]


def test_documented_behaviour(jsonapi_app: FastAPI) -> None:
    checked = []
    for operation in operations(jsonapi_app):

        @given(case=operation.as_strategy())
        @settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call()
            case.validate_response(response)
            if response.content and case.path.startswith("/v1/"):
                assert_jsonapi(response.json())

        check()
        checked.append(operation.label)
    assert len(checked) >= 6, checked
