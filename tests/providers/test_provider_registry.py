"""Providers are found through the ``boxoffice.providers`` entry points, built-in ones included."""

from collections.abc import Iterator
from typing import Any

import pytest

from boxoffice.errors import InvalidValue
from boxoffice.providers import registry
from boxoffice.providers.base import PaymentProvider
from boxoffice.providers.free import FreeProvider
from boxoffice.providers.manual import ManualProvider
from boxoffice.providers.sandbox.provider import SandboxProvider


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.provider_classes.cache_clear()
    yield
    registry.provider_classes.cache_clear()


def test_built_in_providers_register_through_entry_points() -> None:
    classes = registry.provider_classes()
    assert classes["free"] is FreeProvider
    assert classes["manual"] is ManualProvider
    assert classes["sandbox"] is SandboxProvider
    assert list(classes) == sorted(classes, key=lambda ident: (-classes[ident].priority, ident))


class _EntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name, self.value, self._target = name, f"fake:{name}", target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


class _Abstract(PaymentProvider):
    identifier = "abstract"
    verbose_name = "Abstract"


def test_a_broken_plugin_is_reported_without_taking_the_others_offline(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    fakes = [
        _EntryPoint("manual", ManualProvider),
        _EntryPoint("crashes", ImportError("No module named 'boxoffice_crash'")),
        _EntryPoint("named-wrong", SandboxProvider),
        _EntryPoint("not-a-provider", object),
        _EntryPoint("abstract", _Abstract),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: fakes)
    assert list(registry.provider_classes()) == ["manual"]
    broken = registry.broken_providers()
    assert "boxoffice_crash" in broken["crashes"]
    assert "identifier is 'sandbox'" in broken["named-wrong"]
    assert "not a PaymentProvider" in broken["not-a-provider"]
    assert "execute_payment" in broken["abstract"]
    with pytest.raises(InvalidValue, match="cannot be loaded") as caught:
        registry.provider_class("crashes", pointer="/data/attributes/provider")
    assert caught.value.pointer == "/data/attributes/provider"
    with pytest.raises(InvalidValue, match="not an installed payment provider"):
        registry.provider_class("nothing-here")
