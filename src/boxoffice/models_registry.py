"""Imports every model module so ``Base.metadata`` knows all tables (Alembic, tests, create_all)."""

from boxoffice.accounts import models as accounts_models
from boxoffice.catalogue import models as catalogue_models
from boxoffice.jobs import models as jobs_models
from boxoffice.orders import models as orders_models
from boxoffice.payments import models as payments_models

__all__ = ["accounts_models", "catalogue_models", "jobs_models", "orders_models", "payments_models"]
