"""Input the database cannot store is refused at the door: PostgreSQL keeps no NUL character in
text, and no text is UTF-8 with a lone surrogate (``"\\ud800"`` unpaired) in it.

Without this such a character in a document or a query parameter would reach an INSERT, a WHERE or
an error message quoting it, and fail there, as a server error. Registered for every route of the
app; provider webhooks (signed bodies stored as they come) are left alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from boxoffice.errors import BadRequest, InvalidValue

API_PREFIX = "/v1/"
EXEMPT_PREFIX = "/v1/webhooks/"
# NUL, and surrogates: JSON parsing pairs the ones that belong together, so any left is alone.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# JSON must escape both (a raw surrogate is not UTF-8), so these find every candidate cheaply.
_ESCAPES = (b"\\u0000", b"\\ud8", b"\\ud9", b"\\uda", b"\\udb", b"\\udc", b"\\udd", b"\\ude", b"\\udf")


def _unstorable_pointer(node: Any, pointer: str) -> str | None:
    """The JSON Pointer of the first string holding a character that cannot be stored, or None.

    A bad member *name* is reported at the object holding it: the pointer quotes names, and one
    quoting that character could not be written in the answer either.
    """
    if isinstance(node, str):
        return pointer if _UNSTORABLE.search(node) else None
    items: Any = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(key, str) and _UNSTORABLE.search(key):
            return pointer
        found = _unstorable_pointer(value, pointer + "/" + str(key).replace("~", "~0").replace("/", "~1"))
        if found is not None:
            return found
    return None


async def refuse_unstorable_text(request: Request) -> None:
    """400 for a NUL or lone surrogate in a query parameter, 422 pointing at it in a document."""
    path = request.url.path
    if not path.startswith(API_PREFIX) or path.startswith(EXEMPT_PREFIX):
        return
    for name, value in request.query_params.multi_items():
        if _UNSTORABLE.search(name) or _UNSTORABLE.search(value):
            raise BadRequest(
                "Query parameters cannot hold NUL characters or lone surrogates.",
                parameter=name if not _UNSTORABLE.search(name) else None,
                code="invalid-character",
            )
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = await request.body()
    lowered = body.lower()
    if not any(escape in lowered for escape in _ESCAPES):
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the request's own validation answers
    pointer = _unstorable_pointer(document, "")
    if pointer is not None:
        raise InvalidValue(
            "Text cannot hold NUL characters or lone surrogates (a \\uD800 to \\uDFFF escape not in a pair).",
            pointer=pointer,
            code="invalid-character",
        )
