"""Service settings, read from the environment (prefix ``DANCHUANG_``) and an optional ``.env``.

FastAPI's settings guide: one pydantic-settings class, built by a cached ``get_settings()`` so
that tests can build their own ``Settings(...)`` and hand it to ``create_app`` instead of
patching globals.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from declarations import SignatureMode

DEFAULT_DATABASE_URL = "sqlite:///./var/danchuang.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DANCHUANG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # -- where and how the service runs
    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "auto": pretty console lines on a terminal, JSON lines otherwise (and always in production).
    log_format: Literal["auto", "json", "console"] = "auto"

    # -- persistence. SQLite (WAL) for development, tests and single-process demos; PostgreSQL
    # (postgresql+psycopg://...) when several processes share the database.
    database_url: str = DEFAULT_DATABASE_URL
    sqlite_busy_timeout_ms: int = Field(default=15_000, ge=0)
    migrate_on_start: bool = True
    # Run the webhook delivery loop (and later the clearance engine) inside `serve`. Turn it off
    # when a separate `danchuang worker` process does that job.
    run_background_in_api: bool = True

    # -- the live single window
    # Virtual clock: simulated seconds per wall second (60 = one simulated minute per second),
    # or "instant" (no waiting at all; for tests and conformance runs).
    clock_speed: float | Literal["instant"] = 60.0
    # How long (simulated seconds) a declaration set may stay incomplete before it is refused.
    incomplete_set_window_s: float = Field(default=24 * 3600, gt=0)
    max_document_bytes: int = Field(default=2 * 1024 * 1024, gt=0)  # one XML message
    max_bundle_bytes: int = Field(default=20 * 1024 * 1024, gt=0)  # a bundle of messages

    # -- signatures (CEB spec 202205 §6): "off"; "warn" reports bad signatures and accepts the
    # message; "require" refuses an unsigned or badly signed message with a CEB900.
    signature_mode: SignatureMode = SignatureMode.WARN
    # Accept the 2018 RSA-SHA1 besides the 2022 SM2-SM3 (older clients still sign with it).
    signature_allow_rsa_sha1: bool = True

    # -- access
    # The admin key registers enterprises and issues their API keys. Unset = admin API closed.
    admin_key: SecretStr | None = None
    # A key found active is trusted this many seconds before the database is asked again
    # (app.accounts.KeyCache). Revocation in the same process applies at once; in another process
    # (a second `serve --workers` process, the CLI) within this time. 0 = ask every time.
    key_cache_ttl_s: float = Field(default=5.0, ge=0)

    # -- webhooks
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=12, ge=1)
    webhook_backoff_base_s: float = Field(default=5.0, gt=0)  # first retry after ~base seconds
    webhook_backoff_cap_s: float = Field(default=3600.0, gt=0)  # never wait longer than this
    webhook_lease_s: float = Field(default=60.0, gt=0)  # a claimed delivery is retried after this
    webhook_poll_interval_s: float = Field(default=1.0, gt=0)
    webhook_batch_size: int = Field(default=50, ge=1)
    # Deliveries of a claimed batch posted at once: a receiver's latency is waited in parallel.
    webhook_concurrency: int = Field(default=8, ge=1, le=64)
    # Subscribers may bring their own signing secret (≥ this long); otherwise one is generated.
    webhook_secret_min_length: int = Field(default=24, ge=16)
    # Production refuses plain-http receivers; the sandbox accepts them (integrators' laptops).
    webhook_require_https: bool = False
    # Receivers on loopback, private, link-local or other non-public addresses (see
    # app/webhooks/targets.py). Unset: allowed, except in production.
    webhook_private_targets: bool | None = None

    # -- the demo enterprises of `danchuang seed-demo`: their keys are kept here, outside the
    # database (which holds only hashes), so that re-running the command can print them again.
    demo_keys_file: Path = Path("./var/demo-keys.json")

    @field_validator("clock_speed", mode="before")
    @classmethod
    def _parse_clock_speed(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "instant":
            return "instant"
        return value

    @field_validator("clock_speed")
    @classmethod
    def _positive_speed(cls, value: float | str) -> float | str:
        if isinstance(value, float) and value <= 0:
            raise ValueError("clock_speed must be a positive factor or 'instant'")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_request(self) -> Settings:
        # A claimed delivery becomes due again when its lease ends; a lease shorter than the
        # request timeout would let a second worker send it while the first still waits.
        if self.webhook_lease_s <= self.webhook_timeout_s:
            raise ValueError("webhook_lease_s must be longer than webhook_timeout_s")
        return self

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.environment == "production":
            key = self.admin_key.get_secret_value() if self.admin_key else ""
            if len(key) < 32:
                raise ValueError("in production DANCHUANG_ADMIN_KEY must be set (32+ characters)")
        return self

    @property
    def webhooks_reach_private(self) -> bool:
        """Whether webhooks may point at non-public addresses (``webhook_private_targets``)."""
        if self.webhook_private_targets is not None:
            return self.webhook_private_targets
        return self.environment != "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def json_logs(self) -> bool:
        """JSON lines when asked, and always in production ("auto" also picks JSON when the
        output is not a terminal; see app.logging)."""
        return self.log_format == "json" or (
            self.log_format == "auto" and self.environment == "production"
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
