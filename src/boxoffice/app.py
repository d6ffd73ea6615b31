"""The ASGI application: the JSON:API under /v1, provider callbacks, and the pages."""

from __future__ import annotations

import ctypes
import importlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from boxoffice import __version__
from boxoffice.api import http as api_http
from boxoffice.api.hygiene import refuse_unstorable_text
from boxoffice.kit import http as jsonapi_http
from boxoffice.kit.head import HeadAsGet
from boxoffice.kit.lifespan import around_lifespan
from boxoffice.kit.responses import JSONAPIResponse
from boxoffice.observability.http import RequestTracking
from boxoffice.observability.logs import configure_logging
from boxoffice.web.headers import SecurityHeadersMiddleware

# Each domain that serves HTTP exposes ``router`` in its ``api`` module; listed here once. Routes are
# tried in this order for every request, so a buyer's placing and paying come first (matching the
# page routes first cost an eighth of a sold-out answer's time); no two modules' paths overlap.
ROUTER_MODULES: tuple[str, ...] = (
    "boxoffice.orders.api",
    "boxoffice.payments.api",
    "boxoffice.inbox.api",
    "boxoffice.providers.sandbox.api",
    "boxoffice.providers.stripe.api",
    "boxoffice.providers.paypal.api",
    "boxoffice.web.pages",
    "boxoffice.api.docs",
    "boxoffice.observability.metrics",
    "boxoffice.accounts.api",
    "boxoffice.catalogue.api",
    "boxoffice.orders.changes_api",
    "boxoffice.payments.refunds_api",
    "boxoffice.jobs.api",
    "boxoffice.providers.banktransfer.api",
    "boxoffice.webhooks.api",
    "boxoffice.books.api",
    "boxoffice.tickets.api",
)


def create_app() -> FastAPI:
    app = FastAPI(
        title="boxoffice",
        version=__version__,
        description="The commerce core of event ticketing: orders, payments, refunds.",
        openapi_url="/openapi.json",
        # /docs and /redoc are served by boxoffice.api.docs, with Swagger UI's assets from the package.
        docs_url=None,
        redoc_url=None,
        # Under /v1 every answer is a JSON:API document, documented and sent with its media type.
        default_response_class=JSONAPIResponse,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    # JSON:API error documents, content negotiation and the OpenAPI rewrite; then replays of
    # Idempotency-Keys and Retry-After on 429s.
    jsonapi_http.install(app)
    api_http.install(app)
    # Middleware, innermost first: HEAD answered as GET; a request id, access log line and metrics.
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestTracking)
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/healthz", tags=["system"], summary="Liveness check", response_class=JSONResponse)
    async def healthz() -> JSONResponse:
        # On the event loop: a liveness check must answer while every request thread is busy.
        return JSONResponse({"status": "ok"})

    for module_name in ROUTER_MODULES:
        app.include_router(importlib.import_module(module_name).router)
    return app


# Endpoints are plain ``def`` functions run on AnyIO's thread pool (40 threads by default). They
# spend their time waiting for PostgreSQL and holding the GIL in between; past a few per core,
# more threads only queue for the GIL and the database (docs/benchmarks.md). Requests beyond this
# wait in the event loop, where waiting costs nothing.
REQUEST_THREADS = 8


@contextmanager
def request_threads(threads: int = REQUEST_THREADS) -> Iterator[None]:
    """Endpoints of the running event loop on at most ``threads`` threads at a time while inside."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    before, limiter.total_tokens = limiter.total_tokens, threads
    try:
        yield
    finally:
        limiter.total_tokens = before


# glibc's malloc gives each thread that allocates its own arena (up to 8 per core) and keeps what is
# freed in each one; it also raises its mmap threshold whenever a large block is freed, so later large
# blocks come from (and stay in) the arenas. In a worker's 8 request threads and its job threads that
# kept 5-10 MB of freed memory resident after a few hundred checkouts (docs/benchmarks.md). Two
# arenas and a fixed threshold (blocks of 128 KiB or more mapped and unmapped on their own) keep it
# down. The constants are glibc's (malloc.h); ``MALLOC_ARENA_MAX`` or ``MALLOC_MMAP_THRESHOLD_`` in
# the environment win.
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8
MALLOC_ARENAS = 2
MMAP_THRESHOLD = 128 * 1024


def tune_malloc() -> None:
    """Fewer malloc arenas and a fixed mmap threshold for this process, where the C library has ``mallopt``."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc or musl (macOS): the allocator keeps its defaults
        return
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


# What the arenas still hold free after that (the middle of a heap is never given back on its own) is
# handed back to the system every second: 3-4 MB off a worker's peak, for 2-3 ms of one thread's time.
TRIM_SECONDS = 1.0


@contextmanager
def trimming_malloc(every: float = TRIM_SECONDS) -> Iterator[None]:
    """While inside, give the pages malloc holds free back to the system every ``every`` seconds (glibc)."""
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        yield
        return
    stop = threading.Event()

    def trim() -> None:
        while not stop.wait(every):
            malloc_trim(0)

    thread = threading.Thread(target=trim, name="boxoffice-malloc-trim", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def serve_app() -> FastAPI:
    """The app as ``boxoffice serve`` runs it: it also runs background jobs when no broker is configured."""
    from boxoffice.worker import with_embedded_jobs

    # Before the request and job threads start, so that they share the arenas.
    tune_malloc()
    configure_logging()
    app = around_lifespan(with_embedded_jobs(create_app()), request_threads)
    return around_lifespan(app, trimming_malloc)
