"""The report's plots, drawn with matplotlib and inlined as SVG (no JavaScript, no network).

Each function takes the run in its JSON form (``RunResult.to_json_dict()``: NaN is ``None``)
and returns an SVG string, or ``None`` when the run has nothing to draw (a site without
e-locks). Time series are drawn as the mean across replications with a shaded band: the
pointwise 95 % t-interval (``simulation.stats.band``). The warm-up is shaded grey and the
end of arrivals marked, so a planner reads "queues at 20:00" off the right hour.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulation.kpi_table import KPIS, find_kpi, kpi_unit
from simulation.peak import PEAK_HOURS

# Text stays text (small, searchable); a fixed hash salt makes the SVG ids reproducible.
_SVG_STYLE: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "danchuang"}
_WIDE = (9.0, 3.4)


def to_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element to paste into HTML (no prolog, DOCTYPE or metadata,
    which would name external URLs)."""
    buffer = io.StringIO()
    with mpl.rc_context(_SVG_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _errors(estimates: Sequence[Mapping[str, Any]], scale: float) -> np.ndarray:
    """Error bars from each estimate's interval (``low``…``high``, never below what the KPI
    can take), as matplotlib's two rows of distances below and above the mean."""
    means = _array([e["mean"] for e in estimates])
    below = means - _array([e.get("low") for e in estimates])
    above = _array([e.get("high") for e in estimates]) - means
    errors: np.ndarray = np.nan_to_num(np.vstack([below, above])) / scale
    return errors


def _band(ax: Axes, times: np.ndarray, band: Mapping[str, Any], label: str, **style: Any) -> None:
    mean = _array(band["mean"])
    (line,) = ax.plot(times, mean, label=label, linewidth=1.3, **style)
    # Every series is a count or a rate: an interval reaching below zero is drawn from zero.
    low = np.maximum(_array(band["low"]), 0.0)
    ax.fill_between(times, low, _array(band["high"]), color=line.get_color(), alpha=0.2)


def _time_axes(ax: Axes, run: Mapping[str, Any], ylabel: str) -> None:
    warmup, horizon = run["warmup_hours"], run["horizon_hours"]
    if warmup > 0:
        ax.axvspan(0, warmup, color="0.9", zorder=0, label="warm-up")
    ax.axvline(horizon, color="0.5", linestyle=":", linewidth=1, label="arrivals stop")
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7, ncols=3, frameon=False)


def _series(run: Mapping[str, Any], prefix: str) -> dict[str, Mapping[str, Any]]:
    return {k[len(prefix) :]: v for k, v in run["series"].items() if k.startswith(prefix)}


def queues(run: Mapping[str, Any]) -> str | None:
    series = _series(run, "queue.")
    if not series:
        return None
    times = _array(run["series"]["times_h"])
    figure = Figure(figsize=_WIDE, layout="constrained")
    ax = figure.subplots()
    for stage, band in series.items():
        _band(ax, times, band, stage)
    _time_axes(ax, run, "declarations waiting")
    return to_svg(figure)


def in_system(run: Mapping[str, Any]) -> str | None:
    band = run["series"].get("in_system")
    if band is None:
        return None
    figure = Figure(figsize=_WIDE, layout="constrained")
    ax = figure.subplots()
    _band(ax, _array(run["series"]["times_h"]), band, "open declarations")
    _time_axes(ax, run, "declarations in the system")
    return to_svg(figure)


def _seconds_scale(largest: float) -> tuple[float, str]:
    if largest >= 7200:
        return 3600.0, "h"
    if largest >= 120:
        return 60.0, "min"
    return 1.0, "s"


def cycle_times(run: Mapping[str, Any], percentiles: Sequence[int]) -> str | None:
    """Per regime: the quantile curve (p50 … p99) and the mean, each with its 95 % CI."""
    kpis = run["kpis"]
    regimes = sorted({k.split(".")[2] for k in kpis if k.startswith("cycle_time.regime.")}, key=str)
    regimes = [r for r in regimes if (kpis[f"cycle_time.regime.{r}.mean"]["n"] or 0) > 0]
    if not regimes:
        return None
    names = ["mean", *(f"p{p}" for p in percentiles)]
    highs = [
        kpis[f"cycle_time.regime.{r}.{n}"]["high"] or kpis[f"cycle_time.regime.{r}.{n}"]["mean"]
        for r in regimes
        for n in names
    ]
    scale, unit = _seconds_scale(max((h for h in highs if h is not None), default=0.0))
    figure = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(names))
    width = 0.8 / len(regimes)
    for i, regime in enumerate(regimes):
        estimates = [kpis[f"cycle_time.regime.{regime}.{n}"] for n in names]
        means = _array([e["mean"] for e in estimates]) / scale
        ax.bar(x + (i - (len(regimes) - 1) / 2) * width, means, width, label=regime)
        ax.errorbar(
            x + (i - (len(regimes) - 1) / 2) * width,
            means,
            yerr=_errors(estimates, scale),
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2,
        )
    ax.set_xticks(x, names)
    # Imports clear in seconds, exports wait hours for their goods: a log axis shows both.
    ax.set_yscale("log")
    ax.set_ylabel(f"cycle time ({unit}, log scale)")
    ax.set_xlabel("statistic of the cycle time (lodgement → release), per regime")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncols=4, frameon=False)
    return to_svg(figure)


# The KPI table's utilisations: of a resource or an e-lock pool, in the arrival window and in
# the drain.
_UTILISATIONS = [
    KPIS[name]
    for name in (
        "resource.POOL.utilisation",
        "locks.POOL.utilisation",
        "drain.resource.POOL.utilisation",
        "drain.locks.POOL.utilisation",
    )
]


def _is_utilisation(name: str) -> bool:
    return find_kpi(name) in _UTILISATIONS


def utilisation(run: Mapping[str, Any]) -> str | None:
    """Utilisation of each limited pool and lock pool, with 95 % CIs: over the arrival window
    and in the peak window (``simulation.peak``), where the quiet hours do not dilute it."""
    names = [k for k in run["kpis"] if _is_utilisation(k) and run["kpis"][k]["n"]]
    if not names:
        return None
    figure = Figure(figsize=(9.0, 0.7 + 0.6 * len(names)), layout="constrained")
    ax = figure.subplots()
    rows = np.arange(len(names))
    for offset, suffix, colour, label in (
        (-0.2, "", "tab:blue", "warm-up end → end of arrivals"),
        (0.2, ".peak", "tab:orange", "peak window"),
    ):
        estimates = [
            run["kpis"].get(k + suffix) or {"mean": None, "low": None, "high": None} for k in names
        ]
        means = _array([e["mean"] for e in estimates]) * 100
        ax.barh(
            rows + offset, means, height=0.4, xerr=_errors(estimates, 0.01), capsize=3,
            color=colour, alpha=0.8, label=label,
        )  # fmt: skip
    ax.set_yticks(rows, [k.removesuffix(".utilisation") for k in names])
    ax.axvline(100, color="tab:red", linestyle="--", linewidth=1)
    ax.set_xlabel("utilisation (%)")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    return to_svg(figure)


def utilisation_over_time(run: Mapping[str, Any]) -> str | None:
    """Busy servers / scheduled servers of each limited pool at each sample (mean over
    replications), with the peak window shaded where it starts on average."""
    pools = list(_series(run, "capacity."))
    if not pools:
        return None
    times = _array(run["series"]["times_h"])
    figure = Figure(figsize=(9.0, 3.0), layout="constrained")
    ax = figure.subplots()
    for pool in pools:
        busy = _array(run["series"][f"busy.{pool}"]["mean"])
        capacity = _array(run["series"][f"capacity.{pool}"]["mean"])
        share = np.divide(busy, capacity, out=np.full_like(busy, np.nan), where=capacity > 0)
        ax.plot(times, 100 * share, linewidth=1.3, label=pool)
    start = (run["kpis"].get("peak.start_hour") or {}).get("mean")
    if start is not None:
        ax.axvspan(start, start + PEAK_HOURS, color="tab:orange", alpha=0.12, label="peak window")
    _time_axes(ax, run, "utilisation (%)")
    return to_svg(figure)


def resources_over_time(run: Mapping[str, Any]) -> str | None:
    """Servers in use against the scheduled capacity, one panel per limited pool."""
    pools = list(_series(run, "capacity."))
    if not pools:
        return None
    times = _array(run["series"]["times_h"])
    figure = Figure(figsize=(9.0, 2.2 * len(pools)), layout="constrained")
    axes = figure.subplots(len(pools), 1, sharex=True, squeeze=False)[:, 0]
    for ax, pool in zip(axes, pools, strict=True):
        _band(ax, times, run["series"][f"busy.{pool}"], f"{pool}: in use")
        capacity = _array(run["series"][f"capacity.{pool}"]["mean"])
        ax.step(times, capacity, where="post", color="black", linewidth=1, label="capacity")
        _time_axes(ax, run, "servers")
    return to_svg(figure)


def locks(run: Mapping[str, Any]) -> str | None:
    """E-locks in use against the pool size, and trucks waiting for a lock."""
    pools = list(_series(run, "locks_in_use."))
    if not pools:
        return None
    times = _array(run["series"]["times_h"])
    figure = Figure(figsize=(9.0, 4.6), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    for pool in pools:
        _band(top, times, run["series"][f"locks_in_use.{pool}"], f"{pool}: locks in use")
        size = run["lock_pool_sizes"].get(pool)
        if size is not None:
            top.axhline(size, color="black", linewidth=1, label=f"{pool}: pool size")
            top.set_ylim(top=max(top.get_ylim()[1], size * 1.15))
        _band(bottom, times, run["series"][f"trucks_waiting_lock.{pool}"], f"{pool}: waiting")
    _time_axes(top, run, "e-locks")
    _time_axes(bottom, run, "trucks waiting for a lock")
    return to_svg(figure)


def throughput(
    run: Mapping[str, Any], arrival_edges: np.ndarray, arrivals: np.ndarray
) -> str | None:
    """Releases per hour (mean and band) against the scenario's expected arrivals per hour."""
    band = run["series"].get("throughput_per_hour")
    if band is None:
        return None
    figure = Figure(figsize=_WIDE, layout="constrained")
    ax = figure.subplots()
    ax.stairs(
        arrivals,
        arrival_edges,
        color="tab:gray",
        label="arrivals (expected)",
        fill=True,
        alpha=0.35,
    )
    _band(ax, _array(run["series"]["times_h"]), band, "releases per hour", color="tab:green")
    _time_axes(ax, run, "declarations per hour")
    return to_svg(figure)


def sweep_kpi(
    name: str,
    x_label: str,
    x_values: Sequence[Any],
    lines: Mapping[str, Sequence[Mapping[str, Any]]],
) -> str:
    """One KPI against the first varied parameter; one line per combination of the others.

    ``lines`` maps a legend label to the KPI's estimates (``mean``, ``low``, ``high``) at each
    ``x_values`` entry. Numbers go on a numeric axis, anything else on a categorical one.
    """
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_values)
    x = np.asarray(x_values, dtype=float) if numeric else np.arange(len(x_values))
    unit = kpi_unit(name)
    scale, suffix = 1.0, ""
    if unit == "seconds":
        highs = [e["mean"] or 0.0 for line in lines.values() for e in line]
        scale, suffix = _seconds_scale(max(highs, default=0.0))
        suffix = f" ({suffix})"
    elif unit == "share":
        scale, suffix = 0.01, " (%)"
    figure = Figure(figsize=(6.0, 3.2), layout="constrained")
    ax = figure.subplots()
    for label, estimates in lines.items():
        means = _array([e["mean"] for e in estimates]) / scale
        ax.errorbar(
            x, means, yerr=_errors(estimates, scale), marker="o", capsize=3, label=label or None
        )
    if not numeric:
        ax.set_xticks(x, [str(v) for v in x_values])
    ax.set_xlabel(x_label)
    ax.set_ylabel(name + suffix)
    ax.grid(alpha=0.3)
    if any(lines):
        ax.legend(fontsize=7, frameon=False)
    return to_svg(figure)
