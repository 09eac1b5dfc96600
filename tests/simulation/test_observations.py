"""What the old report hid: per-regime target shares, cycle time by hour of lodgement, the peak
window's utilisation, and each corridor's trader time (release → departure) and lodgement →
destination."""

from __future__ import annotations

import math
from pathlib import Path

from simulation.peak import PEAK_HOURS, peak_kpis, peak_window
from simulation.runner import run_replication
from simulation.scenario import load_scenario
from simulation.sweep import apply_overrides

SMALL_SITE = Path(__file__).parent / "data" / "small-site.yaml"


def test_the_peak_window_is_the_busiest_stretch_of_the_arrival_window() -> None:
    times = [i * 0.5 for i in range(49)]  # 0 … 24 h every 30 min
    in_system = [10.0 if 12 <= t < 18 else 1.0 for t in times]
    first, last = peak_window(times, in_system, 2.0, 22.0)
    assert times[first] == 12.0 and last - first == round(PEAK_HOURS / 0.5)
    # A pool busy only in the evening: diluted overall, full in the peak window.
    busy = [4.0 if 12 <= t < 18 else 0.0 for t in times]
    series = {"in_system": in_system, "busy.staff": busy, "capacity.staff": [4.0] * len(times)}
    kpis = peak_kpis(series, times, 2.0, 22.0, {})
    assert kpis["resource.staff.utilisation.busiest"] == 1.0
    assert kpis["resource.staff.utilisation.peak"] == 1.0
    assert kpis["peak.start_hour"] == 12.0


def test_per_regime_shares_hourly_cycle_times_and_corridor_times() -> None:
    scenario = apply_overrides(load_scenario(SMALL_SITE), {"horizon_hours": 30, "drain_hours": 6})
    kpis = run_replication(scenario, 2).kpis
    shares = {k: v for k, v in kpis.items() if k.startswith("released_within.")}
    assert set(shares) == {
        f"released_within.{label}.2h"
        for label in ("9610-import", "1210-import", "9710-export", "mail")
    }
    assert all(0 <= v <= 1 for v in shares.values())
    # The site's share lies between its regimes' shares.
    assert min(shares.values()) <= kpis["released_within_target"] <= max(shares.values())
    hourly = {k: v for k, v in kpis.items() if k.startswith("cycle_time.lodged_hour.")}
    assert hourly and all(v > 0 for v in hourly.values())
    assert {k.split(".")[2] for k in hourly} <= {f"{h:02d}" for h in range(24)}
    # Lodgement → destination holds the cycle time, the wait for a truck and the journey.
    bay = kpis["corridor.to-wuhan.release_to_departure.mean"]
    whole = kpis["corridor.to-wuhan.lodgement_to_destination.mean"]
    assert 0 <= bay < whole
    assert whole > kpis["corridor.to-wuhan.transit.mean"] - 3600  # the journey is in it
    assert not math.isnan(kpis["resource.officers.utilisation.peak"])
    assert (
        kpis["resource.officers.utilisation.busiest"] >= kpis["resource.officers.utilisation.peak"]
    )
