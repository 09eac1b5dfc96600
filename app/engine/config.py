"""The clearance engine's own settings (``DANCHUANG_ENGINE_*``), beside ``app.settings``.

The virtual clock's speed is the service-wide ``clock_speed`` of ``app.settings``; what is
specific to the engine — which scenario, the seed, the lease, the tick — lives here so that the
service settings stay the platform's concern.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class EngineSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DANCHUANG_ENGINE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # "builtin" (a small sandbox site, app.engine.scenario) or a shipped scenario's name/path.
    scenario: str = "builtin"
    # Seeds the outcome of each declaration: (seed, declaration id) -> the same path every time.
    seed: int = 20_260_401
    # The lease: a crashed engine's successor takes over after at most this long.
    lease_s: float = Field(default=15.0, gt=0)
    # How often the engine wakes up to take new declarations and advance the clock.
    tick_s: float = Field(default=0.2, gt=0)
    # While its ticks find nothing to do (nothing recorded, nothing in its model) the wait
    # between them doubles up to this (and to a third of the lease): an idle service polls
    # its database about once a second, not five times. Work is picked up within it.
    idle_tick_s: float = Field(default=1.0, gt=0)
    # At most this many clearance-ready declarations are taken per tick (bounds a transaction).
    batch_size: int = Field(default=500, ge=1)
    # How often (wall seconds) the engine refuses sets left incomplete past their window
    # (app.services.expiry; the window is the service's incomplete_set_window_s). The name
    # sweep_s stays: it is the public setting DANCHUANG_ENGINE_SWEEP_S.
    sweep_s: float = Field(default=5.0, gt=0)
    # Declarations are split into this many partitions by id, each with its own lease and model,
    # so that several processes clear side by side (app.engine.partitions, docs/deploy.md).
    # Every engine of a service must use the same number; 1 is one engine for everything.
    partitions: int = Field(default=1, ge=1, le=64)

    def pause(self, quiet: int) -> float:
        """Seconds to the next tick after ``quiet`` ticks in a row found nothing to do: the
        tick, doubling while they find nothing, up to ``idle_tick_s`` (and a third of the
        lease, which every tick renews)."""
        longest = max(self.tick_s, min(self.idle_tick_s, self.lease_s / 3))
        return float(min(self.tick_s * 2 ** min(quiet, 16), longest))

    @model_validator(mode="after")
    def _tick_shorter_than_lease(self) -> EngineSettings:
        # The lease is renewed every tick: a tick as long as the lease would let it lapse.
        if self.tick_s * 3 > self.lease_s:
            raise ValueError(
                "DANCHUANG_ENGINE_TICK_S must be under a third of DANCHUANG_ENGINE_LEASE_S"
            )
        return self


def load_engine_settings() -> EngineSettings:
    """The engine settings from the environment, with the scenario they name checked; raises
    ``ValueError`` with a one-line message (the CLI prints it instead of a traceback)."""
    from pydantic import ValidationError  # noqa: PLC0415

    from app.engine.scenario import load_live_scenario  # noqa: PLC0415

    try:
        settings = EngineSettings()
    except ValidationError as error:
        problems = "; ".join(
            f"DANCHUANG_ENGINE_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else e["msg"]
            for e in error.errors()
        )
        raise ValueError(f"invalid engine settings: {problems}") from None
    try:
        load_live_scenario(settings.scenario)
    except (OSError, ValueError) as error:  # ScenarioError is a ValueError
        raise ValueError(f"DANCHUANG_ENGINE_SCENARIO: {error}") from None
    return settings
