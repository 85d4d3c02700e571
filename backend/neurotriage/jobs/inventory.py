"""Worker-side: tell the API which models this worker can run. Imports the engine (never the API's code path).

Run once when an inference worker starts (``neurotriage worker`` with the gpu queue), so the upload form and
the re-run menu offer only what will run, and the API refuses the rest before anything is stored or queued.
"""

from __future__ import annotations

import logging

from neurotriage.config import Settings
from neurotriage.db import session_scope
from neurotriage.jobs.service import ModelReport, replace_installed_models

log = logging.getLogger(__name__)


def model_reports(settings: Settings) -> list[ModelReport]:
    """Each allowed profile and every sequence: available when trained weights fit, or when this worker is
    told to run random weights (the tests' tiny profile; such results say "untrained")."""
    from itermask3d.catalogue import model_catalogue

    reports = []
    for entry in model_catalogue(settings.available_profiles, settings.model_path):
        available = entry.installed or settings.allow_untrained_model
        reports.append(ModelReport(entry.profile, entry.sequence, available, entry.installed, entry.reason))
    return reports


def publish_installed_models(settings: Settings) -> list[ModelReport] | None:
    """Replace the stored report with this worker's; None (logged) if it cannot, e.g. the database is not
    reachable yet: the worker still starts, and its own check refuses a run it cannot do."""
    try:
        reports = model_reports(settings)
        with session_scope() as session:
            replace_installed_models(session, reports)
    except Exception:
        log.exception("could not report this worker's installed models; the API accepts every profile meanwhile")
        return None
    return reports
