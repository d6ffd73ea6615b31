from api.conftest import api, app, world
from background import deferred_jobs, pg, run_jobs, smtp, travel

__all__ = ["api", "app", "deferred_jobs", "pg", "run_jobs", "smtp", "travel", "world"]
