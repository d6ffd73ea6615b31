"""Per-event settings of a payment provider: the common ones every provider has, validated on save.

Settings live in ``Event.payment_providers[identifier]`` under dasherized names (``fee-abs``), the
same names the API's ``payment-providers`` object uses. A provider adds its own fields by
subclassing :class:`ProviderSettings`; fields named in ``secret_fields`` are write-only: accepted on
save, kept when a later save leaves them out, and never shown on read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from boxoffice.errors import InvalidValue
from boxoffice.kit.money import ZERO, amount_text_problem, normalize, parse_percent

_COUNTRY = re.compile(r"^[A-Z]{2}$")
# What the API shows instead of a list of secret values: which secrets are set.
SECRETS_SET = "secrets-set"


def _dasherize(name: str) -> str:
    return name.replace("_", "-")


class ProviderSettings(BaseModel):
    """Settings every provider has, per event. Subclass to add a provider's own fields."""

    model_config = ConfigDict(alias_generator=_dasherize, populate_by_name=True, extra="forbid")

    enabled: bool = False
    # The fee the buyer pays for choosing this provider: absolute plus percent of the amount.
    fee_abs: Decimal = Field(default=ZERO, ge=0)
    fee_percent: Decimal = Field(default=ZERO, ge=0, le=100)
    # Reverse calculation: the fee covers itself, so the organizer keeps the amount after the
    # provider takes its percentage of the grand total.
    fee_reverse_calc: bool = False
    min_total: Decimal | None = Field(default=None, ge=0)
    max_total: Decimal | None = Field(default=None, ge=0)
    available_from: datetime | None = None
    available_until: datetime | None = None
    # ISO 3166 alpha-2 codes of buyer countries this provider is not offered to.
    restricted_countries: list[str] = Field(default_factory=list)
    # The name buyers see (default: the provider's own public name).
    public_name: str | None = Field(default=None, max_length=200)

    # Python names of the fields that are secrets.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("fee_abs", "min_total", "max_total", mode="before")
    @classmethod
    def _amount_text(cls, value: Any) -> Any:
        if value is None or isinstance(value, Decimal):
            return value  # null (no limit), or set in Python code
        if not isinstance(value, str) or amount_text_problem(value) is not None:
            raise ValueError('use a decimal string of ASCII digits such as "0.50", zero or more')
        return value

    @field_validator("fee_percent", mode="before")
    @classmethod
    def _percent_text(cls, value: Any) -> Any:
        if isinstance(value, Decimal):
            return value
        if parse_percent(value) is None:
            raise ValueError('use a decimal string from "0" to "100", such as "1.5"')
        return value

    @field_validator("available_from", "available_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2025-01-31T12:00:00Z")
        return value

    @field_validator("restricted_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        codes = sorted({code.strip().upper() for code in value})
        for code in codes:
            if not _COUNTRY.match(code):
                raise ValueError(f"'{code}' is not an ISO 3166 two-letter country code")
        return codes

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_total is not None and self.max_total is not None and self.min_total > self.max_total:
            raise ValueError("min-total is above max-total")
        if self.available_from and self.available_until and self.available_from >= self.available_until:
            raise ValueError("available-from is not before available-until")
        if self.fee_reverse_calc and self.fee_percent >= 100:
            raise ValueError("a fee that covers itself needs fee-percent below 100")
        return self

    @classmethod
    def load(cls, stored: Mapping[str, Any]) -> Self:
        """The settings as stored for an event. Keys this version no longer knows are ignored, so an
        upgrade that drops a setting does not take a provider offline."""
        known = {field.alias or name for name, field in cls.model_fields.items()} | set(cls.model_fields)
        return cls.model_validate({k: v for k, v in stored.items() if k in known})

    def public_dict(self) -> dict[str, Any]:
        """The settings as the API shows them: secrets left out (only which ones are set)."""
        data = self.model_dump(by_alias=True, mode="json", exclude=set(self.secret_fields))
        data[SECRETS_SET] = sorted(_dasherize(name) for name in self.secret_fields if getattr(self, name))
        return data


def validate_settings(
    model: type[ProviderSettings],
    identifier: str,
    raw: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None = None,
    currency: str | None = None,
    pointer: str = "/data/attributes/payment-providers",
) -> dict[str, Any]:
    """Validate ``raw`` settings of provider ``identifier`` for storage and return what to store.

    ``raw`` changes ``current`` (what is stored now): fields left out keep their stored value, so a
    client that never sees a secret does not erase it by saving the other settings. Amounts must fit
    ``currency``. Errors point at the offending member, e.g.
    ``/data/attributes/payment-providers/sandbox/fee-abs``.
    """
    where = f"{pointer}/{identifier}"
    if not isinstance(raw, Mapping):
        raise InvalidValue(f"The settings of '{identifier}' must be an object.", pointer=where)
    raw = dict(raw)
    raw.pop(SECRETS_SET, None)  # read-only, but a client may send back what it read
    merged = {**model.load(current or {}).model_dump(by_alias=True, mode="json"), **raw}
    try:
        settings = model.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        member = "/".join(_dasherize(str(part)) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidValue(
            f"{identifier}: {message}.", pointer=f"{where}/{member}" if member else where, code="invalid-setting"
        ) from exc
    if currency is not None:
        for name in ("fee_abs", "min_total", "max_total"):
            value = getattr(settings, name)
            if value is None:
                continue
            try:
                normalize(value, currency)
            except InvalidValue as exc:
                raise InvalidValue(
                    f"{identifier}: {exc.detail}", pointer=f"{where}/{_dasherize(name)}", code="invalid-setting"
                ) from exc
    return settings.model_dump(by_alias=True, mode="json")
