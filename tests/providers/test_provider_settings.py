"""Per-event provider settings: the common ones, validated on save, secrets write-only; fees."""

from decimal import Decimal
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.errors import InvalidValue
from boxoffice.providers.base import ProviderSettings
from boxoffice.providers.manual import ManualProvider
from boxoffice.providers.registry import public_payment_providers, validate_payment_providers
from boxoffice.providers.sandbox.provider import SandboxProvider
from boxoffice.providers.settings import validate_settings

D = Decimal


class KeyedSettings(ProviderSettings):
    account: str | None = None
    api_key: str | None = None
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_key"})


def _save(raw: dict[str, Any], current: dict[str, Any] | None = None, currency: str | None = "EUR") -> dict[str, Any]:
    return validate_settings(KeyedSettings, "keyed", raw, current=current, currency=currency)


def test_common_settings_are_stored_under_their_dasherized_names() -> None:
    stored = _save({"enabled": True, "fee-abs": "0.50", "fee-percent": "1.5", "restricted-countries": ["de", "AT"]})
    assert stored["enabled"] is True
    assert stored["fee-abs"] == "0.50" and stored["fee-percent"] == "1.5"
    assert stored["restricted-countries"] == ["AT", "DE"]


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ({"fee-abs": 0.5}, "/fee-abs"),
        ({"fee-abs": "-1"}, "/fee-abs"),
        ({"fee-percent": "101"}, "/fee-percent"),
        ({"fee-abs": "0.001"}, "/fee-abs"),
        ({"colour": "red"}, "/colour"),
        ({"restricted-countries": ["Germany"]}, "/restricted-countries"),
        ({"min-total": "10", "max-total": "5"}, ""),
        ({"available-from": "2025-01-01T00:00:00"}, "/available-from"),
        ({"fee-reverse-calc": True, "fee-percent": "100"}, ""),
    ],
)
def test_invalid_settings_are_refused_with_a_pointer_to_the_member(raw: dict[str, Any], pointer: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        _save(raw)
    assert caught.value.pointer == "/data/attributes/payment-providers/keyed" + pointer


def test_a_secret_left_out_of_a_save_keeps_its_stored_value_and_is_never_shown() -> None:
    first = _save({"enabled": True, "api-key": "sk_live_1", "account": "acct"})
    second = _save({"fee-abs": "1.00", "secrets-set": ["api-key"]}, current=first)
    assert second["api-key"] == "sk_live_1" and second["account"] == "acct" and second["fee-abs"] == "1.00"
    shown = KeyedSettings.load(second).public_dict()
    assert "api-key" not in shown and "sk_live_1" not in str(shown)
    assert shown["secrets-set"] == ["api-key"] and shown["account"] == "acct"
    cleared = _save({"api-key": None}, current=second)
    assert KeyedSettings.load(cleared).public_dict()["secrets-set"] == []


def test_stored_settings_a_newer_version_dropped_do_not_break_loading() -> None:
    assert KeyedSettings.load({"enabled": True, "old-setting": 1}).enabled is True


def test_the_events_payment_providers_object_is_validated_provider_by_provider() -> None:
    current = {"manual": {"enabled": True, "instructions": "Cash at the door"}}
    stored = validate_payment_providers({"sandbox": {"enabled": True}}, current=current, currency="EUR")
    assert stored["manual"]["instructions"] == "Cash at the door" and stored["sandbox"]["enabled"] is True
    with pytest.raises(InvalidValue) as unknown:
        validate_payment_providers({"nope": {"enabled": True}})
    assert unknown.value.pointer == "/data/attributes/payment-providers/nope"
    assert unknown.value.code == "unknown-provider"
    with pytest.raises(InvalidValue) as free:
        validate_payment_providers({"free": {"enabled": False}})
    assert free.value.pointer == "/data/attributes/payment-providers/free"
    with pytest.raises(InvalidValue) as not_object:
        validate_payment_providers({"manual": "yes"})
    assert not_object.value.pointer == "/data/attributes/payment-providers/manual"


def test_the_api_shows_every_configurable_provider_with_defaults() -> None:
    shown = public_payment_providers({"sandbox": {"enabled": True}})
    assert shown["sandbox"]["enabled"] is True and shown["manual"]["enabled"] is False
    assert "free" not in shown


def _provider(cls: type, currency: str = "EUR", **settings: Any) -> Any:
    event = SimpleNamespace(currency=currency, id=1)
    return cls(event, cls.settings_model.load(settings), session=None)


def test_fee_is_absolute_plus_percent_rounded_half_up() -> None:
    provider = _provider(SandboxProvider, **{"fee-abs": "0.30", "fee-percent": "1.4"})
    assert provider.calculate_fee(D("49.00")) == D("0.99")  # 0.30 + 0.686
    assert _provider(SandboxProvider).calculate_fee(D("49.00")) == 0
    assert _provider(SandboxProvider, "JPY", **{"fee-percent": "3.5"}).calculate_fee(D("1500")) == D("53")


@given(
    amount=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    fee_abs=st.decimals(min_value=0, max_value=D("5"), places=2),
    fee_percent=st.decimals(min_value=0, max_value=D("20"), places=2),
)
def test_a_reverse_calculated_fee_covers_itself(amount: Decimal, fee_abs: Decimal, fee_percent: Decimal) -> None:
    provider = _provider(
        ManualProvider, **{"fee-abs": str(fee_abs), "fee-percent": str(fee_percent), "fee-reverse-calc": True}
    )
    fee = provider.calculate_fee(amount)
    gross = amount + fee
    # What the organizer keeps after the provider's cut is the amount, give or take the rounding cent.
    kept = gross - gross * fee_percent / 100 - fee_abs
    assert abs(kept - amount) <= D("0.01")
