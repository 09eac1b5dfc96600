"""Cheap time-weighted counters: a level (queue length, servers busy, locks in use) whose
integral over time gives its time average, with a reset at the end of the warm-up and a mark
at the end of the arrivals (the horizon)."""

from __future__ import annotations


class Level:
    """A piecewise-constant quantity; ``change`` is O(1) and allocation-free."""

    __slots__ = ("area", "last", "marked", "marked_at", "maximum", "since", "value")

    def __init__(self, value: float = 0.0, now: float = 0.0) -> None:
        self.value = value
        self.area = 0.0
        self.last = now
        self.since = now
        self.maximum = value
        self.marked = 0.0  # the integral from ``since`` to ``marked_at``
        self.marked_at = now

    def change(self, now: float, delta: float) -> None:
        self.area += self.value * (now - self.last)
        self.last = now
        self.value += delta
        self.maximum = max(self.maximum, self.value)

    def set(self, now: float, value: float) -> None:
        self.change(now, value - self.value)

    def reset(self, now: float) -> None:
        """Forget the past (end of warm-up): averages and maxima count from ``now``."""
        self.area = 0.0
        self.last = now
        self.since = now
        self.maximum = self.value

    def mark(self, now: float) -> None:
        """Remember the integral so far (end of arrivals), to average before and after it."""
        self.marked = self.integral(now)
        self.marked_at = now

    def integral(self, now: float) -> float:
        return self.area + self.value * (now - self.last)

    def mean(self, now: float) -> float:
        span = now - self.since
        return self.integral(now) / span if span > 0 else self.value

    def mean_to_mark(self) -> float:
        """The time average from ``since`` to the mark."""
        span = self.marked_at - self.since
        return self.marked / span if span > 0 else self.value

    def mean_from_mark(self, now: float) -> float:
        """The time average from the mark to ``now``."""
        span = now - self.marked_at
        return (self.integral(now) - self.marked) / span if span > 0 else self.value
