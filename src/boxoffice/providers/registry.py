"""Finds payment providers through the ``boxoffice.providers`` entry-point group.

Built-in providers register the same way as third-party ones (see pyproject.toml), so adding a
provider never touches core code: install a package that declares the entry point.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from boxoffice.errors import InvalidValue
from boxoffice.providers.base import PaymentProvider

if TYPE_CHECKING:
    from boxoffice.catalogue.models import Event

GROUP = "boxoffice.providers"


@lru_cache(maxsize=1)
def provider_classes() -> dict[str, type[PaymentProvider]]:
    """Every installed provider class by identifier, highest priority first."""
    found: dict[str, type[PaymentProvider]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, PaymentProvider)):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a PaymentProvider")
        if cls.identifier != ep.name:
            raise TypeError(f"entry point {ep.name} names a provider whose identifier is {cls.identifier}")
        found[cls.identifier] = cls
    return dict(sorted(found.items(), key=lambda kv: (-kv[1].priority, kv[0])))


def provider_class(identifier: str, *, pointer: str | None = None) -> type[PaymentProvider]:
    try:
        return provider_classes()[identifier]
    except KeyError:
        raise InvalidValue(
            f"'{identifier}' is not an installed payment provider.", pointer=pointer, code="unknown-provider"
        ) from None


def provider_for(
    event: Event, identifier: str, session: Session | None = None, *, pointer: str | None = None
) -> PaymentProvider:
    """The provider ``identifier`` configured with ``event``'s settings for it."""
    cls = provider_class(identifier, pointer=pointer)
    raw = (event.payment_providers or {}).get(identifier, {})
    if identifier == "free":
        raw = {**raw, "enabled": True}
    return cls(event, cls.settings_model.model_validate(raw), session)


def enabled_providers(event: Event, session: Session | None = None) -> list[PaymentProvider]:
    return [
        p
        for p in (provider_for(event, ident, session) for ident in provider_classes())
        if p.settings.enabled and p.public
    ]
