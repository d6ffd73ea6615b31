"""Request and response documents of payments, refunds and the charge, for validation and OpenAPI.

Provider fields (the card token of ``sandbox``, the PaymentMethod of ``stripe``, the approved order
id of ``paypal``, ``return-url``) are attributes named by the provider's ``payment_form_schema``;
those documented here are the built-in ones, and an attribute the chosen provider does not name is
refused with a pointer at it. Action types: ``payment-confirm``, ``payment-cancel``,
``refund-done``, ``refund-cancel``, ``refund-process``; creating a refund takes ``refunds``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from boxoffice.api.fields import Timestamp
from boxoffice.errors import InvalidValue
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
from boxoffice.providers.base import PaymentProvider
from boxoffice.providers.registry import IMPLICIT, provider_class

Token = str | None
_TOKEN = (
    "The provider's token: a card number for sandbox, a PaymentMethod id for stripe, the approved order id for paypal."
)


class ProviderFields(Attributes):
    """Attributes a provider reads from the document (others of the chosen provider are accepted too)."""

    model_config = ConfigDict(extra="allow")

    sandbox: Token = Field(default=None, max_length=100, description=_TOKEN)
    stripe: Token = Field(default=None, max_length=500, description=_TOKEN)
    paypal: Token = Field(default=None, max_length=100, description=_TOKEN)
    return_url: str | None = Field(
        default=None, max_length=2000, description="Where a confirmation page sends the buyer back (this site only)."
    )


# -- the Open Event charge -------------------------------------------------------------------------


class ChargeData(ResourceData):
    type: Literal["charge", "charges"]
    attributes: ProviderFields = Field(default_factory=ProviderFields)


class ChargeRequest(RequestDocument):
    data: ChargeData


class ChargeAttributes(Attributes):
    status: bool = Field(description="True when the money was taken.")
    message: str
    redirect_url: str | None = Field(default=None, description="Where the buyer confirms, when that is needed.")


ChargeDocument = resource_response_model("charge", ChargeAttributes, ["order", "payment"])

# -- payments --------------------------------------------------------------------------------------


class PaymentCreateAttributes(ProviderFields):
    provider: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The buyer's choice (default: the order's payment mode); for the organizer, who took the "
        "money (default: manual).",
    )
    amount: DecimalString | None = Field(
        default=None, description="Organizer only; required to record a confirmed payment; default: what is left to pay."
    )
    state: Literal["created", "pending", "confirmed"] | None = Field(
        default=None,
        description="Organizer only: record a payment in this state (confirmed: the money arrived, with its "
        "amount); without it an attempt starts, as the buyer's.",
    )


class PaymentCreateData(ResourceData):
    type: Literal["payments"]
    attributes: PaymentCreateAttributes = Field(default_factory=PaymentCreateAttributes)


class PaymentCreateRequest(RequestDocument):
    data: PaymentCreateData


class PaymentConfirmAttributes(Attributes):
    amount: DecimalString | None = Field(default=None, description="The amount that arrived, when it differs.")


class PaymentConfirmData(ResourceData):
    type: Literal["payment-confirm"]
    attributes: PaymentConfirmAttributes = Field(default_factory=PaymentConfirmAttributes)


class PaymentConfirmRequest(RequestDocument):
    data: PaymentConfirmData


class MessageAttributes(Attributes):
    message: str | None = Field(default=None, max_length=500, description="Why, for the audit log.")


class PaymentCancelData(ResourceData):
    type: Literal["payment-cancel"]
    attributes: MessageAttributes = Field(default_factory=MessageAttributes)


class PaymentCancelRequest(RequestDocument):
    data: PaymentCancelData


# -- refunds ---------------------------------------------------------------------------------------


class RefundCreateAttributes(Attributes):
    amount: DecimalString | None = Field(default=None, description="Default: all the payment has left.")
    mark_refunded: StrictBool = Field(
        default=False,
        description="True: the money already went back outside boxoffice; record the refund as done.",
    )
    comment: str | None = Field(default=None, max_length=1000)


class PaymentRefundData(ResourceData):
    type: Literal["refunds"]
    attributes: RefundCreateAttributes = Field(default_factory=RefundCreateAttributes)


class PaymentRefundRequest(RequestDocument):
    data: PaymentRefundData


class OrderRefundAttributes(RefundCreateAttributes):
    amount: DecimalString = Field(description="What to give back.")


class OrderRefundRelationships(Relationships):
    payment: ToOne[Literal["payments"]] | None = Field(
        default=None, description="Refund this payment (default: boxoffice proposes which payments)."
    )


class OrderRefundData(ResourceData):
    type: Literal["refunds"]
    attributes: OrderRefundAttributes
    relationships: OrderRefundRelationships = Field(default_factory=OrderRefundRelationships)


class OrderRefundRequest(RequestDocument):
    data: OrderRefundData


class RefundDoneAttributes(Attributes):
    execution_date: Timestamp | None = Field(default=None, description="When the money went back (default now).")


class RefundDoneData(ResourceData):
    type: Literal["refund-done"]
    attributes: RefundDoneAttributes = Field(default_factory=RefundDoneAttributes)


class RefundDoneRequest(RequestDocument):
    data: RefundDoneData


class RefundCancelData(ResourceData):
    type: Literal["refund-cancel"]
    attributes: MessageAttributes = Field(default_factory=MessageAttributes)


class RefundCancelRequest(RequestDocument):
    data: RefundCancelData


class RefundProcessAttributes(Attributes):
    then: Literal["cancel", "pending"] | None = Field(
        default=None,
        description="External refunds only: cancel the order, or return it to pending so the buyer pays again.",
    )
    expires_at: Timestamp | None = Field(default=None, description="With then=pending: the new deadline.")


class RefundProcessData(ResourceData):
    type: Literal["refund-process"]
    attributes: RefundProcessAttributes = Field(default_factory=RefundProcessAttributes)


class RefundProcessRequest(RequestDocument):
    data: RefundProcessData


# -- responses (documentation only) ----------------------------------------------------------------


class PaymentAttributes(Attributes):
    local_id: int
    full_id: str = Field(examples=["ABCDE-P-1"])
    provider: str
    amount: DecimalString
    state: Literal["created", "pending", "confirmed", "failed", "canceled", "refunded"]
    payment_date: datetime | None
    created_at: datetime
    details: dict[str, Any] = Field(description="The provider's details; redirect-url while the buyer must act.")


class RefundAttributes(Attributes):
    local_id: int
    full_id: str = Field(examples=["ABCDE-R-1"])
    provider: str
    amount: DecimalString
    state: Literal["created", "transit", "external", "done", "failed", "canceled"]
    source: Literal["admin", "buyer", "external"]
    comment: str | None
    execution_date: datetime | None
    created_at: datetime
    details: dict[str, Any]


PaymentDocument = resource_response_model("payments", PaymentAttributes, ["order", "refunds"])
PaymentListDocument = list_response_model(PaymentDocument)
RefundDocument = resource_response_model("refunds", RefundAttributes, ["order", "payment"])
RefundListDocument = list_response_model(RefundDocument)


# -- provider fields -------------------------------------------------------------------------------


def provider_form(attributes: ProviderFields, *, exclude: Collection[str] = ()) -> dict[str, Any]:
    """The attributes a client sent, by member name, as the provider's form (``exclude``: Python
    names of attributes that are not the provider's)."""
    return attributes.model_dump(by_alias=True, exclude_unset=True, exclude=set(exclude))


def check_form(plugin: PaymentProvider, form: Mapping[str, Any]) -> None:
    """Refuse attributes the chosen provider does not name in its form (422 at the attribute)."""
    schema = plugin.payment_form_schema or {}
    known = set(schema.get("properties") or {})
    for name in form:
        if name not in known:
            raise InvalidValue(
                f"'{name}' is not a field of {plugin.public_name} payments.",
                pointer=f"/data/attributes/{name}",
                code="unknown-member",
            )


def check_recording_provider(provider: str, pointer: str = "/data/attributes/provider") -> None:
    """The organizer records money taken by an installed provider (never ``free``, which takes none)."""
    if provider == IMPLICIT:
        raise InvalidValue("The free provider settles only orders with nothing to pay.", pointer=pointer)
    provider_class(provider, pointer=pointer)
