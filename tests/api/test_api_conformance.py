"""Schemathesis over every operation of the API, without credentials and as an organizer's admin, with
valid and invalid input: no server error, and every answer conforms to the OpenAPI description (its
status, headers, media type and schema) — so the description states the limits the server enforces."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import max_response_time, positive_data_acceptance

EXAMPLES = 4


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _failures(app: FastAPI, headers: dict[str, str], mode: GenerationMode) -> list[str]:
    failures: list[str] = []
    for operation in _operations(app):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers={**(case.headers or {}), **headers})
            try:
                # A schema cannot say every business rule (a provider must be enabled for the event):
                # a 4xx for schema-valid input is a right answer.
                case.validate_response(response, excluded_checks=[positive_data_acceptance, max_response_time])
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{case.operation.label} [{mode.value}] {type(exc).__name__}: {str(exc)[:600]}")

        with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters, no body)
            check()
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("who", ["anonymous", "admin_x"])
def test_every_operation_answers_as_its_description_says(app: FastAPI, world: Any, who: str, mode: GenerationMode) -> None:
    failures = _failures(app, world.headers(who), mode)
    assert failures == [], "\n\n".join(dict.fromkeys(failures))
