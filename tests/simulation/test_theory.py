"""The queueing formulas of simulation.theory against published values and an independent
numerical solution of the birth-death chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad

from simulation.theory import (
    erlang_b,
    erlang_c,
    jackson_network,
    little_arrival_rate,
    little_number_in_system,
    little_relative_error,
    little_time_in_system,
    mm1,
    mmc,
    mmc_wait_exceedance,
    traffic_equations,
)


def birth_death_mmc(lam: float, mu: float, c: int, states: int = 4000) -> np.ndarray:
    """Stationary distribution of the M/M/c chain truncated at ``states``, solved directly.

    Independent of the closed forms: detailed balance p[n+1] = p[n] lam / (min(n+1, c) mu),
    accumulated in logs and normalised.
    """
    log_p = np.zeros(states)
    for n in range(1, states):
        log_p[n] = log_p[n - 1] + math.log(lam) - math.log(min(n, c) * mu)
    p: np.ndarray = np.exp(log_p - log_p.max())
    normalised: np.ndarray = p / p.sum()
    return normalised


# --- published values --------------------------------------------------------------------------


def test_mm4_at_rho_0_9_matches_simulation_notes() -> None:
    # Erlang C: c = 4, mu = 1, lam = 3.6 -> P(wait) = 0.7878, Wq = 1.969.
    m = mmc(3.6, 1.0, 4)
    assert m.prob_wait == pytest.approx(0.7878, abs=5e-5)
    assert m.wq == pytest.approx(1.969, abs=5e-4)
    assert m.utilisation == pytest.approx(0.9)


def test_mm1_textbook_case() -> None:
    # Hillier & Lieberman, County Hospital emergency room, one doctor: lam = 2/h, mu = 3/h
    # -> rho = 2/3, L = 2, Lq = 4/3, W = 1 h, Wq = 2/3 h.
    m = mm1(2.0, 3.0)
    assert (m.utilisation, m.l, m.lq, m.w, m.wq) == pytest.approx((2 / 3, 2.0, 4 / 3, 1.0, 2 / 3))
    assert m.prob_empty == pytest.approx(1 / 3)
    # Classic M/M/1 in per-hour units: lam = 20/h, mu = 30/h -> W = 6 min, Wq = 4 min.
    m = mm1(20.0, 30.0)
    assert (m.w * 60, m.wq * 60, m.l) == pytest.approx((6.0, 4.0, 2.0))


def test_mm2_textbook_case() -> None:
    # Same hospital with two doctors: P0 = 1/2, Lq = 1/12, L = 3/4, Wq = 1/24 h, W = 3/8 h.
    m = mmc(2.0, 3.0, 2)
    assert (m.prob_empty, m.lq, m.l, m.wq, m.w) == pytest.approx((0.5, 1 / 12, 0.75, 1 / 24, 3 / 8))


def test_erlang_b_published_value() -> None:
    # Erlang B tables: 10 Erlangs offered to 10 circuits block 21.46 % of calls.
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)
    assert erlang_b(0, 3.0) == 1.0


# --- against the birth-death chain and closed forms ------------------------------------------


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [(0.5, 1.0, 1), (0.9, 1.0, 1), (3.6, 1.0, 4), (7.0, 0.5, 16), (180.0, 1.0, 200)],
)
def test_mmc_agrees_with_the_numerical_chain(lam: float, mu: float, c: int) -> None:
    p = birth_death_mmc(lam, mu, c)
    n = np.arange(p.size)
    m = mmc(lam, mu, c)
    assert m.prob_empty == pytest.approx(p[0], rel=1e-9)
    assert m.prob_wait == pytest.approx(p[c:].sum(), rel=1e-9)
    assert m.l == pytest.approx((n * p).sum(), rel=1e-9)
    assert m.lq == pytest.approx((np.maximum(n - c, 0) * p).sum(), rel=1e-9, abs=1e-12)


def test_erlang_c_agrees_with_the_factorial_formula() -> None:
    for c in range(1, 15):
        for a in (0.1 * c, 0.5 * c, 0.95 * c):
            top = a**c / math.factorial(c) / (1 - a / c)
            expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
            assert erlang_c(c, a) == pytest.approx(expected, rel=1e-12)


@given(
    rho=st.floats(min_value=0.01, max_value=0.99),
    mu=st.floats(min_value=0.01, max_value=100.0),
    c=st.integers(min_value=1, max_value=300),
)
def test_mmc_identities(rho: float, mu: float, c: int) -> None:
    m = mmc(rho * c * mu, mu, c)
    assert 0.0 <= m.prob_wait <= 1.0
    assert 0.0 < m.prob_empty <= 1.0
    assert m.utilisation == pytest.approx(rho)
    assert m.w == pytest.approx(m.wq + 1 / mu)
    assert m.l == pytest.approx(m.lq + m.offered_load)  # busy servers on average = a
    assert little_relative_error(m.l, m.arrival_rate, m.w) == pytest.approx(0.0, abs=1e-9)


@given(rho=st.floats(min_value=0.01, max_value=0.99), mu=st.floats(min_value=0.01, max_value=10))
def test_single_server_closed_forms(rho: float, mu: float) -> None:
    m = mm1(rho * mu, mu)
    assert m.prob_wait == pytest.approx(rho)
    assert m.l == pytest.approx(rho / (1 - rho))
    assert m.w == pytest.approx(1 / (mu - rho * mu))


def test_more_servers_never_wait_longer() -> None:
    waits = [mmc(3.6, 1.0, c).wq for c in range(4, 12)]
    assert waits == sorted(waits, reverse=True)


def test_wait_exceedance() -> None:
    m = mmc(3.6, 1.0, 4)
    assert mmc_wait_exceedance(m, 0.0) == pytest.approx(m.prob_wait)
    # The tail integrates to the mean wait: E[Wq] = integral of P(Wq > t) dt = C / (c mu - lam).
    integral, _ = quad(lambda x: mmc_wait_exceedance(m, x), 0.0, math.inf)
    assert integral == pytest.approx(m.wq, rel=1e-9)
    with pytest.raises(ValueError, match="t must be"):
        mmc_wait_exceedance(m, -1.0)


def test_zero_arrivals_is_an_empty_queue() -> None:
    m = mmc(0.0, 2.0, 3)
    assert (m.l, m.w, m.prob_wait, m.prob_empty) == (0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1.0, 1.0, 1), "unstable queue"),
        ((5.0, 1.0, 4), r"rho = .* = 1\.25"),
        ((-1.0, 1.0, 1), "arrival_rate"),
        ((1.0, 0.0, 2), "service_rate"),
        ((1.0, 2.0, 0), "servers"),
        ((1.0, 2.0, 1.5), "servers"),
        ((math.nan, 2.0, 1), "arrival_rate"),
    ],
)
def test_bad_parameters_are_named(args: tuple[float, float, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mmc(*args)


# --- networks and Little's law -----------------------------------------------------------------


def test_traffic_equations_of_a_clearance_chain() -> None:
    # audit -> review (30 %) -> inspection (50 % of reviewed) ; 10 % of audited straight to
    # inspection; everything else leaves (released).
    rates = traffic_equations([10.0, 0.0, 0.0], [[0, 0.3, 0.1], [0, 0, 0.5], [0, 0, 0]])
    assert rates == pytest.approx([10.0, 3.0, 2.5])


def test_traffic_equations_with_feedback() -> None:
    # A node that sends half of its customers back to itself sees twice the external rate.
    assert traffic_equations([1.0], [[0.5]]) == pytest.approx([2.0])
    with pytest.raises(ValueError, match="never leave"):
        traffic_equations([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="2x2"):
        traffic_equations([1.0, 0.0], [[0.0]])
    with pytest.raises(ValueError, match="sum to at most 1"):
        traffic_equations([1.0], [[1.5]])


def test_jackson_network_nodes_are_mmc() -> None:
    nodes = jackson_network(
        [10.0, 0.0, 0.0], [[0, 0.3, 0.1], [0, 0, 0.5], [0, 0, 0]], [2.0, 1.0, 0.5], [6, 4, 6]
    )
    assert [n.arrival_rate for n in nodes] == pytest.approx([10.0, 3.0, 2.5])
    assert nodes[1] == mmc(3.0, 1.0, 4)
    with pytest.raises(ValueError, match="node 2: unstable"):
        jackson_network(
            [10.0, 0.0, 0.0], [[0, 0.3, 0.1], [0, 0, 0.5], [0, 0, 0]], [2.0, 1.0, 0.5], [6, 4, 5]
        )


def test_little_law_helpers() -> None:
    assert little_number_in_system(3.0, 2.0) == 6.0
    assert little_time_in_system(6.0, 3.0) == 2.0
    assert little_arrival_rate(6.0, 2.0) == 3.0
    assert little_relative_error(6.0, 3.0, 2.1) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="arrival_rate"):
        little_time_in_system(1.0, 0.0)
    with pytest.raises(ValueError, match="time_in_system"):
        little_arrival_rate(1.0, 0.0)
