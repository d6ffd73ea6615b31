"""The response document of a job (documentation only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from boxoffice.kit.schemas import Attributes, resource_response_model


class JobAttributes(Attributes):
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    progress: int = Field(description="Items done so far.")
    total: int | None = Field(description="Items to do, once known.")
    result: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


JobDocument = resource_response_model("jobs", JobAttributes, ["event"])
