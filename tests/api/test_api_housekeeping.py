"""Keys past their replay window and login attempts past their minute are pruned; the rest stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from boxoffice.api import rules
from boxoffice.api.models import IdempotencyKey, LoginAttempt
from boxoffice.api.tasks import prune
from boxoffice.kit import clock
from boxoffice.outbox.tasks import get_task


def test_the_prune_task_forgets_only_what_no_longer_counts(uow: Any) -> None:
    moment = clock.now()
    with uow() as s:
        for key, age in (("old", rules.REPLAY_WINDOW + timedelta(seconds=1)), ("young", timedelta(hours=23))):
            s.add(
                IdempotencyKey(
                    scope="anonymous", key=key, fingerprint="f", state=rules.DONE, headers={}, created_at=moment - age
                )
            )
        for bucket, age in (("ip:old", timedelta(minutes=2)), ("ip:young", timedelta(seconds=10))):
            s.add(LoginAttempt(bucket=bucket, attempted_at=moment - age))
    assert get_task("api.prune") is not None
    prune({})
    with uow() as s:
        assert s.execute(select(IdempotencyKey.key)).scalars().all() == ["young"]
        assert s.execute(select(LoginAttempt.bucket)).scalars().all() == ["ip:young"]
