"""Fixtures for background work: jobs run synchronously, a movable clock, and a real SMTP server.

Test folders that need them import them into their ``conftest.py``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from boxoffice import config
from boxoffice.kit import clock
from boxoffice.outbox import dispatch
from components import postgres_url


@pytest.fixture
def pg(database_url: str) -> str:
    """The test database, which must be PostgreSQL (skips locally without one, fails in CI)."""
    postgres_url()
    if not database_url.startswith("postgresql"):
        pytest.fail("BOXOFFICE_TEST_DATABASE_URL is set but the test database is not PostgreSQL")
    return database_url


@pytest.fixture
def run_jobs() -> Iterator[dispatch.Synchronous]:
    """Jobs run in the committing thread right after their transaction commits."""
    runner = dispatch.Synchronous()
    previous = dispatch.install(runner)
    yield runner
    dispatch.install(previous)


@pytest.fixture
def deferred_jobs() -> Iterator[None]:
    """Jobs are not sent after commit (as in a process without a runner): only a sweep sends them."""
    previous = dispatch.install(dispatch.Deferred())
    yield
    dispatch.install(previous)


@pytest.fixture
def travel() -> Iterator[Any]:
    """``travel(seconds)`` moves the clock forward; it is back at the real time after the test."""
    yield clock.travel
    clock.travel(0)


@dataclass
class Inbox:
    """What the test SMTP server received; ``refuse`` makes it answer 451 to the next n messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
            self.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on loopback; BOXOFFICE_SMTP_URL points at it for the test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("BOXOFFICE_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?from=tickets%40boxoffice.test")
    config.get_settings.cache_clear()
    yield inbox
    controller.stop()
    monkeypatch.delenv("BOXOFFICE_SMTP_URL")
    config.get_settings.cache_clear()
