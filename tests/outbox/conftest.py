from background import deferred_jobs, pg, run_jobs, smtp, travel

__all__ = ["deferred_jobs", "pg", "run_jobs", "smtp", "travel"]
