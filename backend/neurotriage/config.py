"""Every setting of the service, read from the environment (prefix ``NEUROTRIAGE_``) in one place.

The defaults describe the embedded single-machine mode used by ``make demo``: SQLite for data, a local
folder for files and kombu's SQLAlchemy transport on SQLite as the Celery broker. Production (the compose
stack) only changes URLs: PostgreSQL for data and Redis as the broker.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = REPO_ROOT / "var"

# A pseudonym key anyone can guess lets them recompute pseudonyms and per-patient date offsets.
MIN_PSEUDONYM_KEY_CHARS = 32
# Compared with letters and digits only, lower case: "Change_Me", "CHANGEME" and "change-me" are one.
# A key of a few repeated characters ("aaaa…", "abab…") counts as a placeholder too.
PLACEHOLDER_KEY_WORDS = ("changeme", "replaceme", "placeholder", "example", "yourkey", "secretkey")
KEY_HINT = "generate one with `openssl rand -hex 32`"


class PseudonymKeyError(ValueError):
    """The pseudonym key is missing, too short or a placeholder."""


def check_pseudonym_key(key: str, origin: str) -> str:
    """``key`` if it may serve as the pseudonym key, else a PseudonymKeyError naming ``origin``
    (never the key itself: a real key that is merely short must not reach a log)."""
    if len(key) < MIN_PSEUDONYM_KEY_CHARS:
        raise PseudonymKeyError(
            f"{origin} is {'empty' if not key else f'{len(key)} characters long'}; "
            f"at least {MIN_PSEUDONYM_KEY_CHARS} are required ({KEY_HINT})."
        )
    folded = "".join(char for char in key.lower() if char.isalnum())
    if any(word in folded for word in PLACEHOLDER_KEY_WORDS) or len(set(key)) < 8:
        raise PseudonymKeyError(f"{origin} looks like a placeholder, not a secret key ({KEY_HINT}).")
    return key


class Settings(BaseSettings):
    # hide_input_in_errors: a refused pseudonym key must not be printed with the validation error.
    model_config = SettingsConfigDict(
        env_prefix="NEUROTRIAGE_", env_file=None, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = f"sqlite:///{VAR_DIR / 'neurotriage.sqlite'}"
    broker_url: str = f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite'}"
    storage_dir: Path = VAR_DIR / "storage"
    frontend_dist: Path = REPO_ROOT / "frontend" / "dist"
    migrations_dir: Path = REPO_ROOT / "migrations"

    # Browser sessions end after this much inactivity.
    session_idle_minutes: int = 60
    # ... and this long after sign-in however busy they are, so a session left open on a shared workstation ends.
    session_max_hours: int = 12
    # Failed logins allowed per account and per client address within the window, before 429.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_failure_window_minutes: int = 15
    # Cookies are marked Secure when the service sits behind HTTPS (compose stack).
    cookie_secure: bool = False
    # Addresses of the reverse proxies whose X-Forwarded-For names the client (uvicorn's forwarded_allow_ips).
    # Behind the compose stack's nginx it must include nginx, or every user shares nginx's address: one
    # address's failed-login limit would then lock everyone out, and the audit trail would name the proxy.
    forwarded_allow_ips: str = "127.0.0.1"
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, description="Per request, enforced while streaming.")

    # A reviewer's claim on a case lapses after this long without renewal.
    claim_minutes: int = 30
    # Cases are deleted this many days after upload (cases/retention.py); unset, they are kept until a coordinator
    # deletes one.
    retention_days: int | None = Field(default=None, ge=1)

    # Key for the pseudonyms and UIDs that replace DICOM identifiers. Set it in production (and keep it:
    # a new key breaks the link between a patient's old and new series; the compose stack requires it).
    # Without it the embedded mode makes one in pseudonym_key_file on first use. Short keys and
    # placeholders such as "change-me" are refused.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path = VAR_DIR / "pseudonym.key"
    # Shift DICOM dates by a per-patient offset (True) or keep them (False).
    shift_dicom_dates: bool = True

    # Engine options used by the worker; the API never imports the engine.
    model_profile: str = "fast"
    # Profiles a run may be requested with; the worker reports which of them it has weights for.
    # ("tiny" is the tests' profile: add it where a test stack runs it.)
    available_profiles: list[str] = ["fast", "paper"]
    model_device: str = "auto"
    # Weights for every sequence (default: the engine's shipped weights for each profile and sequence).
    # Weights trained on another sequence than a scan's are refused, and so is a profile with no weights.
    model_path: Path | None = None
    # Run random weights where none are installed (the tests' tiny profile); never in production, where
    # such a result would look like any other.
    allow_untrained_model: bool = False
    inference_seed: int = 0
    # Hard limit for one inference task; the broker's visibility timeout is set above it.
    task_time_limit_s: int = 3600
    # How often a running worker writes its heartbeat row (jobs.workers); one silent for three of these is shown
    # offline, so the API and worker must agree on it.
    worker_heartbeat_s: int = Field(default=30, ge=5, le=600)
    # Housekeeping takes a queued run's message for lost, and sends it again, once the inference workers have been
    # idle this long (jobs.housekeeping.runs_to_send_again); it runs every 10 minutes, so such a run starts within
    # about 20.
    lost_message_after_s: int = Field(default=600, ge=1)

    @model_validator(mode="after")
    def _default_profile_is_available(self) -> Settings:
        if self.model_profile not in self.available_profiles:
            raise ValueError(
                f"NEUROTRIAGE_MODEL_PROFILE {self.model_profile!r} is not one of NEUROTRIAGE_AVAILABLE_PROFILES "
                f"({', '.join(self.available_profiles)})"
            )
        return self

    @field_validator("retention_days", mode="before")
    @classmethod
    def _empty_retention_is_none(cls, value: object) -> object:
        # The compose file passes the variable through, empty where .env leaves it unset.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pseudonym_key")
    @classmethod
    def _refuse_weak_pseudonym_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_pseudonym_key(value.get_secret_value(), "NEUROTRIAGE_PSEUDONYM_KEY")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()


def pseudonym_key(settings: Settings) -> bytes:
    """The configured key, else the one in ``pseudonym_key_file`` (created, owner-only, on first use)."""
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.get_secret_value().encode()
    path = settings.pseudonym_key_file
    if not path.exists():
        _create_key_file(path)
    try:
        key = check_pseudonym_key(path.read_text().strip(), f"The pseudonym key file {path}")
    except PseudonymKeyError as exc:
        raise PseudonymKeyError(
            f"{exc} Restore it from a backup (if it is deleted, a new key is made, and a patient's "
            "later series no longer link to the earlier ones)."
        ) from None
    return key.encode()


def _create_key_file(path: Path) -> None:
    """Write a new key so that no reader ever sees a partial file: the key goes to an owner-only
    temporary file in the same folder, which is then hard-linked to ``path``. The link fails if
    ``path`` exists, so when two processes start together the first one's key wins and the other
    reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())  # on disk before it has its name, so a crash leaves no empty key
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made the key first; its file is complete, as ours would be
    finally:
        os.unlink(temporary)
