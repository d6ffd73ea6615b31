"""Every built-in background task, in one visible list: what a job may name.

:func:`boxoffice.outbox.tasks.get_task` looks tasks up here (and in the ``boxoffice.tasks``
entry-point group, for third-party packages). Each domain declares its tasks as
:class:`~boxoffice.outbox.tasks.Task` constants; adding one is a line here, never a module
imported for its side effects. Like :mod:`boxoffice.reactions`, this module sits above the domains
it wires and is loaded lazily by the module that needs it.
"""

from __future__ import annotations

from boxoffice.api import tasks as api_tasks
from boxoffice.books import tasks as books_tasks
from boxoffice.inbox import tasks as inbox_tasks
from boxoffice.mail import tasks as mail_tasks
from boxoffice.orders import bulk, expiry
from boxoffice.outbox import maintenance
from boxoffice.outbox.tasks import Task
from boxoffice.payments import janitor
from boxoffice.providers.banktransfer import tasks as banktransfer_tasks
from boxoffice.webhooks import tasks as webhooks_tasks

TASKS: tuple[Task, ...] = (
    maintenance.PRUNE,
    maintenance.SWEEP_INBOX,
    expiry.EXPIRE_DUE,
    expiry.REMIND_EXPIRING,
    expiry.REFUND_LATE_PAYMENT,
    inbox_tasks.PROCESS_TASK,
    janitor.JANITOR,
    mail_tasks.SEND,
    webhooks_tasks.DELIVER,
    bulk.CANCEL_EVENT,
    api_tasks.PRUNE,
    books_tasks.SHRED_EVENT,
    banktransfer_tasks.IMPORT_STATEMENT,
)
