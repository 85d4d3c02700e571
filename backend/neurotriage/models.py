"""Imports every table so metadata is complete (Alembic, tests)."""

from neurotriage.audit.models import AuditEvent
from neurotriage.auth.models import BrowserSession
from neurotriage.cases.models import Case
from neurotriage.db import Base
from neurotriage.jobs.models import Flag, InstalledModel, Job, Result
from neurotriage.reviews.models import FlagVerdict
from neurotriage.users.models import User

__all__ = [
    "AuditEvent", "Base", "BrowserSession", "Case", "Flag", "FlagVerdict", "InstalledModel", "Job", "Result", "User",
]
