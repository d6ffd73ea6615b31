"""Tables of the outbox: one row per job (its durable record) and one row per claimed schedule slot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now

JOB_STATES = ("queued", "running", "done", "failed")


class OutboxJob(Base):
    """A job: written in the caller's transaction, sent to a worker after commit, run at least once.

    ``attempts`` counts claims; the claim number doubles as a fencing token, so a worker whose lease
    was taken over cannot mark the job done. ``sent_at`` is when the job was last handed to the
    broker: the sweep hands it over again when that was too long ago and it is still queued.
    """

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_jobs_state_run_at", "state", "run_at"),
        Index("ix_outbox_jobs_state_lease", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    # Unique while the row is kept: a second enqueue with the same key returns the first job.
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=10)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScheduleRun(Base):
    """One run of a periodic task in one time slot; the unique key lets exactly one worker claim it."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("task", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    slot: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_by: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
