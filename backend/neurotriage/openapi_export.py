"""Write the API's OpenAPI document, from which the frontend's typed client is generated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from neurotriage.main import create_app


def openapi_document() -> dict:
    return create_app().openapi()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "frontend/openapi.json")
    target.write_text(json.dumps(openapi_document(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
