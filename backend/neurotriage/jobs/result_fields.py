"""The engine's result.json, field by field, as the service stores it: each value checked for its type and range.

A newer or broken engine must not make a result unstorable, nor put a wrong figure in front of a reader: a
malformed field is dropped (logged) or replaced by what says least, never guessed."""

from __future__ import annotations

import logging
import math
from typing import Any

from pydantic import ValidationError

from neurotriage.jobs.schemas import ModelValidation

log = logging.getLogger(__name__)

# Longest quality message kept; the engine's sentences are about 150 characters.
_MAX_MESSAGE = 500


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def quality_issues(raw: Any) -> list[dict[str, Any]]:
    """The engine's ``quality`` list as stored: the five known keys only, each checked for its type.

    Older engines send no list: []. An entry that is not an object is dropped (logged); a missing or mistyped
    axis, planes or extent_mm becomes None, and a missing message is replaced by one naming the kind, so the
    reader is still told to rescan. Unknown kinds are kept: a newer engine's reason to rescan must not vanish.
    """
    if not isinstance(raw, list):
        if raw is not None:
            log.warning("ignoring result quality of type %s", type(raw).__name__)
        return []
    issues = []
    for item in raw:
        if not isinstance(item, dict):
            log.warning("ignoring a quality issue of type %s", type(item).__name__)
            continue
        kind = item.get("kind")
        kind = kind[:32] if isinstance(kind, str) and kind else "unknown"
        axis = _int(item.get("axis"))
        planes = item.get("planes")
        if not (isinstance(planes, list | tuple) and len(planes) == 2 and all(_int(p) is not None for p in planes)):
            planes = None
        extent = item.get("extent_mm")
        extent_mm = float(extent) if isinstance(extent, int | float) and not isinstance(extent, bool) else None
        message = item.get("message")
        if not isinstance(message, str) or not message.strip():
            message = f"Acquisition problem ({kind.replace('_', ' ')}); rescan recommended."
        issues.append(
            {
                "kind": kind,
                "axis": axis if axis is not None and 0 <= axis <= 2 else None,
                "planes": [int(p) for p in planes] if planes is not None else None,
                "extent_mm": extent_mm if extent_mm is not None and math.isfinite(extent_mm) else None,
                "message": message.strip()[:_MAX_MESSAGE],
            }
        )
    return issues


def _number(value: Any, low: float, high: float = math.inf, low_inclusive: bool = False) -> float | None:
    """``value`` as a float when it is a finite number in (low, high] ([low, high] if low_inclusive); else None."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    above = value >= low if low_inclusive else value > low
    return float(value) if above and value <= high else None


def _detail_number(details: Any, key: str, low: float, high: float = math.inf,
                   low_inclusive: bool = False) -> float | None:
    value = details.get(key) if isinstance(details, dict) else None
    number = _number(value, low, high, low_inclusive)
    if number is None and value is not None:
        log.warning("ignoring result %s: not a number in the expected range (a %s)", key, type(value).__name__)
    return number


def smallest_flag_mm3(details: Any) -> float | None:
    """The engine's smallest reported flag (``details.min_flag_mm3``); None if absent or not a positive number."""
    return _detail_number(details, "min_flag_mm3", 0.0)


def min_peak_ratio(details: Any) -> float | None:
    """The engine's peak ratio of flags (``details.min_peak_ratio``, 0..1); None if absent or out of range."""
    return _detail_number(details, "min_peak_ratio", 0.0, 1.0, low_inclusive=True)


def weak_regions(details: Any) -> list[dict[str, Any]]:
    """The regions the engine left out of the flags as too weak (``details.weak_regions``), as stored:
    volume_mm3 (> 0), centroid_mm (three numbers) and peak_ratio (0..1); malformed entries are dropped (logged)."""
    raw = details.get("weak_regions") if isinstance(details, dict) else None
    if not isinstance(raw, list):
        return []
    regions = []
    for item in raw:
        item = item if isinstance(item, dict) else {}
        volume = _number(item.get("volume_mm3"), 0.0)
        ratio = _number(item.get("peak_ratio"), 0.0, 1.0, low_inclusive=True)
        point = world_point(item.get("centroid_mm"))
        if volume is None or ratio is None or point is None:
            log.warning("ignoring a malformed weak region")
            continue
        region = {"volume_mm3": volume, "centroid_mm": point, "peak_ratio": ratio}
        anchor = world_point(item.get("anchor_mm"))
        if anchor is not None:
            region["anchor_mm"] = anchor
        regions.append(region)
    return regions


def world_point(raw: Any) -> list[float] | None:
    """Three finite numbers (a point in mm), else None."""
    point = [_number(v, -math.inf) for v in raw] if isinstance(raw, list) and len(raw) == 3 else None
    return None if point is None or None in point else point  # type: ignore[return-value]


def model_validation(model: Any) -> dict[str, Any] | None:
    """The engine's ``model.validation`` as stored (``ModelValidation``'s fields only); None when there is
    none or it is malformed (logged): a reader is better told nothing than wrong figures."""
    raw = model.get("validation") if isinstance(model, dict) else None
    if raw is None:
        return None
    try:
        return ModelValidation.model_validate(raw).model_dump()
    except ValidationError as error:
        log.warning("ignoring a malformed model validation (at %s)", error.errors()[0]["loc"])
        return None
