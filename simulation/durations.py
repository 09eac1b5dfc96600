"""Duration distributions of scenario files (service times, delays, batch sizes), and the two
building blocks of every scenario schema module: ``Strict`` models and ``Probability``.

Each has a ``unit`` (``s``, ``min``, ``h``; seconds by default); the model's clock runs in
seconds. ``simulation.distributions`` turns them into samplers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

HOUR = 3600.0  # seconds: the model's clock runs in seconds, scenarios speak in hours
UNIT_SECONDS = {"s": 1.0, "min": 60.0, "h": HOUR}
Unit = Literal["s", "min", "h"]


class Strict(BaseModel):
    # Unknown keys are errors: a typo in a planner's file must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


Probability = Annotated[float, Field(ge=0, le=1)]


# --- distributions -------------------------------------------------------------------------


class Exponential(Strict):
    dist: Literal["exponential"]
    mean: float = Field(gt=0)
    unit: Unit = "s"


class Deterministic(Strict):
    dist: Literal["deterministic"]
    value: float = Field(ge=0)
    unit: Unit = "s"


class LogNormal(Strict):
    """Parametrised by the mean and standard deviation of the duration itself (not of its log)."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)
    unit: Unit = "s"


class Triangular(Strict):
    dist: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(gt=0)
    unit: Unit = "s"

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self


class Uniform(Strict):
    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(gt=0)
    unit: Unit = "s"

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low >= self.high:
            raise ValueError("uniform needs low < high")
        return self


class Empirical(Strict):
    """Draws one of ``values`` with probabilities proportional to ``weights`` (equal by default)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None
    unit: Unit = "s"

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


Distribution = Annotated[
    Exponential | Deterministic | LogNormal | Triangular | Uniform | Empirical,
    Field(discriminator="dist"),
]


def mean_seconds(
    dist: Exponential | Deterministic | LogNormal | Triangular | Uniform | Empirical,
) -> float:
    """The distribution's mean in seconds (used by the theory checks and the docs)."""
    scale = UNIT_SECONDS[dist.unit]
    match dist:
        case Exponential() | LogNormal():
            return dist.mean * scale
        case Deterministic():
            return dist.value * scale
        case Triangular():
            return (dist.low + dist.mode + dist.high) / 3 * scale
        case Uniform():
            return (dist.low + dist.high) / 2 * scale
        case Empirical():
            weights = dist.weights or [1.0] * len(dist.values)
            return (
                sum(v * w for v, w in zip(dist.values, weights, strict=True)) / sum(weights) * scale
            )
