from __future__ import annotations

from typing import Any

import pytest

from background import run_jobs  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def _jobs_run_after_commit(run_jobs: Any) -> None:  # noqa: F811
    """Queued jobs run right after their commit, as under ``boxoffice serve``: a callback's events are
    processed by the ``inbox.process`` job once the callback is answered."""
