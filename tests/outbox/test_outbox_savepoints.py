"""Jobs leave with the outermost commit, never when a savepoint inside the transaction is released."""

from __future__ import annotations

from collections.abc import Sequence

from boxoffice.outbox import dispatch, service


class Recorder:
    sends_after_commit = True

    def __init__(self) -> None:
        self.sent: list[list[int]] = []

    def send(self, job_ids: Sequence[int]) -> None:
        self.sent.append(list(job_ids))


def test_a_released_savepoint_does_not_send_the_outer_transactions_jobs(uow) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    previous = dispatch.install(recorder)
    try:
        with uow() as session:
            job_id = service.enqueue(session, "outbox.prune", {})
            with session.begin_nested():
                pass
            assert recorder.sent == []  # still inside the business transaction
        assert recorder.sent == [[job_id]]
    finally:
        dispatch.install(previous)
