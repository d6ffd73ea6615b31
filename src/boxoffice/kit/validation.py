"""Request validation errors (Pydantic's, as FastAPI reports them) as JSON:API error objects.

A body error points at the member with an RFC 6901 JSON Pointer into the request document
(``("body", "data", "attributes", "email")`` → ``/data/attributes/email``). The pointer is found
by walking the body alongside the error location, which drops the union tags Pydantic puts in
locations (``("x", "int")``) and keeps aliases as the client wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from boxoffice.kit.responses import http_error

_NOT_A_DOCUMENT = frozenset({"model_attributes_type", "model_type", "dict_type", "bytes_type", "string_type"})

_CODES = {
    "missing": "missing",
    "extra_forbidden": "unknown-member",
    "literal_error": "invalid-choice",
    "enum": "invalid-choice",
    "decimal_string": "invalid-decimal",
    "negative": "negative-amount",
    "too_precise": "too-precise",
    "too_large": "amount-too-large",
    "currency_code": "invalid-currency",
}


def validation_errors(errors: Iterable[Mapping[str, Any]], body: Any = None) -> tuple[int, list[dict[str, Any]]]:
    """The HTTP status and JSON:API error objects for FastAPI validation ``errors``.

    Body errors are 422 (409 for a wrong primary ``/data/type``, 400 for a body that is not a JSON
    object); query and header errors are 400; path errors are 404.
    """
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for error in errors:
        obj = _error_object(error, body)
        key = (obj["status"], obj["code"], obj["detail"], tuple(sorted(obj.get("source", {}).items())))
        if key not in seen:
            seen.add(key)
            out.append(obj)
    statuses = {obj["status"] for obj in out}
    status = int(statuses.pop()) if len(statuses) == 1 else 400
    return status, out


def _error_object(error: Mapping[str, Any], body: Any) -> dict[str, Any]:
    loc: Sequence[Any] = error.get("loc", ())
    kind: str = error.get("type", "")
    msg: str = error.get("msg", "Invalid value")
    where = loc[0] if loc else None
    if where == "body":
        return _body_error(kind, msg, loc[1:], body, error.get("ctx") or {})
    if where == "query" and len(loc) > 1:
        obj = http_error(400, f"'{loc[1]}': {msg}.", code="invalid-parameter")
        obj["source"] = {"parameter": str(loc[1])}
        return obj
    if where == "header" and len(loc) > 1:
        obj = http_error(400, f"Header '{loc[1]}': {msg}.", code="invalid-header")
        obj["source"] = {"header": str(loc[1])}
        return obj
    if where == "path":
        return http_error(404, "There is no such resource.")
    return http_error(400 if where == "cookie" else 422, f"{msg}.")


def _body_error(kind: str, msg: str, loc: Sequence[Any], body: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "json_invalid":
        return http_error(400, f"The body is not valid JSON: {ctx.get('error', msg)}.", code="invalid-json")
    if not loc:
        if kind == "missing":
            return http_error(400, "This request needs a JSON:API document as its body.", code="missing-body")
        if kind in _NOT_A_DOCUMENT or not isinstance(body, dict):
            return http_error(400, "The body must be a JSON object: a JSON:API document.", code="not-a-document")
    parts = _pointer_parts(loc, body, kind)
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    name = next((p for p in reversed(parts) if isinstance(p, str)), None)
    if parts == ["data", "type"] and kind == "literal_error":
        obj = http_error(409, f"This endpoint takes {ctx.get('expected', 'another type')}.", code="type-mismatch")
    else:
        detail = f"'{name}': {_lower_first(msg)}." if name else f"{msg}."
        obj = http_error(422, detail, code=_CODES.get(kind, "invalid-value"))
    obj["source"] = {"pointer": pointer}
    return obj


def _pointer_parts(loc: Sequence[Any], body: Any, kind: str) -> list[Any]:
    """The members of ``loc`` that exist in ``body`` (plus the missing one, for ``missing``)."""
    if not isinstance(body, dict | list):  # no JSON document to walk (e.g. a form): take the location
        return [p for p in loc if isinstance(p, str | int)]
    parts: list[Any] = []
    node = body
    last = len(loc) - 1
    for i, part in enumerate(loc):
        if isinstance(node, dict):
            if isinstance(part, str) and part in node:
                parts.append(part)
                node = node[part]
            elif i == last and kind == "missing":
                parts.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            parts.append(part)
            node = node[part]
        # anything else is a union tag (or beyond a scalar): not part of the document
    return parts


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
