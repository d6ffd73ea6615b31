"""Imports every model module so ``Base.metadata`` knows all tables (Alembic, tests, create_all)."""

from boxoffice.accounts import models as accounts_models
from boxoffice.activity import models as activity_models
from boxoffice.api import models as api_models
from boxoffice.books import models as books_models
from boxoffice.catalogue import models as catalogue_models
from boxoffice.inbox import models as inbox_models
from boxoffice.jobs import models as jobs_models
from boxoffice.mail import models as mail_models
from boxoffice.orders import models as orders_models
from boxoffice.outbox import models as outbox_models
from boxoffice.payments import models as payments_models
from boxoffice.providers.banktransfer import models as banktransfer_models
from boxoffice.providers.sandbox import models as sandbox_models
from boxoffice.tickets import models as tickets_models
from boxoffice.webhooks import models as webhooks_models

__all__ = [
    "accounts_models",
    "activity_models",
    "api_models",
    "banktransfer_models",
    "books_models",
    "catalogue_models",
    "inbox_models",
    "jobs_models",
    "mail_models",
    "orders_models",
    "outbox_models",
    "payments_models",
    "sandbox_models",
    "tickets_models",
    "webhooks_models",
]
