"""Documents of the books' endpoints: the shred request and the verification report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.kit.schemas import Attributes, RequestDocument, ResourceData, resource_response_model


class ShredAttributes(Attributes):
    include_orders: bool = Field(
        default=False, description="Also erase the buyers' e-mail addresses and attendee names."
    )
    force: bool = Field(default=False, description="Shred although the event has not ended yet.")


class ShredData(ResourceData):
    type: Literal["event-shred", "event-shreds"]  # the second: the name before v1.1
    attributes: ShredAttributes = Field(default_factory=ShredAttributes)


class ShredRequest(RequestDocument):
    data: ShredData


class Drift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(description="What drifted, e.g. `order ABCDE (id 7)`.")
    field: str
    stored: str = Field(description="What the books hold.")
    expected: str = Field(description="What first principles give.")


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="balances, quotas, refund-limits, refunded-payments, audit-trail, export-totals")
    description: str = Field(description="What the check proves when it passes.")
    ok: bool
    checked: int = Field(description="How many orders, quotas, payments, … it looked at.")
    drifts: list[Drift]


class VerificationAttributes(Attributes):
    ok: bool = Field(description="True when every check passed.")
    checks: list[Check]


VerificationDocument = resource_response_model("books-verifications", VerificationAttributes, ["event"])
