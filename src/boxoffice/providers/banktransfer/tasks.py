"""Background work of bank transfers, run by the outbox's workers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from boxoffice.outbox.tasks import Task
from boxoffice.providers.banktransfer.importing import JOB_KIND, run_import


# A large statement takes a while; a worker that dies mid-import leaves the rest to the next
# attempt, which recognises the lines already stored and counts nothing twice.
def import_statement(params: dict[str, Any]) -> None:
    """Run the import ``params["import_id"]`` (queued by :func:`.importing.start_import`)."""
    run_import(int(params["import_id"]))


IMPORT_STATEMENT = Task(JOB_KIND, import_statement, lease=timedelta(hours=1), max_attempts=5)
