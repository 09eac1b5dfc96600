"""Random durations drawn in vectorised blocks from numpy (one Python call per draw, one numpy
call per ``BLOCK`` draws): the hot path of the model takes ``sampler()`` and gets a float.

Each sampler owns its own child generator spawned from the replication's generator, so adding
a draw in one place does not shift the random numbers of every other stage (which keeps
scenario variants comparable: common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import chain
from typing import TypeVar, cast

import numpy as np

from simulation.durations import (
    UNIT_SECONDS,
    Deterministic,
    Empirical,
    Exponential,
    LogNormal,
    Triangular,
    Uniform,
)

BLOCK = 4096
T = TypeVar("T")
AnyDistribution = Exponential | Deterministic | LogNormal | Triangular | Uniform | Empirical


def block_function(dist: AnyDistribution, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """A function drawing ``n`` values of ``dist`` in seconds."""
    scale = UNIT_SECONDS[dist.unit]
    match dist:
        case Exponential():
            mean = dist.mean * scale
            return lambda n: rng.exponential(mean, n)
        case Deterministic():
            value = dist.value * scale
            return lambda n: np.full(n, value)
        case LogNormal():
            # Moments of the duration -> parameters of its logarithm.
            sigma2 = math.log1p((dist.sd / dist.mean) ** 2)
            mu = math.log(dist.mean * scale) - sigma2 / 2
            sigma = math.sqrt(sigma2)
            return lambda n: rng.lognormal(mu, sigma, n)
        case Triangular():
            low, mode, high = dist.low * scale, dist.mode * scale, dist.high * scale
            return lambda n: rng.triangular(low, mode, high, n)
        case Uniform():
            low, high = dist.low * scale, dist.high * scale
            return lambda n: rng.uniform(low, high, n)
        case Empirical():
            values = np.asarray(dist.values, dtype=float) * scale
            weights = np.asarray(dist.weights or [1.0] * len(values), dtype=float)
            p = weights / weights.sum()
            return lambda n: rng.choice(values, size=n, p=p)
    raise TypeError(f"unknown distribution {dist!r}")  # pragma: no cover


Sampler = Callable[[], float]
"""A zero-argument function returning the next draw."""


def _blocks(draw: Callable[[int], Iterable[T]]) -> Iterator[Iterable[T]]:
    size = 64  # grows to BLOCK: short runs (live mode) should not draw 4096 values at once
    while True:
        yield draw(size)
        size = min(size * 4, BLOCK)


def block_stream(draw: Callable[[int], Iterable[T]]) -> Callable[[], T]:
    """The items of ``draw(n)``, one per call, ``draw`` called for blocks of growing size.
    ``next`` on a chained iterator runs in C, so an item costs a C call, not a Python method
    call (drawing is the most frequent call of the model)."""
    return partial(next, chain.from_iterable(_blocks(draw)))


def stream(draw: Callable[[int], np.ndarray]) -> Sampler:
    """Draws one value at a time from numpy blocks (``block_stream`` over ``draw``'s values
    as Python floats)."""
    return block_stream(lambda n: cast(list[float], draw(n).tolist()))


def sampler(dist: AnyDistribution, rng: np.random.Generator) -> Sampler:
    """A sampler of ``dist`` (seconds) with its own stream spawned from ``rng``."""
    return stream(block_function(dist, rng.spawn(1)[0]))


def uniform_sampler(rng: np.random.Generator) -> Sampler:
    """Uniform(0, 1) draws for routing decisions, with their own stream."""
    child = rng.spawn(1)[0]
    return stream(child.random)


def choice_sampler(weights: list[float], rng: np.random.Generator) -> Sampler:
    """Indices 0..len-1 with probabilities proportional to ``weights`` (returned as floats)."""
    child = rng.spawn(1)[0]
    p = np.asarray(weights, dtype=float)
    p = p / p.sum()
    return stream(lambda n: child.choice(len(p), size=n, p=p).astype(float))
