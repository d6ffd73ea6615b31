import importlib
import os
import re
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient

from boxoffice import app as app_module
from boxoffice.app import M_ARENA_MAX, MALLOC_ARENAS, ROUTER_MODULES, create_app, trimming_malloc, tune_malloc

# Libraries that only some requests or jobs use, each worth megabytes of a web process's memory.
LOADED_WHEN_USED = ("stripe", "httpx", "xlsxwriter", "pygal", "lxml", "zxingcpp", "fpdf", "PIL", "fontTools")


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


def test_a_served_app_has_loaded_no_library_that_only_some_requests_use() -> None:
    # A fresh interpreter: this one has loaded them all for other tests.
    code = "import sys; from boxoffice.app import serve_app; serve_app(); print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ)
    ).stdout.split()
    assert "boxoffice.providers.stripe.gateway" in loaded
    assert sorted({name.split(".")[0] for name in loaded} & set(LOADED_WHEN_USED)) == []


def test_malloc_is_tuned_where_the_environment_does_not_tune_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(app_module.ctypes, "CDLL", lambda name: Libc())
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    tune_malloc()
    assert calls == [(M_ARENA_MAX, MALLOC_ARENAS)]


def test_malloc_tuning_is_skipped_where_the_c_library_has_no_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module.ctypes, "CDLL", lambda name: object())
    tune_malloc()


def test_freed_memory_is_handed_back_while_the_app_runs_and_no_longer_after(monkeypatch: pytest.MonkeyPatch) -> None:
    trimmed = threading.Semaphore(0)

    class Libc:
        def malloc_trim(self, pad: int) -> int:
            trimmed.release()
            return 1

    monkeypatch.setattr(app_module.ctypes, "CDLL", lambda name: Libc())
    with trimming_malloc(every=0.01):
        assert trimmed.acquire(timeout=5) and trimmed.acquire(timeout=5)
    while trimmed.acquire(blocking=False):
        pass
    assert not trimmed.acquire(timeout=0.05)
    assert not any(thread.name == "boxoffice-malloc-trim" for thread in threading.enumerate())
