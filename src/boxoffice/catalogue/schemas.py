"""Request and response documents of the catalogue (organizers, events, products, quotas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from boxoffice.api.fields import Timestamp, whole_numbers
from boxoffice.kit.schemas import (
    Attributes,
    CurrencyCode,
    DecimalString,
    Relationships,
    RequestDocument,
    ResourceData,
    ToMany,
    ToOne,
    list_response_model,
    resource_response_model,
)

Name = Annotated[str, Field(min_length=1, max_length=200)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="Lower-case letters, digits, dashes.")]
TimeZone = Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]
QuotaSize = Annotated[int | None, Field(ge=0, le=10_000_000, description="null: unlimited.")]
Position = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
Location = Annotated[str, Field(max_length=500)]
Description = Annotated[str, Field(max_length=20_000)]
MaxPerOrder = Annotated[int | None, Field(ge=1, le=100, description="null: no limit but the order's own.")]
_LIVE = "The shop sells only while the event is live; a new event is a draft."
_TEST = "Orders placed in test mode are test orders; the sandbox provider works only in test mode."
_PROVIDERS = (
    "Provider id → settings (enabled, fee-abs, fee-percent and the provider's own). Providers left out "
    "keep their settings; secrets left out are kept and never shown."
)
_SETTINGS = "Event policies (expiry-minutes, late-payment-policy, …); the keys given change, null removes one."

# -- events ----------------------------------------------------------------------------------------


class EventCreateAttributes(Attributes):
    name: Name
    slug: Slug
    currency: CurrencyCode
    timezone: TimeZone = "UTC"
    date_from: Timestamp | None = None
    date_to: Timestamp | None = None
    location: Location = ""
    description: Description = ""
    live: StrictBool = Field(default=False, description=_LIVE)
    test_mode: StrictBool = Field(default=False, description=_TEST)
    payment_providers: dict[str, Any] = Field(default_factory=dict, description=_PROVIDERS)
    settings: dict[str, Any] = Field(default_factory=dict, description=_SETTINGS)


class EventCreateRelationships(Relationships):
    organizer: ToOne[Literal["organizers"]]


class EventCreateData(ResourceData):
    type: Literal["events"]
    attributes: EventCreateAttributes
    relationships: EventCreateRelationships


class EventCreateRequest(RequestDocument):
    data: EventCreateData


class EventUpdateAttributes(Attributes):
    name: Name | None = None
    slug: Slug | None = None
    currency: CurrencyCode | None = None
    timezone: TimeZone | None = None
    date_from: Timestamp | None = None
    date_to: Timestamp | None = None
    location: Location | None = None
    description: Description | None = None
    live: StrictBool | None = Field(default=None, description=_LIVE)
    test_mode: StrictBool | None = Field(default=None, description=_TEST)
    payment_providers: dict[str, Any] | None = Field(default=None, description=_PROVIDERS)
    settings: dict[str, Any] | None = Field(default=None, description=_SETTINGS)


class EventUpdateData(ResourceData):
    type: Literal["events"]
    id: str
    attributes: EventUpdateAttributes = Field(default_factory=EventUpdateAttributes)


class EventUpdateRequest(RequestDocument):
    data: EventUpdateData


# -- products --------------------------------------------------------------------------------------


class ProductCreateAttributes(Attributes):
    name: Name
    price: DecimalString
    active: StrictBool = True
    position: Position = 0
    description: Description = ""
    available_from: Timestamp | None = None
    available_until: Timestamp | None = None
    max_per_order: MaxPerOrder = None

    _whole = whole_numbers("position", "max_per_order")


class ProductCreateRelationships(Relationships):
    event: ToOne[Literal["events"]]
    quotas: ToMany[Literal["quotas"]] | None = None


class ProductCreateData(ResourceData):
    type: Literal["products"]
    attributes: ProductCreateAttributes
    relationships: ProductCreateRelationships


class ProductCreateRequest(RequestDocument):
    data: ProductCreateData


class ProductUpdateAttributes(Attributes):
    name: Name | None = None
    price: DecimalString | None = None
    active: StrictBool | None = None
    position: Position | None = None
    description: Description | None = None
    available_from: Timestamp | None = None
    available_until: Timestamp | None = None
    max_per_order: MaxPerOrder = None

    _whole = whole_numbers("position", "max_per_order")


class ProductUpdateRelationships(Relationships):
    quotas: ToMany[Literal["quotas"]] | None = None


class ProductUpdateData(ResourceData):
    type: Literal["products"]
    id: str
    attributes: ProductUpdateAttributes = Field(default_factory=ProductUpdateAttributes)
    relationships: ProductUpdateRelationships = Field(default_factory=ProductUpdateRelationships)


class ProductUpdateRequest(RequestDocument):
    data: ProductUpdateData


# -- quotas ----------------------------------------------------------------------------------------


class QuotaCreateAttributes(Attributes):
    name: Name
    size: QuotaSize

    _whole = whole_numbers("size")


class QuotaCreateRelationships(Relationships):
    event: ToOne[Literal["events"]]


class QuotaCreateData(ResourceData):
    type: Literal["quotas"]
    attributes: QuotaCreateAttributes
    relationships: QuotaCreateRelationships


class QuotaCreateRequest(RequestDocument):
    data: QuotaCreateData


class QuotaUpdateAttributes(Attributes):
    name: Name | None = None
    size: QuotaSize = None

    _whole = whole_numbers("size")


class QuotaUpdateData(ResourceData):
    type: Literal["quotas"]
    id: str
    attributes: QuotaUpdateAttributes = Field(default_factory=QuotaUpdateAttributes)


class QuotaUpdateRequest(RequestDocument):
    data: QuotaUpdateData


# -- responses (documentation only) ----------------------------------------------------------------


class OrganizerAttributes(Attributes):
    slug: str
    name: str
    created_at: datetime


class EventAttributes(Attributes):
    name: str
    slug: str
    currency: str
    timezone: str
    date_from: datetime | None
    date_to: datetime | None
    location: str
    description: str
    live: bool
    test_mode: bool
    payment_providers: dict[str, Any] = Field(description="Every installed provider's settings, secrets left out.")
    settings: dict[str, Any]
    created_at: datetime


class ProductAttributes(Attributes):
    name: str
    price: DecimalString
    active: bool
    position: int
    description: str
    available_from: datetime | None
    available_until: datetime | None
    max_per_order: int | None


class QuotaAttributes(Attributes):
    name: str
    size: int | None
    used: int
    available: int | None = Field(description="Seats left; null when unlimited.")


OrganizerDocument = resource_response_model("organizers", OrganizerAttributes, ["events"])
OrganizerListDocument = list_response_model(OrganizerDocument)
EventDocument = resource_response_model("events", EventAttributes, ["organizer", "products", "quotas"])
EventListDocument = list_response_model(EventDocument)
ProductDocument = resource_response_model("products", ProductAttributes, ["event", "quotas"])
ProductListDocument = list_response_model(ProductDocument)
QuotaDocument = resource_response_model("quotas", QuotaAttributes, ["event", "products"])
QuotaListDocument = list_response_model(QuotaDocument)
