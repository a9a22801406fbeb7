"""Warm-up (initial transient) detection from pilot runs: MSER-5 and Welch's moving average.

The model starts empty: no order is in the system on day 0, and since an order takes two to
four weeks to ship, arrive and be confirmed, the number of orders in the system climbs for
weeks before it levels off. Orders placed during that climb see an unusual system (short
queues, no stock drawn down yet), so the KPIs leave out the first ``warmup_days``.

The steps, as the CLI runs them:

1. run a few pilot replications with ``warmup_days: 0`` and keep :func:`warmup_series` of each
   (one small frame per run);
2. :func:`suggest_warmup` applies MSER-5 (:func:`mser`) to the across-replication mean of each
   series and suggests the largest truncation;
3. look at the Welch plot (:func:`analysis.plots.plot_warmup`, built on :func:`welch`) before
   trusting the number.

References:
    K. P. White Jr. (1997), "An effective truncation heuristic for bias reduction in simulation
    output", Simulation 69(6), 323-334.
    K. P. White Jr., M. J. Cobb and S. C. Spratt (2000), "A comparison of five steady-state
    truncation heuristics for simulation", Proc. Winter Simulation Conference, 755-760.
    K. Hoad, S. Robinson and R. Davies (2010), "Automating warm-up length estimation", Journal
    of the Operational Research Society 61(9), 1389-1403 (recommend MSER-5 of the methods
    they tested).
    A. M. Law and W. D. Kelton, Simulation Modeling and Analysis (3rd ed.), section 9.5.1
    (Welch's procedure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Series :func:`suggest_warmup` judges by default: the outcomes of the orders placed each day,
#: which is what the KPIs count (by placement day, after ``warmup_days``). Orders placed in the
#: first days meet full shelves and a fresh platform, so fewer are cancelled out of stock.
#: The backlog series (``orders_in_system``, ``completed``) settle much later, because some
#: orders take two months to be confirmed; that transient matters for KPIs of load (queue
#: waits, utilisation), not for the fate of an order placed after the warm-up. Pass them in
#: ``columns`` to judge them too.
DEFAULT_COLUMNS = ("cancelled_share", "out_of_stock_share")

#: Orders placed in the last days of a pilot have not all met their fate: cancellations come
#: within 7.5 days of placement in the baseline (99.9% within 7.1 days: ship-by deadline
#: 7 days), so shares by placement day are left out (NaN) for this many final days.
SETTLE_DAYS = 10

_QUEUES = ("gateway_queue", "fraud_review_queue", "customer_service_queue")
#: Every series :func:`warmup_series` can give (the queues where the run recorded them).
SERIES = ("orders_in_system", "completed", "cancelled", "cancelled_share", "out_of_stock_share", *_QUEUES)


def mser(y: Sequence[float] | np.ndarray, batch: int = 5) -> int:
    """White's MSER-m truncation point (MSER-5 with the default ``batch``).

    The series is cut into ``k`` batch means of ``batch`` observations (a trailing incomplete
    batch is dropped). For each ``d`` in ``0 .. k // 2`` the statistic

        MSER(d) = 1 / (k - d)^2 * sum_{i > d} (z_i - mean(z_{d+1..k}))^2

    is, up to a factor near 1, the squared standard error of the mean of what is left after
    deleting the first ``d`` batch means; the ``d`` that minimises it balances the bias removed
    against the sample lost. As in White's rule, the search stops at half the batches: near the
    end of the series the statistic rests on a few points and can reach small values by chance.
    Ties go to the smallest ``d``.

    NaN observations are dropped before batching (a day with nothing to measure carries no
    information about the transient). The truncation is then counted in the original series:
    the fewest leading observations whose removal removes the ``d * batch`` truncated
    non-NaN ones, so NaNs before the cut count towards it and 0 stays 0.

    Args:
        y: One output series in time order (e.g. one value per simulated day).
        batch: Observations per batch mean (``m`` of MSER-m; 5 in White's MSER-5).

    Returns:
        How many leading observations to delete (in units of ``y``'s observations, so days for
        a daily series). 0 for a constant series. At most about half the series: a value near
        half says the series had not settled, not that the warm-up is over.

    Raises:
        ValueError: ``y`` is not one-dimensional, ``batch`` is below 1, or fewer than two full
            batches of non-NaN observations remain (MSER needs at least two batch means, and
            a sensible answer needs many more).
    """
    return _mser(y, batch)[0]


def _mser(y: Sequence[float] | np.ndarray, batch: int) -> tuple[int, int]:
    """:func:`mser`'s truncation and the largest truncation its search allows (observations)."""
    values = np.asarray(y, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"mser: y must be one-dimensional (got shape {values.shape})")
    if not isinstance(batch, int | np.integer) or batch < 1:
        raise ValueError(f"mser: batch must be an integer >= 1 (got {batch!r})")
    kept_at = np.flatnonzero(~np.isnan(values))
    kept = values[kept_at]
    k = kept.size // batch
    if k < 2:
        raise ValueError(
            f"mser: need at least 2 full batches of {batch} non-NaN observations "
            f"(got {kept.size} of {values.size}); run longer pilots"
        )

    def in_original(d: int) -> int:
        # The fewest leading observations holding the first d * batch non-NaN ones.
        return 0 if d == 0 else int(kept_at[d * batch - 1]) + 1

    limit = in_original(k // 2)
    if np.ptp(kept) == 0:
        # Every d scores 0 up to rounding; do not let rounding pick a truncation.
        return 0, limit
    z = kept[: k * batch].reshape(k, batch).mean(axis=1)
    best_d, best = 0, np.inf
    for d in range(k // 2 + 1):
        tail = z[d:]
        stat = float(np.sum((tail - tail.mean()) ** 2)) / (k - d) ** 2
        if stat < best:
            best_d, best = d, stat
    return in_original(best_d), limit


def welch(matrix: Sequence[Sequence[float]] | np.ndarray, window: int) -> np.ndarray:
    """Welch's moving average (Law & Kelton, section 9.5.1).

    The replications are averaged first, ``Y_i`` for ``i = 1..m``; then

        Y_i(w) = sum_{s=-w..w} Y_{i+s} / (2w + 1)             for i = w+1 .. m-w
        Y_i(w) = sum_{s=-(i-1)..i-1} Y_{i+s} / (2i - 1)       for i = 1 .. w

    so near the start the window shrinks to what is available on both sides. The last ``w``
    points have no full window and are not returned.

    Args:
        matrix: Shape ``(replications, observations)``; a one-dimensional array is one
            replication. NaN propagates (to every window that holds it).
        window: ``w``, the half-width of the window in observations (days for daily series);
            ``0 <= w <= m // 4`` as Law & Kelton require, so at least three quarters of the
            series stays visible.

    Returns:
        ``m - w`` smoothed values; value ``j`` (0-based) belongs to observation ``j + 1``.

    Raises:
        ValueError: ``matrix`` is empty or more than two-dimensional, or ``window`` is out of
            range.
    """
    data = np.asarray(matrix, dtype=float)
    if data.ndim == 1:
        data = data[np.newaxis, :]
    if data.ndim != 2 or data.size == 0:
        raise ValueError(f"welch: matrix must be (replications, observations), non-empty (got {data.shape})")
    m = data.shape[1]
    if not isinstance(window, int | np.integer) or not 0 <= window <= m // 4:
        raise ValueError(
            f"welch: window must be an integer in 0..{m // 4} (m // 4, m = {m}) (got {window!r})"
        )
    mean = data.mean(axis=0)
    w = int(window)
    head = [mean[: 2 * i - 1].mean() for i in range(1, w + 1)]
    body = np.lib.stride_tricks.sliding_window_view(mean, 2 * w + 1).mean(axis=1)
    return np.concatenate([np.asarray(head, dtype=float), body])


def warmup_series(result: Any, settle_days: int = SETTLE_DAYS) -> pd.DataFrame:
    """The daily series that show the transient of one run.

    Args:
        result: A :class:`simcore.RunResult` (or :class:`analysis.RunFiles`): anything with the
            run's ``orders`` and ``timeseries`` frames. Days are counted from the first
            timeseries date, which is the scenario start (midnight).
        settle_days: Final days whose placement-day shares are left out (see
            :data:`SETTLE_DAYS`).

    Returns:
        One row per simulated day, indexed by ``day`` (1..N, as in the timeseries), columns:

        - ``orders_in_system``: orders placed before the end of the day (midnight) and neither
          completed nor cancelled before it (orders);
        - ``completed``, ``cancelled``: orders completed / cancelled that day (all three
          initiators) (orders per day);
        - ``cancelled_share``, ``out_of_stock_share``: of the orders placed that day, the share
          cancelled (for any reason / out of stock) by the end of the run; NaN on days without
          orders and on the last ``settle_days`` days;
        - ``gateway_queue``, ``fraud_review_queue``, ``customer_service_queue``: requests
          waiting at the end of the day (requests), where the run recorded them.
    """
    ts = result.timeseries
    orders = result.orders
    start = pd.Timestamp(ts["date"].iloc[0]).normalize()
    ends = (start + pd.to_timedelta(ts["day"].to_numpy(), unit="D")).to_numpy("datetime64[ms]")
    placed = np.sort(orders["placed_at"].to_numpy("datetime64[ms]"))
    # An order leaves the system at its first end: completion or cancellation (never both).
    left = orders[["completed_at", "cancelled_at"]].min(axis=1).dropna()
    left = np.sort(left.to_numpy("datetime64[ms]"))
    # An order leaves no earlier than it is placed, so "placed before midnight" minus "left
    # before midnight" is the number still in the system at midnight.
    in_system = np.searchsorted(placed, ends, side="left") - np.searchsorted(left, ends, side="left")
    out = pd.DataFrame(
        {
            "orders_in_system": in_system.astype(np.int64),
            "completed": ts["completed"].to_numpy(),
            "cancelled": (ts["cancelled_buyer"] + ts["cancelled_seller"] + ts["cancelled_system"]).to_numpy(),
        },
        index=pd.Index(ts["day"].to_numpy(), name="day"),
    )
    n_days = len(ts)
    day = ((orders["placed_at"] - start) // pd.Timedelta(days=1)).to_numpy(np.int64)
    placed_per_day = np.bincount(day, minlength=n_days)[:n_days].astype(float)
    cancelled = (orders["status"] == "cancelled").to_numpy()
    out_of_stock = (orders["cancel_reason"] == "out_of_stock").to_numpy()
    settled = np.arange(1, n_days + 1) <= n_days - settle_days
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, mask in (("cancelled_share", cancelled), ("out_of_stock_share", out_of_stock)):
            share = np.bincount(day[mask], minlength=n_days)[:n_days] / placed_per_day
            out[name] = np.where(settled & (placed_per_day > 0), share, np.nan)
    for name in _QUEUES:
        if name in ts:
            out[name] = ts[name].to_numpy()
    return out


#: Days after a scheduled event (a holiday, a promotion) within which a series is still read as
#: disturbed by it: the orders placed in its last days are shipped, cancelled or refused over
#: the next week or two (a seller's first look after a holiday, the ship-by clock).
AFTER_EVENT_DAYS = 14


def calendar_events(scn: Any) -> list[tuple[str, float, float]]:
    """The scenario's scheduled disturbances as ``(label, first day, end day)`` in days since
    hour 0, by first day: the sellers' holidays (``sellers.holidays``) and the buyers'
    promotions (``buyers.arrival_profile.promotions``). A daily series swings around them
    whatever the start, so MSER may cut just after one: that is the event, not a start
    transient (:func:`event_near`)."""
    events = [
        (
            f"{h.name}, a sellers' holiday",
            float((h.start - scn.start).days),
            (h.start - scn.start).days + h.days,
        )
        for h in scn.sellers.holidays
    ]
    profile = scn.buyers.arrival_profile
    for p in [] if isinstance(profile, str) else profile.promotions:
        first = float((p.start - scn.start).days)
        events.append((f"{p.name}, demand x{p.multiplier:g}", first, first + p.days))
    return sorted(events, key=lambda e: (e[1], e[0]))


def event_near(
    day: float, events: Sequence[tuple[str, float, float]], after: float = AFTER_EVENT_DAYS
) -> str | None:
    """The label of the first of ``events`` (:func:`calendar_events`) that ``day`` falls in or
    within ``after`` days after, or None."""
    for label, first, end in events:
        if first <= day <= end + after:
            return label
    return None


@dataclass(frozen=True, eq=False)
class WarmupSuggestion:
    """What :func:`suggest_warmup` found. A suggestion, not a verdict: check the Welch plot.

    Attributes:
        days: Suggested ``warmup_days`` (days): the largest truncation over the judged series.
        by_series: One row per judged series: ``column``, ``truncation_days`` (days),
            ``mean_after`` (the across-replication mean over the days kept, in the series'
            own unit) and ``at_limit`` (True when MSER chose the latest cut its search allows,
            about half the pilot: the series had not settled, so run longer pilots).
        mean: The across-replication mean of every series per day (index ``day``).
        replications: Pilot runs averaged.
        batch: Observations (days) per batch mean used by MSER.
    """

    days: int
    by_series: pd.DataFrame
    mean: pd.DataFrame
    replications: int
    batch: int = 5


def suggest_warmup(
    series: Sequence[pd.DataFrame], columns: Sequence[str] = DEFAULT_COLUMNS, batch: int = 5
) -> WarmupSuggestion:
    """Suggest ``warmup_days`` from pilot runs: MSER applied to the across-replication mean.

    Averaging the replications first, then truncating the mean, is the use of MSER-5 Hoad,
    Robinson & Davies (2010) tested. Each series gets its own truncation and the suggestion is
    the largest, so that every judged series has settled.

    The answer is a suggestion. MSER assumes the series settles within the pilot; on a
    series with a trend that never settles (or settles only after half the pilot) it returns a
    truncation at the end of its search, about half the series (flagged ``at_limit``), which
    means "run longer pilots", not "warm up this long". On a strongly autocorrelated series
    (a backlog wanders slowly) with few replications it can also cut late by chance.
    Look at the Welch plot (:func:`analysis.plots.plot_warmup`) before using it.

    Args:
        series: :func:`warmup_series` of each pilot replication, all over the same days.
        columns: The series to judge (see :data:`DEFAULT_COLUMNS`).
        batch: Days per batch mean (MSER-5 by default).

    Returns:
        The suggestion. Series that are all NaN or constant get truncation 0.

    Raises:
        ValueError: no frames, frames over different days, an unknown column, or pilots too
            short for MSER (fewer than ``2 * batch`` days).
    """
    frames = [f.set_index("day") if "day" in f.columns else f for f in series]
    if not frames:
        raise ValueError("suggest_warmup: no pilot series given")
    if not isinstance(batch, int | np.integer) or batch < 1:
        raise ValueError(f"suggest_warmup: batch must be an integer >= 1 (got {batch!r})")
    days = frames[0].index
    for i, f in enumerate(frames[1:], start=1):
        if not f.index.equals(days):
            raise ValueError(
                f"suggest_warmup: replication {i} covers days {f.index.min()}..{f.index.max()} "
                f"({len(f)} rows), replication 0 covers {days.min()}..{days.max()} ({len(days)} rows); "
                "run every pilot over the same horizon"
            )
    missing = [c for c in columns if any(c not in f.columns for f in frames)]
    if missing:
        raise ValueError(f"suggest_warmup: unknown series {missing} (have {list(frames[0].columns)})")
    stacked = pd.concat(frames, keys=range(len(frames)), names=["replication", "day"])
    mean = stacked.groupby(level="day").mean()
    rows = []
    for col in columns:
        y = mean[col].to_numpy(dtype=float)
        finite = y[~np.isnan(y)]
        if finite.size == 0 or np.ptp(finite) == 0:
            cut, at_limit = 0, False
        else:
            cut, limit = _mser(y, batch)
            at_limit = cut == limit
        after = y[cut:]
        mean_after = float(np.nanmean(after)) if np.any(~np.isnan(after)) else np.nan
        rows.append({"column": col, "truncation_days": cut, "mean_after": mean_after, "at_limit": at_limit})
    by_series = pd.DataFrame(rows, columns=["column", "truncation_days", "mean_after", "at_limit"])
    suggested = int(by_series["truncation_days"].max()) if len(by_series) else 0
    return WarmupSuggestion(
        days=suggested, by_series=by_series, mean=mean, replications=len(frames), batch=batch
    )
