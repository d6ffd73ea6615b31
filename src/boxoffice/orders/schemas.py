"""Request and response documents of orders (placing one, its actions) for validation and OpenAPI.

Action bodies are JSON:API documents whose ``type`` names the action: ``order-mark-paid``,
``order-cancel``, ``order-extend``, ``order-reactivate``. Actions without required parameters also
accept an empty body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from boxoffice.api.fields import Timestamp, whole_numbers
from boxoffice.kit.schemas import (
    Attributes,
    DecimalString,
    Relationships,
    RequestDocument,
    ResourceData,
    ToOne,
    list_response_model,
    resource_response_model,
)
from boxoffice.orders.service import MAX_POSITIONS

OrderStatusName = Literal["pending", "paid", "expired", "canceled"]
PaymentStateName = Literal["unpaid", "partially-paid", "paid", "overpaid", "underpaid", "pending-fully-paid", "free"]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Comment = Annotated[str, Field(max_length=1000)]

# -- placing an order -------------------------------------------------------------------------------


class PositionIn(BaseModel):
    """Tickets of one product: ``{"product": "<id>", "quantity": 2}``."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=20, description="The product's id.")
    quantity: int = Field(default=1, ge=1, le=MAX_POSITIONS)

    _whole = whole_numbers("quantity")


class OrderCreateAttributes(Attributes):
    """What a buyer sends to place an order."""

    email: Email
    payment_mode: str = Field(
        min_length=1, max_length=64, description="An enabled payment provider of the event, e.g. sandbox."
    )
    positions: list[PositionIn] = Field(min_length=1, max_length=MAX_POSITIONS)
    locale: str | None = Field(default=None, min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")


class OrderCreateRelationships(Relationships):
    event: ToOne[Literal["events"]]


class OrderCreateData(ResourceData):
    type: Literal["orders"]
    attributes: OrderCreateAttributes
    relationships: OrderCreateRelationships


class OrderCreateRequest(RequestDocument):
    data: OrderCreateData


# -- actions ----------------------------------------------------------------------------------------


class MarkPaidAttributes(Attributes):
    provider: str = Field(default="manual", min_length=1, max_length=64, description="Who took the money.")


class MarkPaidData(ResourceData):
    type: Literal["order-mark-paid"]
    attributes: MarkPaidAttributes = Field(default_factory=MarkPaidAttributes)


class MarkPaidRequest(RequestDocument):
    data: MarkPaidData


class CancelAttributes(Attributes):
    cancellation_fee: DecimalString | None = Field(default=None, description="Kept from what was paid.")
    cancellation_fee_percent: DecimalString | None = Field(
        default=None, description="Percent of the total kept, on top of `cancellation-fee`."
    )
    refund: StrictBool = Field(default=True, description="Refund what was paid minus the fee.")
    comment: Comment | None = None


class CancelData(ResourceData):
    type: Literal["order-cancel"]
    attributes: CancelAttributes = Field(default_factory=CancelAttributes)


class CancelRequest(RequestDocument):
    data: CancelData


class ExtendAttributes(Attributes):
    expires_at: Timestamp


class ExtendData(ResourceData):
    type: Literal["order-extend"]
    attributes: ExtendAttributes


class ExtendRequest(RequestDocument):
    data: ExtendData


class ReactivateAttributes(Attributes):
    expires_at: Timestamp | None = Field(default=None, description="The new deadline (default: the event's rule).")


class ReactivateData(ResourceData):
    type: Literal["order-reactivate"]
    attributes: ReactivateAttributes = Field(default_factory=ReactivateAttributes)


class ReactivateRequest(RequestDocument):
    data: ReactivateData


# -- responses (documentation only) ----------------------------------------------------------------


class OrderAttributes(Attributes):
    """An order and where it stands with money."""

    code: str
    email: str | None
    status: OrderStatusName
    currency: str
    total: DecimalString
    amount: DecimalString = Field(description="The total, under the name Open Event clients read.")
    pending_sum: DecimalString = Field(description="Still to pay (negative: owed back to the buyer).")
    payment_state: PaymentStateName
    has_open_refund: bool
    payment_mode: str | None
    expires_at: datetime
    created_at: datetime
    paid_at: datetime | None
    canceled_at: datetime | None
    locale: str
    test_mode: bool = Field(description="Placed while the event was in test mode (fixed for good).")


class PositionAttributes(Attributes):
    price: DecimalString
    canceled: bool
    attendee_name: str | None
    secret: str = Field(description="The ticket's QR code content (buyer and team only).")


class AuditEntryAttributes(Attributes):
    action: str
    actor: str
    data: dict[str, object]
    created_at: datetime


OrderDocument = resource_response_model(
    "orders", OrderAttributes, ["event", "positions", "payments", "refunds", "audit-entries"]
)
OrderListDocument = list_response_model(OrderDocument)
PositionDocument = resource_response_model("order-positions", PositionAttributes, ["order", "product"])
PositionListDocument = list_response_model(PositionDocument)
AuditEntryListDocument = list_response_model(resource_response_model("audit-entries", AuditEntryAttributes, ["order"]))


# -- changing an order, canceling an event -----------------------------------------------------------


class PriceChangeIn(BaseModel):
    """A new price for one live position: ``{"position": "<id>", "price": "39.00"}``."""

    model_config = ConfigDict(extra="forbid")

    position: str = Field(min_length=1, max_length=20)
    price: DecimalString


class ProductChangeIn(BaseModel):
    """Another product for one live position (its price follows unless set-price names it)."""

    model_config = ConfigDict(extra="forbid")

    position: str = Field(min_length=1, max_length=20)
    product: str = Field(min_length=1, max_length=20)


class OrderChangeAttributes(Attributes):
    """One atomic change: positions added, removed, re-priced or moved to another product."""

    add: list[PositionIn] = Field(default_factory=list, max_length=MAX_POSITIONS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_POSITIONS, description="Position ids.")
    set_price: list[PriceChangeIn] = Field(default_factory=list, max_length=MAX_POSITIONS)
    set_product: list[ProductChangeIn] = Field(default_factory=list, max_length=MAX_POSITIONS)


class OrderChangeData(ResourceData):
    # ``order-change`` follows the actions' ``<resource>-<action>`` pattern; ``order-changes`` is kept.
    type: Literal["order-change", "order-changes"]
    attributes: OrderChangeAttributes


class OrderChangeRequest(RequestDocument):
    data: OrderChangeData


class EventCancelAttributes(Attributes):
    cancellation_fee: DecimalString | None = Field(default=None, description="Kept from each order.")
    cancellation_fee_percent: DecimalString | None = Field(default=None, description="Percent of each order kept.")
    refund: StrictBool = Field(default=True, description="Refund what was paid minus the fee.")
    product: str | None = Field(default=None, max_length=20, description="Only orders with this product.")


class EventCancelData(ResourceData):
    type: Literal["event-cancel", "event-cancellations"]  # the second: the name before v1.1
    attributes: EventCancelAttributes = Field(default_factory=EventCancelAttributes)


class EventCancelRequest(RequestDocument):
    data: EventCancelData
