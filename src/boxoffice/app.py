"""The ASGI application: the JSON:API under /v1, provider callbacks, and the pages."""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from boxoffice import __version__

# Each domain that serves HTTP exposes ``router`` in its ``api`` module; listed here once.
ROUTER_MODULES: tuple[str, ...] = ()


def create_app() -> FastAPI:
    app = FastAPI(
        title="boxoffice",
        version=__version__,
        description="The commerce core of event ticketing: orders, payments, refunds.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )

    @app.get("/healthz", tags=["system"], summary="Liveness check")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    for module_name in ROUTER_MODULES:
        app.include_router(importlib.import_module(module_name).router)
    return app
