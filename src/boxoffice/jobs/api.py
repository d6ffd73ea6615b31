"""``GET /v1/jobs/{id}``: long-running work (e.g. an event's bulk cancellation) and its progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Reader
from boxoffice.api.fields import ResourceId
from boxoffice.jobs.schemas import JobDocument
from boxoffice.jobs.serializers import JOB_FIELDS, job_resource
from boxoffice.kit.http import JSONAPIResponse, error_responses
from boxoffice.kit.jsonapi import document
from boxoffice.kit.query import Query, QuerySpec

router = APIRouter(tags=["jobs"], default_response_class=JSONAPIResponse)

JOB = QuerySpec("jobs", fields={"jobs": JOB_FIELDS})


@router.get(
    "/v1/jobs/{job_id}",
    response_model=JobDocument,
    responses=error_responses(400, 401, 404),
    summary="A job and its progress (the organizer's team)",
)
def get_job(job_id: ResourceId, call: Reader, query: Annotated[Query, Depends(JOB)]) -> Response:
    with call.unit() as tx:
        return JSONAPIResponse(document(job_resource(access.job(tx, job_id), query.fields_for("jobs"))))
