"""Pages: numbered with a count, numbered without one, keyset cursors, and the links between them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from boxoffice.errors import BadRequest
from boxoffice.kit.pagination import Page, PageRequest, decode_cursor, encode_cursor, pagination_links
from jsonapi_schema import assert_jsonapi


def request(query: str = "", path: str = "/v1/orders") -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": []})


def test_counted_pages() -> None:
    page = Page.counted(["a", "b"], PageRequest(size=2, number=2), total=5)
    assert page.has_next and page.last_number == 3 and page.meta() == {"count": 5}
    last = Page.counted(["e"], PageRequest(size=2, number=3), total=5)
    assert not last.has_next
    empty = Page.counted([], PageRequest(size=2), total=0)
    assert empty.last_number == 1 and not empty.has_next


def test_numbered_links_keep_other_parameters() -> None:
    page = Page.counted(list(range(10)), PageRequest(size=10, number=2), total=35)
    links = pagination_links(request("filter[status]=paid&page[size]=10&page[number]=2&sort=-code"), page)
    base = "/v1/orders?filter[status]=paid&page[size]=10&sort=-code"
    assert links == {
        "self": base + "&page[number]=2",
        "first": base,
        "prev": base,
        "next": base + "&page[number]=3",
        "last": base + "&page[number]=4",
    }
    assert_jsonapi({"data": [], "links": links})


def test_first_page_links() -> None:
    links = pagination_links(request(), Page.counted([1], PageRequest(size=25), total=1))
    assert links == {"self": "/v1/orders", "first": "/v1/orders", "prev": None, "next": None, "last": "/v1/orders"}


def test_values_are_escaped_in_links() -> None:
    links = pagination_links(request("filter[email]=a%26b%40x.org"), Page.counted([1], PageRequest(size=1), total=2))
    assert links["next"] == "/v1/orders?filter[email]=a%26b%40x.org&page[number]=2"


def test_uncounted_pages_from_one_extra_row() -> None:
    req = PageRequest(size=3, number=1)
    page = Page.from_rows([1, 2, 3, 4], req)
    assert page.items == [1, 2, 3] and page.has_next and page.total is None and page.next_cursor is None
    links = pagination_links(request(), page)
    assert links["next"] == "/v1/orders?page[number]=2" and "last" not in links
    assert not Page.from_rows([1, 2], req).has_next


@pytest.mark.parametrize(
    "key",
    [
        (datetime(2025, 1, 31, 12, 30, 15, 123456, tzinfo=UTC), "42"),
        (Decimal("49.00"), 7),
        (date(2025, 1, 31), None, True, "ä/+="),
    ],
)
def test_cursor_round_trip(key: tuple) -> None:
    token = encode_cursor(key, "-created-at,id")
    assert "=" not in token and "/" not in token and "+" not in token
    assert decode_cursor(token, "-created-at,id") == key


@pytest.mark.parametrize(
    "token", ["", "!!!", "bm90IGpzb24", encode_cursor(["1"], "code"), "eyJzIjoiIiwiayI6W3sieCI6IjEifV19"]
)
def test_bad_cursors_are_400(token: str) -> None:
    with pytest.raises(BadRequest) as info:
        decode_cursor(token, "")
    assert info.value.code == "invalid-cursor" and info.value.parameter == "page[cursor]"


def test_keyset_page_and_links() -> None:
    rows = [(datetime(2025, 1, i, tzinfo=UTC), str(i)) for i in range(1, 5)]
    page = Page.from_rows(rows, PageRequest(size=3), key=lambda row: row, sort="created-at")
    assert page.items == rows[:3]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, "created-at") == rows[2]
    links = pagination_links(request("page[size]=3"), page)
    assert links["next"] == f"/v1/orders?page[size]=3&page[cursor]={page.next_cursor}"
    assert links["prev"] is None and "last" not in links


def test_walking_a_keyset_collection_through_the_app(jsonapi_client: TestClient) -> None:
    url: str | None = "/v1/payments?page[size]=7"
    seen: list[str] = []
    while url is not None:
        response = jsonapi_client.get(url)
        assert response.status_code == 200, response.text
        doc = response.json()
        assert_jsonapi(doc)
        seen += [p["id"] for p in doc["data"]]
        url = doc["links"]["next"]
    assert seen == [str(i) for i in range(1, 31)]  # ties on created-at are broken by id: nothing lost or doubled


def test_walking_a_numbered_collection_through_the_app(jsonapi_client: TestClient) -> None:
    url: str | None = "/v1/orders?page[size]=8&filter[status]=pending&sort=code"
    seen: list[str] = []
    while url is not None:
        doc = jsonapi_client.get(url).json()
        assert_jsonapi(doc)
        seen += [o["id"] for o in doc["data"]]
        assert doc["links"]["last"] == "/v1/orders?page[size]=8&filter[status]=pending&sort=code&page[number]=3"
        url = doc["links"]["next"]
    assert len(seen) == 20 == len(set(seen))
