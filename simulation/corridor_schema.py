"""The ``lock_pools:`` and ``corridors:`` sections of a scenario file: e-lock transit
(``simulation.transit`` runs it). Import the models from ``simulation.scenario``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulation.durations import Distribution, Probability, Strict


class SealMode(StrEnum):
    AUTOMATIC = "automatic"  # at a smart gate (智能卡口)
    OFFICER = "officer"  # an officer from a resource pool applies the lock


class Alarm(Strict):
    kind: Literal["tamper", "low_battery", "route_deviation"]
    probability: Probability


class LockPool(Strict):
    size: int = Field(ge=1)


class Corridor(Strict):
    """Trucks from this site to another customs district under an electronic lock (电子关锁).

    A truck leaves when ``truck_capacity`` declarations are loaded, after ``max_wait`` since
    the first one was loaded, or at a scheduled ``departures_of_day`` hour (卡车航班), whichever
    comes first. It then takes a lock from ``lock_pool`` (waiting if none is free), is sealed,
    travels, may raise alarms (each sends it to inspection at the destination), is unsealed
    automatically at the destination gate, and the lock travels back (``lock_return``).
    """

    destination: str
    lock_pool: str
    truck_capacity: int = Field(ge=1)
    max_wait: Distribution | None = None
    departures_of_day: list[Annotated[float, Field(ge=0, lt=24)]] = Field(default_factory=list)
    seal_mode: SealMode = SealMode.AUTOMATIC
    seal_resource: str | None = None  # required with seal_mode officer
    seal: Distribution
    travel: Distribution
    alarms: list[Alarm] = Field(default_factory=list)
    alarm_inspection: Distribution | None = None
    unseal: Distribution
    lock_return: Distribution

    @model_validator(mode="after")
    def _consistent(self) -> Corridor:
        if self.seal_mode is SealMode.OFFICER and self.seal_resource is None:
            raise ValueError("seal_mode officer needs seal_resource")
        if self.alarms and self.alarm_inspection is None:
            raise ValueError("alarms need alarm_inspection (time to inspect an alarmed truck)")
        if self.max_wait is None and not self.departures_of_day and self.truck_capacity > 1:
            raise ValueError("give max_wait or departures_of_day, or loads may wait forever")
        return self
