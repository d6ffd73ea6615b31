"""Settings forms generated from a provider's schema, and reading the event's policy form."""

from __future__ import annotations

import pytest
from pydantic import Field
from starlette.datastructures import FormData

from boxoffice.errors import InvalidValue
from boxoffice.payments.models import Payment
from boxoffice.providers.base import PaymentProvider, ProviderSettings
from boxoffice.web.control.settingsform import provider_fields, read_policies, read_provider_form


class _Settings(ProviderSettings):
    api_key: str | None = None
    webhook_secret: str | None = None
    notes: str = Field(default="", max_length=2000)
    secret_fields = frozenset({"webhook_secret"})


class _Provider(PaymentProvider):
    identifier = "test"
    verbose_name = "Test"
    settings_model = _Settings

    def execute_payment(self, payment: Payment) -> str | None:
        return None


def test_each_schema_property_becomes_an_input_of_its_kind_and_secrets_are_never_shown() -> None:
    fields = {f.name: f for f in provider_fields(_Provider, {"enabled": True, "webhook-secret": "whsec_x",
                                                            "restricted-countries": ["AT", "DE"]})}
    assert fields["enabled"].kind == "checkbox" and fields["enabled"].value is True
    assert fields["fee-abs"].kind == "decimal" and fields["available-from"].kind == "datetime"
    assert fields["restricted-countries"].value == "AT, DE" and fields["notes"].kind == "textarea"
    assert fields["api-key"].kind == "text" and fields["api-key"].optional
    secret = fields["webhook-secret"]
    assert secret.kind == "secret" and secret.value == "" and secret.secret_set


def test_reading_the_form_keeps_a_secret_left_empty_and_clears_emptied_optional_fields() -> None:
    form = FormData([("t-enabled", "on"), ("t-fee-abs", "0.50"), ("t-api-key", ""), ("t-webhook-secret", ""),
                     ("t-restricted-countries", "at, de,"), ("t-notes", "")])
    raw = read_provider_form(_Provider, form, "t-")
    assert raw["enabled"] is True and raw["fee-abs"] == "0.50" and raw["api-key"] is None
    assert "webhook-secret" not in raw and raw["restricted-countries"] == ["at", "de"] and raw["notes"] == ""
    assert read_provider_form(_Provider, FormData([]), "t-")["enabled"] is False


def test_the_policy_form_replaces_the_policy_keys_and_keeps_other_settings() -> None:
    current = {"expiry-days": 3, "buyer-cancel-paid": True}
    form = FormData([("expiry-minutes", "30"), ("late-payment-policy", "ask"), ("last-payment-date", "2031-01-02T03:04")])
    assert read_policies(form, current, "Europe/Berlin") == {
        "buyer-cancel-paid": True, "expiry-minutes": 30, "late-payment-policy": "ask",
        "last-payment-date": "2031-01-02T03:04:00+01:00",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("expiry-minutes", "0"), ("expiry-days", "-1"), ("expiry-reminder-hours", "x"), ("late-payment-policy", "maybe"),
     ("change-underpaid-policy", "sometimes"), ("last-payment-date", "tomorrow")],
)
def test_a_policy_value_the_policies_cannot_read_is_refused_naming_its_field(field: str, value: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        read_policies(FormData([(field, value)]), {}, "UTC")
    assert (refused.value.pointer or "").rsplit("/", 1)[-1] == field
