"""Explicit transition tables (Kill Bill's idea): every allowed move is listed; nothing else happens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boxoffice.errors import IllegalTransition


class StateMachine:
    """A named table of allowed state moves."""

    def __init__(self, kind: str, moves: Mapping[str, frozenset[str]]) -> None:
        self.kind = kind
        self.moves = dict(moves)
        self.states = frozenset(moves) | frozenset(s for targets in moves.values() for s in targets)

    def can(self, current: str, target: str) -> bool:
        return target in self.moves.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        """Raise :class:`IllegalTransition` naming both states unless ``current → target`` is allowed."""
        if not self.can(current, target):
            raise IllegalTransition(self.kind, current, target)

    def move(self, obj: Any, target: str, *, attribute: str = "state") -> str:
        """Move ``obj`` (a payment, a refund…) to ``target`` if the table allows it; return the state it
        left. The one way state columns are written, so no move can skip the table."""
        current = getattr(obj, attribute)
        self.check(current, target)
        setattr(obj, attribute, target)
        return str(current)
