"""Input the database cannot store is refused at the door: PostgreSQL keeps no NUL character in text.

Without this a ``\\u0000`` in a document or a query parameter would reach an INSERT or a WHERE and
fail there, as a server error. Registered for every route of the app; provider webhooks (signed
bodies stored as they come) are left alone.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from boxoffice.errors import BadRequest, InvalidValue

API_PREFIX = "/v1/"
EXEMPT_PREFIX = "/v1/webhooks/"
_ESCAPED_NUL = b"\\u0000"


def _nul_pointer(node: Any, pointer: str) -> str | None:
    """The JSON Pointer of the first member or string holding a NUL character, or None."""
    if isinstance(node, str):
        return pointer if "\x00" in node else None
    items: Any = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        where = pointer + "/" + str(key).replace("~", "~0").replace("/", "~1")
        if "\x00" in str(key):
            return where
        found = _nul_pointer(value, where)
        if found is not None:
            return found
    return None


async def refuse_nul_characters(request: Request) -> None:
    """400 for a NUL in a query parameter, 422 pointing at it in a document."""
    path = request.url.path
    if not path.startswith(API_PREFIX) or path.startswith(EXEMPT_PREFIX):
        return
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise BadRequest("Query parameters cannot hold NUL characters.", parameter=name, code="invalid-character")
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = await request.body()
    if _ESCAPED_NUL not in body:  # JSON must escape a NUL, so this finds every candidate cheaply
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the request's own validation answers
    pointer = _nul_pointer(document, "")
    if pointer is not None:
        raise InvalidValue("Text cannot hold NUL characters.", pointer=pointer, code="invalid-character")
