"""How much memory a run will need, estimated before it starts, and the refusal of a run that
cannot fit (so a typo in a rate fails in a second, not after the machine starts swapping)."""

from __future__ import annotations

import math
import os

from simcore.engine.calendar import Calendar
from simcore.errors import ArgumentError, ScenarioError
from simcore.model.demand import ArrivalRate
from simcore.model.load import overloaded
from simcore.scenario.scale import at_scale
from simcore.scenario.schema import Scenario
from simcore.scenario.timelines import censored, settle_days

# Peak memory of `simcore run` (the run, its frames and the Parquet writes), as a sum of what it
# scales with. Measured 2026-11-26 (after the memory work of the performance issue) on the
# project machine (Python 3.11, glibc, 2 cores) with resource.getrusage peak RSS, each run in a
# fresh process through simcore.cli.main:
#   baseline (150 days) x1: 43,987 orders, 303 MiB peak; x2: 87,544, 307 MiB; x4: 172,788,
#   356 MiB; x8: 339,315, 453 MiB (demand, buyers, sellers, gateway servers, analysts and agents
#   scaled together, as in benchmarks/bench_run.py). Net of the buyers and SKUs added, the
#   marginal cost is 546 (x2 -> x4) and 553 (x4 -> x8) bytes per order;
#   3-day runs at 0.5 orders/hour: 174 MiB with 25,300 buyer accounts, 271 MiB with 6,000,300
#   (17 B per account); 16,000 SKUs -> 2,000,000: 408 MiB (124 B per SKU, the build's numpy
#   temporaries included);
#   0.01 orders/hour: 173 MiB over 3 days, 191 MiB over 20,000 days (0.94 KB per simulated day);
#   at a million: a million arrivals over 150 days at 280/hour (923,962 orders, 560,000 buyers,
#   358,000 SKUs) peak at 810 MiB, 603 B per expected order net of the rest; in 30 days at
#   1,400/hour (877,922 orders, 2.8 million buyers, 1.8 million SKUs) at 867 MiB. These
#   constants estimate 855 and 1,076 MiB for them. Small runs peak above the sum (the baseline
#   at 303 MiB, estimated 203: frames, KPIs and Parquet writing cost ~100 MiB at any size),
#   which matters nowhere near a limit.
#: Bytes per expected order (the slope at a million, rounded up: peak grows slightly faster
#: than linearly, and the estimate is meant to be an upper one).
BYTES_PER_ORDER = 650
#: Bytes per buyer account (legitimate and fraudulent).
BYTES_PER_BUYER = 20
#: Bytes per listing (SKU).
BYTES_PER_SKU = 130
#: Bytes per simulated day (daily timeseries and snapshots).
BYTES_PER_DAY = 1_000
#: Interpreter, numpy, pandas, pyarrow and SimPy loaded, plus a tiny run (173 MiB measured).
BYTES_FIXED = 175 * 2**20
#: Share of physical memory a run may be estimated to need: the rest is for the OS and other
#: processes, and for the estimate's error.
MEMORY_SHARE = 0.8
#: Environment variable overriding the limit, in GB (10^9 bytes).
MEMORY_LIMIT_ENV = "SIMCORE_MEMORY_LIMIT_GB"


def expected_orders(scn: Scenario) -> float:
    """Orders expected to arrive over the horizon: the rate integrated over time.

    The hour-of-day and weekday shapes average 1 over whole weeks (``ArrivalRate`` rescales them
    to mean 1), so only promotions change the integral: each stretch between window edges runs
    at ``orders_per_hour`` times the product of the windows covering it, as in ``ArrivalRate``.
    Buyers who churn or find nothing in stock place fewer, so this is an upper estimate
    (baseline: 45,000 expected, 43,987 placed).

    Returns:
        Expected orders at the scenario's ``scale`` (a float; ``inf`` when the product overflows).
    """
    return _expected_orders(at_scale(scn))


def _expected_orders(scn: Scenario) -> float:
    """:func:`expected_orders` of a scenario already at its scale (:func:`at_scale`)."""
    rate = ArrivalRate(scn, Calendar(scn.start))
    horizon = scn.horizon_hours
    edges = sorted({0.0, horizon, *(min(max(t, 0.0), horizon) for w in rate.promotions for t in w[:2])})
    total = 0.0
    for a, b in zip(edges, edges[1:], strict=False):
        multiplier = math.prod(m for lo, hi, m in rate.promotions if lo <= a < hi)
        total += rate.base * multiplier * (b - a)
    return total


def memory_limit() -> tuple[float, str]:
    """The most memory a run may be estimated to need, in bytes, and where the limit comes from.

    ``SIMCORE_MEMORY_LIMIT_GB`` (GB, 10^9 bytes) when set, else 80% of physical memory.

    Raises:
        ArgumentError: ``SIMCORE_MEMORY_LIMIT_GB`` is not a positive, finite number.
    """
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text:
        try:
            gb = float(text)
        except ValueError:
            gb = math.nan
        if not 0 < gb < math.inf:
            raise ArgumentError(f"{MEMORY_LIMIT_ENV}: must be a number of GB > 0 (got {text!r})")
        return gb * 1e9, f"set by {MEMORY_LIMIT_ENV}"
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return (
        MEMORY_SHARE * physical,
        f"{MEMORY_SHARE:.0%} of this machine's {physical / 1e9:.1f} GB; set {MEMORY_LIMIT_ENV} to change it",
    )


def estimated_memory(scn: Scenario) -> float:
    """Estimated peak memory of running ``scn`` and writing its outputs, in bytes (see the
    measurements beside :data:`BYTES_PER_ORDER`); ``inf`` when it overflows a float."""
    return _estimated_memory(at_scale(scn))


def _estimated_memory(scn: Scenario) -> float:
    """:func:`estimated_memory` of a scenario already at its scale (:func:`at_scale`)."""
    # Integers past 1e308 (the schema bounds them only from below) become inf, not an error.
    buyers = _float(scn.buyers.population + scn.buyers.fraud.population)
    skus = _float(scn.sellers.count * scn.sellers.skus_per_seller)
    return (
        BYTES_FIXED
        + BYTES_PER_ORDER * _expected_orders(scn)
        + BYTES_PER_BUYER * buyers
        + BYTES_PER_SKU * skus
        + BYTES_PER_DAY * scn.horizon_days
    )


def check_volume(scn: Scenario, *, source: str | None = None) -> None:
    """Refuse, before it starts, a run whose estimated memory exceeds :func:`memory_limit`.

    The estimate (:func:`estimated_memory`) grows with the orders expected over the horizon
    (:func:`expected_orders`), the buyer accounts, the listings and the simulated days.

    Args:
        scn: The scenario to run.
        source: The scenario file, to name in the message.

    Raises:
        ScenarioError: the estimate exceeds the limit (naming the expected orders, the estimated
            memory and the limit), or ``SIMCORE_MEMORY_LIMIT_GB`` is not a number.
    """
    limit, why = memory_limit()
    scaled = ", scale" if scn.scale != 1.0 else ""
    scn = at_scale(scn)  # the counts below are the market's as it would run
    need = _estimated_memory(scn)
    if need <= limit:
        return
    orders = _expected_orders(scn)
    buyers = scn.buyers.population + scn.buyers.fraud.population
    skus = scn.sellers.count * scn.sellers.skus_per_seller
    # Name the keys behind the largest share of the estimate: those are the ones to lower.
    terms = {
        f"buyers.orders_per_hour, horizon_days{scaled}": BYTES_PER_ORDER * orders,
        f"buyers.population, buyers.fraud.population{scaled}": BYTES_PER_BUYER * _float(buyers),
        f"sellers.count, sellers.skus_per_seller{scaled}": BYTES_PER_SKU * _float(skus),
        "horizon_days": BYTES_PER_DAY * scn.horizon_days,
    }
    keys = max(terms, key=terms.__getitem__)
    prefix = f"{source}: " if source else ""
    raise ScenarioError(
        f"{prefix}{keys}: run too large for memory: about {_count(orders)} orders "
        f"({scn.buyers.orders_per_hour:g}/hour over {scn.horizon_days:g} days, arrival profile and "
        f"promotions included), {_count(buyers)} buyer accounts and {_count(skus)} SKUs need an "
        f"estimated {_gb(need)}; the limit is {_gb(limit)} ({why})"
    )


def scenario_warnings(scn: Scenario) -> list[str]:
    """What a scenario will run but measure badly, each naming the key to change: queues at or
    over capacity at the mean arrival rate (:func:`simcore.model.load.overloaded`), a
    cool-down shorter than an order's outcome can take to settle (:func:`censoring`), and a
    scale above 1 that is not a whole number, whose copies are not exact, and a run too short
    to follow the window's buyers for ``buyers.follow_up_days`` (:func:`unfollowed`)."""
    return overloaded(scn) + censoring(scn) + unfollowed(scn) + _fractional_scale(scn)


def unfollowed(scn: Scenario) -> list[str]:
    """A warning that repeat purchases and churn go unmeasured (null): the run ends before the
    KPI window's last buyers have been followed for ``buyers.follow_up_days``."""
    end_days = scn.kpi_window_hours[1] / 24.0
    need = end_days + scn.buyers.follow_up_days
    if need <= scn.horizon_days:
        return []
    return [
        f"buyers.follow_up_days: {scn.buyers.follow_up_days:g} days after the KPI window's end (day "
        f"{end_days:g}) pass the horizon (day {scn.horizon_days:g}), so repeat_purchase_rate and "
        f"buyer_churn_rate are not measured (null); raise horizon_days to {need:g} or lower "
        "buyers.follow_up_days"
    ]


def _fractional_scale(scn: Scenario) -> list[str]:
    """A note that a scale above 1 that is not a whole number is not an exact copy."""
    k = scn.scale
    if k <= 1.0 or k == int(k):
        return []
    return [
        f"scale: {k:g} is not a whole number: the market runs as {int(k)} "
        f"{'copy whose desks pool' if int(k) == 1 else 'copies whose desks split'} the rounded "
        "staff, so queues do not wait exactly as at scale 1 (whole-number scales are exact copies)"
    ]


def censoring(scn: Scenario) -> list[str]:
    """A warning naming what ``cooldown_days`` censors, when it is shorter than
    :func:`simcore.scenario.timelines.settle_days` (a derived cool-down never is)."""
    cooldown = scn.cooldown_days if scn.cooldown_days is not None else 0.0
    cut = censored(scn, cooldown)
    if not cut:
        return []
    paths = ", ".join(
        f"{name} (up to {days:.3g} days)" for name, days in sorted(cut.items(), key=lambda kv: kv[1])
    )
    return [
        f"cooldown_days: {cooldown:g} days is shorter than the {settle_days(scn):.3g} days in which an "
        f"order's outcome can still change, so the KPIs' last orders are counted before it does: {paths} "
        f"after placement; unset cooldown_days to derive it, or raise it"
    ]


def _float(n: float) -> float:
    try:
        return float(n)
    except OverflowError:
        return math.inf


def _count(n: float) -> str:
    n = _float(n)  # an int past 1e308 (the schema bounds counts only from below) is inf
    return f"{n:,.0f}" if n < 1e15 else f"{n:.3g}" if n < math.inf else "1e308+"


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n < math.inf else "1e299+ GB"
