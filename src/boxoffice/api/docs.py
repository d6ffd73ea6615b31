"""``/docs``: Swagger UI for ``/openapi.json``, with its scripts and styles served by boxoffice itself.

The assets come from the installed ``swagger-ui-py`` package (Swagger UI 5, which reads OpenAPI
3.1), so the page works offline and behind a strict firewall. ``/redoc`` leads to the same page.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

ASSETS_PATH = "/docs/assets"
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})


def _assets_dir() -> Path:
    # Only the package's files are used, not its framework adapters, so it is located, not imported.
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.origin is not None, "swagger-ui-py is a runtime dependency"
    return Path(spec.origin).parent / "static"


router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="boxoffice API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
    )


@router.get(ASSETS_PATH + "/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSETS:
        return Response("Not found", status_code=404, media_type="text/plain")
    # The files change only with the installed package: let browsers keep them for a day.
    return FileResponse(_assets_dir() / name, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/redoc")
def redoc() -> RedirectResponse:
    """One API docs page: ReDoc's URL leads to it."""
    return RedirectResponse("/docs", status_code=308)
