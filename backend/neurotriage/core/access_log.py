"""The API server's access log without query strings.

Worklist searches (``/api/cases?q=...``) and audit filters carry whatever a user typed, often part of a label
or a name, and uvicorn's access log writes the full path. The path alone says which route was used.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class DropQueryString(logging.Filter):
    """Rewrites uvicorn's access record (client, method, path with query, HTTP version, status) to the bare path."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def server_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the filter on its access handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query_string"] = {"()": DropQueryString}
    config["handlers"]["access"]["filters"] = ["drop_query_string"]
    return config
