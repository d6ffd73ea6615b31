"""Query parameters: include, fields, sort, filter and page, each checked against the endpoint's lists."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from boxoffice.errors import BadRequest
from boxoffice.kit.pagination import PageRequest, encode_cursor
from boxoffice.kit.query import (
    Query,
    QuerySpec,
    SortKey,
    any_of,
    boolean,
    integer,
    one_of,
    text,
    timestamp,
)
from jsonapi_schema import assert_jsonapi

SPEC = QuerySpec(
    "orders",
    include={"event", "payments.refunds"},
    fields={"orders": {"code", "total", "event"}, "events": {"name"}},
    sort={"code", "created-at", "id"},
    default_sort="-created-at",
    filters={
        "status": one_of("pending", "paid"),
        "has-open-refund": boolean,
        "code": text,
        "states": any_of("created", "done"),
        "min-total": integer,
        "since": timestamp,
    },
    cursor=True,
    extra={"access-token"},
)


def request(query: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/v1/orders", "query_string": query.encode(), "headers": []}
    )


def parse(query: str, spec: QuerySpec = SPEC) -> Query:
    return spec.parse(request(query))


def refusal(query: str, spec: QuerySpec = SPEC) -> BadRequest:
    with pytest.raises(BadRequest) as info:
        parse(query, spec)
    assert info.value.status == 400
    return info.value


def test_no_parameters_gives_the_defaults() -> None:
    query = parse("")
    assert query.include == frozenset()
    assert query.fields == {}
    assert query.sort == (SortKey("created-at", descending=True),)
    assert query.filters == {}
    assert query.page == PageRequest(size=25, number=1)
    assert query.fields_for("orders") is None


def test_everything_at_once() -> None:
    query = parse(
        "include=payments.refunds,event&fields[orders]=code,event&fields[events]=&sort=code,-id"
        "&filter[status]=paid&filter[has-open-refund]=true&page[size]=10&page[number]=3&access-token=x"
    )
    assert query.include == {"event", "payments", "payments.refunds"}
    assert query.includes("payments") and query.includes("payments.refunds") and not query.includes("refunds")
    assert query.fields_for("orders") == {"code", "event"}
    assert query.fields_for("events") == frozenset()
    assert query.sort == (SortKey("code"), SortKey("id", descending=True))
    assert query.sort_param == "code,-id"
    assert query.filters == {"status": "paid", "has-open-refund": True}
    assert query.page == PageRequest(size=10, number=3)
    assert (query.page.offset, query.page.limit) == (20, 11)
    assert query.extra == {"access-token": "x"}


@pytest.mark.parametrize(
    ("query", "parameter", "code"),
    [
        ("include=customer", "include", "unsupported-include"),
        ("include=payments.refunds.order", "include", "unsupported-include"),
        ("sort=total", "sort", "unsupported-sort"),
        ("sort=", "sort", "unsupported-sort"),
        ("fields[orders]=email", "fields[orders]", "unknown-field"),
        ("fields[people]=name", "fields[people]", "unknown-type"),
        ("filter[color]=red", "filter[color]", "unknown-filter"),
        ("filter[status]=lost", "filter[status]", "invalid-filter"),
        ("filter[has-open-refund]=yes", "filter[has-open-refund]", "invalid-filter"),
        ("filter[code]=", "filter[code]", "invalid-filter"),
        ("filter[states]=created,gone", "filter[states]", "invalid-filter"),
        ("filter[min-total]=1.5", "filter[min-total]", "invalid-filter"),
        ("filter[since]=2025-01-01", "filter[since]", "invalid-filter"),
        ("filter[since]=yesterday", "filter[since]", "invalid-filter"),
        ("filter=paid", "filter", "unknown-parameter"),
        ("filter[a][b]=1", "filter[a][b]", "unknown-parameter"),
        ("page[size]=101", "page[size]", "page-size-too-large"),
        ("page[size]=0", "page[size]", "invalid-page-size"),
        ("page[size]=ten", "page[size]", "invalid-page-size"),
        ("page[number]=0", "page[number]", "invalid-page-number"),
        ("page[number]=-1", "page[number]", "invalid-page-number"),
        ("page[offset]=5", "page[offset]", "unknown-parameter"),
        ("page[cursor]=garbage", "page[cursor]", "invalid-cursor"),
        ("xyz[a]=1", "xyz[a]", "unknown-parameter"),
        ("foo=1", "foo", "unknown-parameter"),
        ("include=event&include=event", "include", "repeated-parameter"),
    ],
)
def test_refusals_name_the_parameter(query: str, parameter: str, code: str) -> None:
    error = refusal(query)
    assert (error.parameter, error.code) == (parameter, code)
    assert error.as_jsonapi()["source"] == {"parameter": parameter}


def test_filter_values_are_parsed() -> None:
    query = parse("filter[states]=created,done&filter[min-total]=-3&filter[since]=2025-01-31T12:00:00Z&filter[code]=AB")
    assert query.filters == {
        "states": {"created", "done"},
        "min-total": -3,
        "since": datetime(2025, 1, 31, 12, tzinfo=UTC),
        "code": "AB",
    }


def test_the_first_mention_of_a_sort_field_counts() -> None:
    assert parse("sort=-code,id,code").sort == (SortKey("code", descending=True), SortKey("id"))


def test_an_empty_include_includes_nothing() -> None:
    assert parse("include=").include == frozenset()


def test_fields_of_any_type_when_the_endpoint_lists_none() -> None:
    assert parse("fields[whatever]=a,b", QuerySpec("things")).fields_for("whatever") == {"a", "b"}


def test_cursor_is_bound_to_the_sort_order() -> None:
    token = encode_cursor([datetime(2025, 1, 31, tzinfo=UTC), "17"], "-created-at")
    assert parse(f"page[cursor]={token}").page.cursor == (datetime(2025, 1, 31, tzinfo=UTC), "17")
    assert refusal(f"page[cursor]={token}&sort=code").code == "invalid-cursor"
    assert refusal(f"page[cursor]={token}&page[number]=2").code == "page-conflict"


def test_cursor_only_where_the_endpoint_allows_it() -> None:
    token = encode_cursor(["1"], "")
    assert refusal(f"page[cursor]={token}", QuerySpec("orders")).code == "unknown-parameter"


def test_page_size_limits_are_per_endpoint() -> None:
    spec = QuerySpec("audit-entries", page_size=50, max_page_size=500)
    assert parse("", spec).page.size == 50
    assert parse("page[size]=500", spec).page.size == 500
    assert refusal("page[size]=501", spec).code == "page-size-too-large"


def test_the_spec_is_an_async_fastapi_dependency() -> None:
    query = asyncio.run(SPEC(request("sort=code")))
    assert query.sort == (SortKey("code"),)


def test_through_the_app(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.get("/v1/orders", params={"filter[status]": "paid", "sort": "-total", "page[size]": "2"})
    assert response.status_code == 200
    doc = response.json()
    assert_jsonapi(doc)
    assert [o["attributes"]["total"] for o in doc["data"]] == ["1470.00", "1323.00"]
    assert doc["meta"] == {"count": 10}


def test_refusal_through_the_app(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.get("/v1/orders?page[size]=1000")
    assert response.status_code == 400
    doc = response.json()
    assert_jsonapi(doc)
    assert doc["errors"][0]["code"] == "page-size-too-large"
    assert doc["errors"][0]["source"] == {"parameter": "page[size]"}


def test_fastapi_type_checks_of_documented_parameters_are_400s(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.get("/v1/orders?page[number]=two")
    assert response.status_code == 400
    doc: dict[str, Any] = response.json()
    assert_jsonapi(doc)
    assert doc["errors"][0]["source"] == {"parameter": "page[number]"}


def test_sparse_fieldsets_and_includes_through_the_app(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.get("/v1/orders/3?include=event,payments&fields[orders]=total,event")
    doc = response.json()
    assert_jsonapi(doc)
    assert doc["data"]["attributes"] == {"total": "147.00"}
    assert list(doc["data"]["relationships"]) == ["event"]
    assert [(r["type"], r["id"]) for r in doc["included"]] == [("events", "1"), ("payments", "3")]
