"""``assert_jsonapi(document)``: check a response document against the JSON:API project's schema.

The schema is the tests' own copy of the JSON:API project's response schema
(``tests/jsonapi-1.0-response-schema.json``), so a clone anywhere passes. Its catch-all
``patternProperties`` key ``""`` is read as ``".*"`` (some validators skip an empty pattern).
The validator is ``jsonschema_rs`` (installed with schemathesis); the pure-Python ``jsonschema``
package is used instead when it is the one installed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent / "jsonapi-1.0-response-schema.json"


def _catch_all(node: Any) -> Any:
    """A copy of ``node`` where every ``patternProperties`` key ``""`` reads ``".*"``."""
    if isinstance(node, list):
        return [_catch_all(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "patternProperties" and isinstance(value, dict):
            out[key] = {(".*" if name == "" else name): _catch_all(sub) for name, sub in value.items()}
        else:
            out[key] = _catch_all(value)
    return out


@cache
def _validator() -> Any:
    schema = _catch_all(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - depends on what the environment installed
        import jsonschema

        return jsonschema.Draft202012Validator(schema)
    return jsonschema_rs.validator_for(schema)


def jsonapi_errors(document: dict[str, Any]) -> list[str]:
    """The schema violations of ``document`` (empty when it is a valid JSON:API response)."""
    return [
        f"/{'/'.join(map(str, getattr(e, 'instance_path', getattr(e, 'path', []))))}: {e.message}"
        for e in _validator().iter_errors(document)
    ]


def assert_jsonapi(document: dict[str, Any]) -> None:
    """Fail unless ``document`` is a valid JSON:API response document."""
    errors = jsonapi_errors(document)
    assert not errors, "not a JSON:API response document:\n" + "\n".join(errors) + "\n" + json.dumps(document)
