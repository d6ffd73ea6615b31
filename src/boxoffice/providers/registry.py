"""Finds payment providers through the ``boxoffice.providers`` entry-point group.

Built-in providers register the same way as third-party ones (see pyproject.toml), so adding a
provider never touches core code: install a package that declares the entry point. The scan runs
once per process; ``provider_classes.cache_clear()`` makes the next call scan again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from boxoffice.errors import InvalidValue
from boxoffice.providers.base import CheckoutContext, PaymentProvider

if TYPE_CHECKING:
    from boxoffice.catalogue.models import Event
    from boxoffice.orders.models import Order

GROUP = "boxoffice.providers"
PAYMENT_PROVIDERS_POINTER = "/data/attributes/payment-providers"
# Never configurable: the free provider settles zero-total orders for every event.
IMPLICIT = "free"

log = logging.getLogger(__name__)


# Entry points that could not be loaded, with the reason; filled by each scan.
_broken: dict[str, str] = {}


@lru_cache(maxsize=1)
def provider_classes() -> dict[str, type[PaymentProvider]]:
    """Every installed, loadable provider class by identifier, highest priority first."""
    _broken.clear()
    found: dict[str, type[PaymentProvider]] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # one broken plugin must not take every other provider offline
            log.exception("Payment provider %s = %s cannot be loaded", ep.name, ep.value)
            _broken[ep.name] = f"{type(exc).__name__}: {exc}"
            continue
        problem = _problem(ep.name, cls)
        if problem:
            log.error("Payment provider %s = %s is refused: %s", ep.name, ep.value, problem)
            _broken[ep.name] = problem
            continue
        found[ep.name] = cls
    return dict(sorted(found.items(), key=lambda kv: (-kv[1].priority, kv[0])))


def _problem(name: str, cls: Any) -> str | None:
    if not (isinstance(cls, type) and issubclass(cls, PaymentProvider)):
        return "not a PaymentProvider subclass"
    if getattr(cls, "identifier", None) != name:
        return f"its identifier is {getattr(cls, 'identifier', None)!r}, the entry point is named {name!r}"
    if not getattr(cls, "verbose_name", None):
        return "it has no verbose_name"
    if getattr(cls, "__abstractmethods__", None):
        return f"it does not implement {', '.join(sorted(cls.__abstractmethods__))}"
    return None


def broken_providers() -> dict[str, str]:
    """Entry points that could not be loaded, with the reason (also logged when scanned)."""
    provider_classes()
    return dict(_broken)


def provider_class(identifier: str, *, pointer: str | None = None) -> type[PaymentProvider]:
    """The class of provider ``identifier``; a 422 naming ``pointer`` when it is not installed."""
    cls = provider_classes().get(identifier)
    if cls is None:
        reason = broken_providers().get(identifier)
        detail = f"'{identifier}' is not an installed payment provider."
        if reason:
            detail = f"Payment provider '{identifier}' is installed but cannot be loaded ({reason})."
        raise InvalidValue(detail, pointer=pointer, code="unknown-provider")
    return cls


def provider_for(event: Event, identifier: str, session: Session, *, pointer: str | None = None) -> PaymentProvider:
    """The provider ``identifier`` bound to ``event``'s settings for it and to ``session``."""
    cls = provider_class(identifier, pointer=pointer)
    raw = (event.payment_providers or {}).get(identifier) or {}
    if identifier == IMPLICIT:
        raw = {**raw, "enabled": True}
    return cls(event, cls.settings_model.load(raw), session)


def enabled_providers(event: Event, session: Session) -> list[PaymentProvider]:
    """The public providers the organizer enabled for ``event``, highest priority first."""
    providers = [provider_for(event, ident, session) for ident in provider_classes()]
    return [p for p in providers if p.settings.enabled and p.public]


def available_providers(session: Session, order: Order, context: CheckoutContext) -> list[PaymentProvider]:
    """The providers a buyer may choose for ``order`` now (enabled, public, allowed)."""
    return [p for p in enabled_providers(order.event, session) if p.is_allowed(order, context)]


def validate_payment_providers(
    raw: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None = None,
    currency: str | None = None,
    pointer: str = PAYMENT_PROVIDERS_POINTER,
) -> dict[str, Any]:
    """Validate an event's ``payment-providers`` object on save; return the whole object to store.

    Providers not mentioned keep their stored settings; each mentioned one is validated by its own
    class (secrets left out are kept). Unknown provider ids are refused.
    """
    if not isinstance(raw, Mapping):
        raise InvalidValue("payment-providers must be an object: provider id → settings.", pointer=pointer)
    stored = dict(current or {})
    for identifier, settings in raw.items():
        if identifier == IMPLICIT:
            raise InvalidValue(
                "The free provider settles zero-total orders by itself and has no settings.",
                pointer=f"{pointer}/{identifier}",
            )
        cls = provider_class(identifier, pointer=f"{pointer}/{identifier}")
        stored[identifier] = cls.validate_settings(
            settings, current=stored.get(identifier), currency=currency, pointer=pointer
        )
    return stored


def public_payment_providers(stored: Mapping[str, Any]) -> dict[str, Any]:
    """An event's ``payment-providers`` as the API shows it: every installed configurable provider,
    its settings with secrets left out."""
    shown: dict[str, Any] = {}
    for identifier, cls in provider_classes().items():
        if identifier == IMPLICIT:
            continue
        shown[identifier] = cls.settings_model.load(stored.get(identifier) or {}).public_dict()
    return shown
