"""Writing the activity log: one entry per change, with only what changed before and after."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.activity.models import ActivityEntry


def plain(value: Any) -> Any:
    """``value`` as JSON stores it: decimals and timestamps as strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, as ``(before, after)``."""
    keys = [k for k in after if plain(before.get(k)) != plain(after.get(k))]
    return {k: plain(before.get(k)) for k in keys}, {k: plain(after.get(k)) for k in keys}


def record(
    session: Session,
    *,
    organizer_id: int,
    actor: str,
    action: str,
    subject: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    event_id: int | None = None,
) -> ActivityEntry | None:
    """Append an entry in the caller's transaction; a change that changed nothing writes nothing."""
    if before is not None and after is not None:
        old, new = changed(before, after)
        if not new:
            return None
    else:
        old, new = plain(before or {}), plain(after or {})
    entry = ActivityEntry(
        organizer_id=organizer_id, event_id=event_id, actor=actor, action=action, subject=subject,
        data={"before": old, "after": new},
    )
    session.add(entry)
    return entry
