from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str | None = Field(description="Username of who did it; null for events without a known user")
    action: str
    case_id: int | None
    case_label: str | None = Field(
        default=None,
        description="The case's label, where the event names a case that exists and the reader may read cases "
        "(clinician or coordinator role); null otherwise",
    )
    detail: dict[str, Any] = Field(
        description="Context as recorded (user ids stay ids); for a reader who reads blind (a clinician who is also "
        "an admin, not a coordinator), another reader's verdict on a case they have not given their own case "
        "verdict on reads 'hidden until your own case verdict'"
    )
    detail_usernames: dict[str, str] = Field(
        default_factory=dict,
        description='Usernames of the user ids in detail, keyed by the detail key (e.g. {"user_id": "alice"}); '
        "a key is missing when its user no longer exists",
    )
    client_ip: str | None


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    total: int
    page: int
    page_size: int
