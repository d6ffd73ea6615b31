"""Running something for as long as an ASGI app is up, around whatever lifespan it already has."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI


def around_lifespan(app: FastAPI, context: Callable[[], AbstractContextManager[Any]]) -> FastAPI:
    """``app`` with ``context()`` entered on startup (in the event loop's thread) and left on shutdown."""
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        with context():
            async with inner(app_) as state:
                yield state

    app.router.lifespan_context = lifespan
    return app
