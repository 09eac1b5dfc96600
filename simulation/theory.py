"""Queueing theory the simulator is checked against: M/M/1, M/M/c (Erlang C), Jackson networks
and Little's law.

Pure functions, no I/O, no simulation. Rates are per unit of time (any unit, used
consistently); times come back in the same unit. Every function raises ``ValueError`` with a
sentence naming the offending parameter when the queue would be unstable or a value is out of
range, because a planner passing ``rho >= 1`` deserves a message, not ``inf`` or a negative wait.

Formulas (Kleinrock, *Queueing Systems* vol. 1, §3.2 and §3.4; Gross & Harris, *Fundamentals of
Queueing Theory*, §2.2–2.3), with offered load ``a = lam / mu`` and utilisation
``rho = a / c``:

- Erlang B by the stable recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``;
- Erlang C (probability that an arrival waits) ``C = c B / (c - a (1 - B))``;
- ``Wq = C / (c mu - lam)``, ``W = Wq + 1 / mu``, ``Lq = lam Wq``, ``L = lam W``;
- ``P(Wq > t) = C exp(-(c mu - lam) t)``.

The recursion avoids the factorials of the textbook formula, so hundreds of servers (an
electronic-audit stage) are fine.

Example:
    >>> m = mmc(arrival_rate=3.6, service_rate=1.0, servers=4)
    >>> round(m.wq, 3), round(m.prob_wait, 4)
    (1.969, 0.7878)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "QueueMetrics",
    "erlang_b",
    "erlang_c",
    "jackson_network",
    "little_arrival_rate",
    "little_number_in_system",
    "little_relative_error",
    "little_time_in_system",
    "mm1",
    "mmc",
    "mmc_wait_exceedance",
    "traffic_equations",
]


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """Steady-state measures of one M/M/c station (``servers == 1`` for M/M/1)."""

    arrival_rate: float
    service_rate: float
    servers: int
    utilisation: float  # rho = lam / (c mu), the long-run share of busy servers
    prob_empty: float  # P0, probability of no customer in the station
    prob_wait: float  # Erlang C: probability that an arrival finds all servers busy
    lq: float  # mean number waiting
    l: float  # mean number in the station (waiting + in service)  # noqa: E741
    wq: float  # mean wait before service
    w: float  # mean time in the station (sojourn)

    @property
    def offered_load(self) -> float:
        """``a = lam / mu`` in Erlangs: the mean number of busy servers."""
        return self.arrival_rate / self.service_rate


def _check_rates(arrival_rate: float, service_rate: float, servers: int) -> None:
    if not math.isfinite(arrival_rate) or arrival_rate < 0:
        raise ValueError(f"arrival_rate must be a finite number >= 0, got {arrival_rate!r}")
    if not math.isfinite(service_rate) or service_rate <= 0:
        raise ValueError(f"service_rate must be a finite number > 0, got {service_rate!r}")
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    if arrival_rate >= servers * service_rate:
        rho = arrival_rate / (servers * service_rate)
        raise ValueError(
            f"unstable queue: utilisation rho = lam / (c mu) = {arrival_rate} / "
            f"({servers} x {service_rate}) = {rho:.4g} must be < 1"
        )


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of an M/M/c/c loss system (Erlang B), by recursion."""
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise ValueError(f"servers must be an integer >= 0, got {servers!r}")
    if not math.isfinite(offered_load) or offered_load < 0:
        raise ValueError(f"offered_load must be a finite number >= 0, got {offered_load!r}")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival to an M/M/c queue must wait (Erlang C); needs ``a < c``."""
    if not offered_load < servers:
        raise ValueError(
            f"unstable queue: offered load a = {offered_load} Erlangs must be < servers = {servers}"
        )
    b = erlang_b(servers, offered_load)
    return servers * b / (servers - offered_load * (1.0 - b))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> QueueMetrics:
    """Steady state of an M/M/c FIFO queue with infinite waiting room."""
    _check_rates(arrival_rate, service_rate, servers)
    a = arrival_rate / service_rate
    rho = a / servers
    if arrival_rate == 0:
        return QueueMetrics(0.0, service_rate, servers, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    p_wait = erlang_c(servers, a)
    wq = p_wait / (servers * service_rate - arrival_rate)
    w = wq + 1.0 / service_rate
    # P0 = 1 / (sum_{k<c} a^k / k! + a^c / (c! (1 - rho))), summed in logs (log-sum-exp) so that
    # hundreds of servers neither overflow the factorials nor underflow the tiny terms.
    log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(servers)]
    log_terms.append(servers * math.log(a) - math.lgamma(servers + 1) - math.log1p(-rho))
    top = max(log_terms)
    prob_empty = math.exp(-top) / math.fsum(math.exp(t - top) for t in log_terms)
    return QueueMetrics(
        arrival_rate=arrival_rate,
        service_rate=service_rate,
        servers=servers,
        utilisation=rho,
        prob_empty=prob_empty,
        prob_wait=p_wait,
        lq=arrival_rate * wq,
        l=arrival_rate * w,
        wq=wq,
        w=w,
    )


def mm1(arrival_rate: float, service_rate: float) -> QueueMetrics:
    """Steady state of an M/M/1 FIFO queue (``mmc`` with one server)."""
    return mmc(arrival_rate, service_rate, 1)


def mmc_wait_exceedance(metrics: QueueMetrics, t: float) -> float:
    """``P(Wq > t)`` for an M/M/c FIFO queue: ``C exp(-(c mu - lam) t)``.

    The share of customers who wait longer than ``t`` before service starts; with ``t = 0`` it is
    the Erlang C probability itself.
    """
    if t < 0:
        raise ValueError(f"t must be >= 0, got {t!r}")
    drain = metrics.servers * metrics.service_rate - metrics.arrival_rate
    return metrics.prob_wait * math.exp(-drain * t)


def traffic_equations(
    external_rates: Sequence[float], routing: Sequence[Sequence[float]]
) -> list[float]:
    """Total arrival rate per node of an open network: solve ``lam = gamma + R^T lam``.

    ``routing[i][j]`` is the probability that a customer leaving node ``i`` goes next to node
    ``j``; what is missing from a row's sum to 1 leaves the network.
    """
    gamma = np.asarray(external_rates, dtype=float)
    r = np.asarray(routing, dtype=float)
    n = gamma.shape[0]
    if r.shape != (n, n):
        raise ValueError(f"routing must be a {n}x{n} matrix to match {n} nodes, got {r.shape}")
    if (gamma < 0).any():
        raise ValueError("external_rates must all be >= 0")
    if (r < 0).any() or (r.sum(axis=1) > 1.0 + 1e-12).any():
        raise ValueError("routing rows must hold probabilities >= 0 that sum to at most 1")
    try:
        rates = np.linalg.solve(np.eye(n) - r.T, gamma)
    except np.linalg.LinAlgError as exc:
        raise ValueError("routing traps customers: some node's customers never leave") from exc
    return [float(x) for x in rates]


def jackson_network(
    external_rates: Sequence[float],
    routing: Sequence[Sequence[float]],
    service_rates: Sequence[float],
    servers: Sequence[int],
) -> list[QueueMetrics]:
    """Per-node steady state of an open Jackson network of M/M/c stations.

    By Jackson's theorem each node behaves as an independent M/M/c queue fed at its total
    rate from :func:`traffic_equations`; a node's mean wait and sojourn therefore follow
    :func:`mmc`. (The network's end-to-end sojourn is ``sum(L) / sum(external_rates)`` by
    Little's law.)
    """
    rates = traffic_equations(external_rates, routing)
    if not len(service_rates) == len(servers) == len(rates):
        raise ValueError("external_rates, service_rates and servers must have one entry per node")
    metrics = []
    for node, (lam, mu, c) in enumerate(zip(rates, service_rates, servers, strict=True)):
        try:
            metrics.append(mmc(lam, mu, c))
        except ValueError as exc:
            raise ValueError(f"node {node}: {exc}") from exc
    return metrics


# Little's law, L = lam W, holds for any stable system observed long enough (no distributional
# assumptions); the simulator's per-stage statistics must satisfy it, which is a cheap and
# strong check of the bookkeeping.


def little_number_in_system(arrival_rate: float, time_in_system: float) -> float:
    """``L = lam W``."""
    return arrival_rate * time_in_system


def little_time_in_system(number_in_system: float, arrival_rate: float) -> float:
    """``W = L / lam``."""
    if arrival_rate <= 0:
        raise ValueError(f"arrival_rate must be > 0, got {arrival_rate!r}")
    return number_in_system / arrival_rate


def little_arrival_rate(number_in_system: float, time_in_system: float) -> float:
    """``lam = L / W``."""
    if time_in_system <= 0:
        raise ValueError(f"time_in_system must be > 0, got {time_in_system!r}")
    return number_in_system / time_in_system


def little_relative_error(
    number_in_system: float, arrival_rate: float, time_in_system: float
) -> float:
    """``|L - lam W| / L``: how far measured L, lam and W are from satisfying Little's law."""
    if number_in_system <= 0:
        raise ValueError(f"number_in_system must be > 0, got {number_in_system!r}")
    return abs(number_in_system - arrival_rate * time_in_system) / number_in_system
