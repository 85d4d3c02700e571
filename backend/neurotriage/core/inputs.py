"""Shared types for what requests send: ids, page numbers, text, times and numbers the database can take.

Python accepts values that PostgreSQL refuses (an integer beyond its INTEGER, a NUL character in text, a time
without a zone for a timestamptz column, NaN in a json column). Checked here, such input is a 422 that says what
was wrong instead of a 500 from the database. The id and page types carry no FastAPI Path/Query marker, so one
type serves path and query parameters alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

# Every id column is an INTEGER (32-bit signed): a larger id names no row, and PostgreSQL fails on it.
MAX_ID = 2**31 - 1
# (page - 1) × page size must fit the BIGINT of OFFSET; with page sizes of at most a few hundred this bound
# leaves room to spare, and no table here comes near 2^31 pages.
MAX_PAGE = 2**31 - 1

DbId = Annotated[int, Ge(1), Le(MAX_ID)]
PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]


def no_nul(text: str) -> str:
    # PostgreSQL text cannot hold U+0000; other control characters (line breaks, tabs) are stored as sent.
    if "\x00" in text:
        raise PydanticCustomError("nul_character", "Text must not contain the NUL character (\\u0000).")
    return text


Text = Annotated[str, AfterValidator(no_nul)]


def _as_utc(moment: datetime) -> datetime:
    # Stored times are UTC and compared with a zone; a time (or date) sent without one is read as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


UtcTime = Annotated[datetime, AfterValidator(_as_utc)]


class RequestBody(BaseModel):
    """Base of the JSON request bodies: NaN and Infinity, which the JSON parser accepts, are refused (422), as no
    column, statistic or viewer can use them."""

    model_config = ConfigDict(allow_inf_nan=False)
