import importlib
import re

from fastapi.testclient import TestClient

from boxoffice.app import ROUTER_MODULES, create_app


def test_healthz_answers_ok() -> None:
    client = TestClient(create_app())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_and_docs_are_served() -> None:
    client = TestClient(create_app())
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert client.get("/docs").status_code == 200



def test_no_router_shadows_a_route_of_a_router_listed_after_it() -> None:
    # ROUTER_MODULES puts the buyer's routes first for speed: that is safe only while no route of one
    # module matches a path that a later module serves.
    routes = [
        (module, route.path, route.methods or {"GET"})
        for module in ROUTER_MODULES
        for route in importlib.import_module(module).router.routes
        if hasattr(route, "path")
    ]
    assert len(routes) > 50

    def pattern(path: str) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")

    for index, (module, path, methods) in enumerate(routes):
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for earlier, earlier_path, earlier_methods in routes[:index]:
            if earlier != module and methods & earlier_methods:
                assert not pattern(earlier_path).match(concrete), (earlier, earlier_path, module, path)
