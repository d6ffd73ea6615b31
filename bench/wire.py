"""A light HTTP/1.1 client for the load generator: one kept-alive connection, JSON in and out.

The generator shares the machine's two cores with the server it measures, so its own cost per
request is part of every figure: httpx spends about 2 ms of CPU per request here, this client about
a tenth of that, which leaves the cores to the server. It speaks just what our servers answer
(``Content-Length`` or chunked bodies, keep-alive); anything else is a :class:`TransportError`.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Any
from urllib.parse import urlsplit


class TransportError(Exception):
    """The connection failed or the answer was not HTTP/1.1 we understand; the next request reconnects."""


class Answer:
    """A response: status, headers (lower-case names) and body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class Client:
    """Requests to ``base_url`` over one connection, opened on first use and again after a failure."""

    def __init__(self, base_url: str, *, timeout: float = 60, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"only http://host:port addresses: {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.headers = {"Host": parts.netloc, **(headers or {})}
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def get(self, url: str, **kwargs: Any) -> Answer:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Answer:
        return await self.request("POST", url, **kwargs)

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request and read its whole answer (within ``timeout`` seconds)."""
        if json is not None:
            content = jsonlib.dumps(json, separators=(",", ":")).encode()
        sent = {**self.headers, **(headers or {})}
        if json is not None:
            sent.setdefault("Content-Type", "application/json")
        if content is not None:
            sent["Content-Length"] = str(len(content))
        head = f"{method} {url} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in sent.items())
        try:
            return await asyncio.wait_for(
                self._exchange(head.encode() + b"\r\n" + (content or b""), method), self.timeout
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.aclose()
            raise TransportError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    async def _exchange(self, request: bytes, method: str) -> Answer:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(request)
        await writer.drain()
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        version, status, *_ = status_line.split(" ", 2)
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x answer: {status_line!r}")
        headers: dict[str, str] = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        code = int(status)
        if method == "HEAD" or code in (204, 304) or 100 <= code < 200:
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _chunks(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:  # the body ends with the connection
            body = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.aclose()
        return Answer(code, headers, body)


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent by our servers: the last CRLF
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
