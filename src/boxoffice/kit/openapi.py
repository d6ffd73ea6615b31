"""Make FastAPI's OpenAPI description tell the JSON:API truth.

Under the API prefix every request body is documented as ``application/vnd.api+json`` (and
``application/json``), FastAPI's own 422 schema is replaced by the JSON:API error document, and a
``default`` response documents the errors any operation may answer with.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from boxoffice.kit.jsonapi import MEDIA_TYPE
from boxoffice.kit.responses import http_error
from boxoffice.kit.schemas import ErrorDocument

_ERROR_REF = {"$ref": "#/components/schemas/ErrorDocument"}
# A security scheme that stands for "these credentials, or none": rewritten to an optional
# requirement of the scheme it names after the slash.
OPTIONAL_SCHEME = "optional/token"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting error statuses with the JSON:API error document."""
    return {status: {"model": ErrorDocument, "description": http_error(status, "")["title"]} for status in statuses}


# The errors most endpoints document: reading a resource, and acting on one with a document.
READ_ERRORS = error_responses(400, 401, 403, 404)
ACTION_ERRORS = error_responses(400, 401, 403, 404, 409, 415, 422)


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": dict(_ERROR_REF)}}}


def patch_openapi(app: FastAPI, prefix: str = "/v1") -> None:
    """Wrap ``app.openapi`` so the generated description is rewritten once, then cached."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            rewrite(schema, prefix)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _optional_security(operation: dict[str, Any]) -> None:
    """``{OPTIONAL_SCHEME: []}`` becomes "no credentials, or the named scheme's"."""
    requirements = operation.get("security")
    if requirements and any(OPTIONAL_SCHEME in requirement for requirement in requirements):
        scheme = OPTIONAL_SCHEME.split("/", 1)[1]
        operation["security"] = [{}, {scheme: []}]


def rewrite(schema: dict[str, Any], prefix: str = "/v1") -> None:
    """Rewrite an OpenAPI description in place (see the module docstring)."""
    touched = False
    for path, item in schema.get("paths", {}).items():
        if not (path == prefix or path.startswith(prefix.rstrip("/") + "/")):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            touched = True
            _optional_security(operation)
            body = operation.get("requestBody")
            if body is not None:
                content = body.get("content", {})
                json_content = content.get("application/json")
                if json_content is not None and MEDIA_TYPE not in content:
                    body["content"] = {MEDIA_TYPE: json_content, **content}
            responses = operation.setdefault("responses", {})
            if "422" in responses and "HTTPValidationError" in json.dumps(responses["422"]):
                responses["422"] = _error_response("Invalid value: source.pointer names the member")
            responses.setdefault("default", _error_response("Error (JSON:API error document)"))
    if not touched:
        return
    schema.get("components", {}).get("securitySchemes", {}).pop(OPTIONAL_SCHEME, None)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorDocument", error_schema)
    text = json.dumps({k: v for k, v in schema.items() if k != "components"}) + json.dumps(
        {k: v for k, v in components.items() if k not in ("HTTPValidationError", "ValidationError")}
    )
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'/{unused}"' not in text:
            components.pop(unused, None)
