"""Every setting of the service, read from the environment (prefix ``NEUROTRIAGE_``) in one place.

The defaults describe the embedded single-machine mode used by ``make demo``: SQLite for data, a local
folder for files and kombu's SQLAlchemy transport on SQLite as the Celery broker. Production (the compose
stack) only changes URLs: PostgreSQL for data and Redis as the broker.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = REPO_ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEUROTRIAGE_", env_file=None, extra="ignore")

    database_url: str = f"sqlite:///{VAR_DIR / 'neurotriage.sqlite'}"
    broker_url: str = f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite'}"
    storage_dir: Path = VAR_DIR / "storage"
    frontend_dist: Path = REPO_ROOT / "frontend" / "dist"
    migrations_dir: Path = REPO_ROOT / "migrations"

    # Browser sessions end after this much inactivity.
    session_idle_minutes: int = 60
    # Failed logins allowed per account and per client address within the window, before 429.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_failure_window_minutes: int = 15
    # Cookies are marked Secure when the service sits behind HTTPS (compose stack).
    cookie_secure: bool = False
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, description="Per request, enforced while streaming.")

    # A reviewer's claim on a case lapses after this long without renewal.
    claim_minutes: int = 30

    # Key for the pseudonyms and UIDs that replace DICOM identifiers. Set it in production (and keep it:
    # a new key breaks the link between a patient's old and new series; the compose stack requires it).
    # Without it the embedded mode makes one in pseudonym_key_file on first use.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path = VAR_DIR / "pseudonym.key"
    # Shift DICOM dates by a per-patient offset (True) or keep them (False).
    shift_dicom_dates: bool = True

    # Engine options used by the worker; the API never imports the engine.
    model_profile: str = "fast"
    # Profiles a run may be requested with (the worker must have weights for them).
    available_profiles: list[str] = ["fast", "paper", "tiny"]
    model_device: str = "auto"
    model_path: Path | None = None
    inference_seed: int = 0
    # Hard limit for one inference task; the broker's visibility timeout is set above it.
    task_time_limit_s: int = 3600


@lru_cache
def get_settings() -> Settings:
    return Settings()


def pseudonym_key(settings: Settings) -> bytes:
    """The configured key, else the one in ``pseudonym_key_file`` (created, owner-only, on first use)."""
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.get_secret_value().encode()
    path = settings.pseudonym_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()
