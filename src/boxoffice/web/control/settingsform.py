"""Forms generated from a provider's settings model (its Pydantic JSON schema), and the event's policies.

A provider's own settings appear without any code here: each property of ``settings_model``'s schema
becomes an input by its type (boolean → checkbox, array → comma-separated text, date-time, decimal,
text); fields named in ``secret_fields`` are password inputs that keep the stored secret when left empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData

from boxoffice.catalogue.policies import LatePaymentPolicy, check_settings, late_payment_policy
from boxoffice.errors import InvalidValue
from boxoffice.providers.base import PaymentProvider
from boxoffice.web.templating import local_input, parse_local

# Clearer words than the field names for the settings every provider has.
LABELS = {
    "enabled": "Offer this payment method",
    "fee-abs": "Fixed fee",
    "fee-percent": "Fee in percent of the amount",
    "fee-reverse-calc": "The fee covers itself (reverse calculation)",
    "min-total": "Offer only from this order total",
    "max-total": "Offer only up to this order total",
    "available-from": "Offer from",
    "available-until": "Offer until",
    "restricted-countries": "Not offered to buyers from (country codes)",
    "public-name": "Name shown to buyers",
}


@dataclass(frozen=True)
class SettingField:
    name: str
    label: str
    kind: str  # checkbox, text, decimal, datetime, list, secret, textarea
    value: Any
    optional: bool
    secret_set: bool = False
    # The provider's explanation of the setting (its ``description``): where the value comes from.
    help: str = ""


def _types(spec: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    options = spec.get("anyOf") or [spec]
    return {o.get("type", "") for o in options}, {o.get("format", "") for o in options}


def _kind(spec: Mapping[str, Any], secret: bool) -> str:
    types, formats = _types(spec)
    if secret:
        return "secret"
    if "boolean" in types:
        return "checkbox"
    if "array" in types:
        return "list"
    if "date-time" in formats:
        return "datetime"
    if "number" in types or "integer" in types:
        return "decimal"
    if int(spec.get("maxLength") or 0) > 200:
        return "textarea"
    return "text"


def _secret_aliases(plugin: type[PaymentProvider]) -> set[str]:
    return {name.replace("_", "-") for name in plugin.settings_model.secret_fields}


def provider_fields(plugin: type[PaymentProvider], stored: Mapping[str, Any]) -> list[SettingField]:
    """The inputs of ``plugin``'s settings, filled with what is stored (secrets never shown)."""
    model = plugin.settings_model
    schema = model.model_json_schema(by_alias=True)
    current = model.load(stored).model_dump(by_alias=True, mode="json")
    secrets = _secret_aliases(plugin)
    fields = []
    for name, spec in schema.get("properties", {}).items():
        kind = _kind(spec, name in secrets)
        value = current.get(name)
        if kind == "list":
            value = ", ".join(value or [])
        elif kind == "secret":
            value = ""
        label = LABELS.get(name) or str(spec.get("title") or name).replace("-", " ").capitalize()
        optional = "null" in _types(spec)[0]
        help_text = str(spec.get("description") or "")
        fields.append(SettingField(name, label, kind, value, optional, bool(current.get(name)), help_text))
    return fields


def read_provider_form(plugin: type[PaymentProvider], form: FormData, prefix: str) -> dict[str, Any]:
    """The raw settings the organizer sent for ``plugin`` (validated afterwards by the provider)."""
    raw: dict[str, Any] = {}
    for field in provider_fields(plugin, {}):
        value = form.get(f"{prefix}{field.name}")
        text = value.strip() if isinstance(value, str) else ""
        if field.kind == "checkbox":
            raw[field.name] = text in ("on", "true", "1")
        elif field.kind == "secret":
            if text:  # left empty: the stored secret stays
                raw[field.name] = text
        elif field.kind == "list":
            raw[field.name] = [part.strip() for part in text.split(",") if part.strip()]
        elif not text:
            if field.optional:
                raw[field.name] = None
            elif field.kind == "text" or field.kind == "textarea":
                raw[field.name] = ""
        else:
            raw[field.name] = text
    return raw


# The event's policies: expiry (read by ``orders.service.deadline_for``), late payments, changes.
POLICY_KEYS = (
    "expiry-minutes", "expiry-days", "expiry-skip-weekends", "last-payment-date",
    "expiry-reminder-hours", "late-payment-policy", "change-underpaid-policy",
)
CHANGE_UNDERPAID = ("pending", "keep-paid")
LATE_POLICIES = tuple(p.value for p in LatePaymentPolicy)


def _whole(form: FormData, name: str, minimum: int) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < minimum:
        raise InvalidValue(f"{name} is a whole number from {minimum}.", pointer=name)
    return int(raw)


def policy_values(settings: Mapping[str, Any], timezone: str) -> dict[str, Any]:
    """The policy form's values from the event's settings."""
    values = {key: settings.get(key) for key in POLICY_KEYS}
    values["late-payment-policy"] = late_payment_policy(settings).value  # the default is preselected
    last = settings.get("last-payment-date")
    values["last-payment-date"] = local_input(datetime.fromisoformat(last), timezone) if last else ""
    return values


def read_policies(form: FormData, current: Mapping[str, Any], timezone: str) -> dict[str, Any]:
    """The event's settings with the policy form applied (keys left empty are removed); 422 on bad values."""
    updated = {k: v for k, v in current.items() if k not in POLICY_KEYS}
    chosen: dict[str, Any] = {
        "expiry-minutes": _whole(form, "expiry-minutes", 1),
        "expiry-days": _whole(form, "expiry-days", 0),
        "expiry-reminder-hours": _whole(form, "expiry-reminder-hours", 0),
        "expiry-skip-weekends": form.get("expiry-skip-weekends") == "on" or None,
    }
    last = str(form.get("last-payment-date") or "").strip()
    if last:
        try:
            chosen["last-payment-date"] = parse_local(last, timezone).isoformat()
        except ValueError:
            raise InvalidValue(f"'{last}' is not a date and time.", pointer="last-payment-date") from None
    late = str(form.get("late-payment-policy") or "")
    if late:
        chosen["late-payment-policy"] = late
    change = str(form.get("change-underpaid-policy") or "")
    if change:
        if change not in CHANGE_UNDERPAID:
            raise InvalidValue(f"change-underpaid-policy is one of {', '.join(CHANGE_UNDERPAID)}.",
                               pointer="change-underpaid-policy")
        chosen["change-underpaid-policy"] = change
    chosen = {k: v for k, v in chosen.items() if v is not None}
    check_settings(chosen, pointer="")
    return {**updated, **chosen}
