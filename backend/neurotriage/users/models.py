"""People who use the service. Users are disabled, never deleted, so audit rows keep their author."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from neurotriage.db import Base, UTCDateTime, utcnow


# What a username may hold: unaccented letters, so that every database folds capitals alike (SQLite's lower()
# folds ASCII only, and sign-in and the unique index compare lower-case names), digits and . _ @ -.
USERNAME_CHARACTERS = re.compile(r"[A-Za-z0-9._@-]+")
USERNAME_RULE = "use only unaccented letters, digits and . _ @ - (no spaces)"


class Role(StrEnum):
    clinician = "clinician"
    coordinator = "coordinator"
    admin = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # A user may hold several roles (an admin who also reads scans); stored as a JSON list of Role values.
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The password was set by an administrator (a new account, a reset), who therefore knows it: until the user
    # chooses their own, the service lets them do nothing else, so every action audited under the name is theirs.
    password_change_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def has_role(self, *roles: Role) -> bool:
        return any(role.value in self.roles for role in roles)


# One account per name whatever its capitals: "Admin" beside "admin" would be told apart by nobody reading the audit
# trail, and sign-in finds the account by its lower-case name. The service checks first, to say which name exists.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
