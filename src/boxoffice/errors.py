"""Domain errors that carry their HTTP meaning.

Every error raised by the service layer subclasses :class:`DomainError`; the API renders it as a
JSON:API error object, the CLI prints its detail, and nothing else needs to know about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A refusal the caller can act on: it names a status, a stable code and what went wrong."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid"
    title: ClassVar[str] = "Invalid request"

    def __init__(
        self,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta or {}
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may narrow the class's code

    def as_jsonapi(self) -> dict[str, Any]:
        """The JSON:API error object for this error."""
        error: dict[str, Any] = {
            "status": str(self.status),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        if self.meta:
            error["meta"] = self.meta
        return error


class BadRequest(DomainError):
    status = 400
    code = "bad-request"
    title = "Malformed request"


class NotAuthenticated(DomainError):
    status = 401
    code = "not-authenticated"
    title = "Authentication required"


class PermissionDenied(DomainError):
    status = 403
    code = "permission-denied"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "State conflict"


class InvalidValue(DomainError):
    status = 422
    code = "invalid-value"
    title = "Invalid value"


class IllegalTransition(Conflict):
    """A state machine was asked for a move its table does not have."""

    code = "illegal-transition"
    title = "Illegal state transition"

    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(
            f"A {kind} cannot move from '{current}' to '{target}'.",
            meta={"kind": kind, "from": current, "to": target},
        )
        self.kind = kind
        self.current = current
        self.target = target


class QuotaExceeded(Conflict):
    code = "quota-exceeded"
    title = "Sold out"


class PaymentDeclined(InvalidValue):
    """The provider refused to move the money; ``detail`` is the provider's message for the buyer."""

    code = "payment-declined"
    title = "Payment declined"


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"
