"""Two runs side by side, visit by visit: what became of each arrival under each.

Runs of one scenario's arrivals with the same seed and replication see the same visits (common
random numbers): arrival ``k`` is the same buyer at the same hour in both, whatever the strategy
(:mod:`simcore.model.placement` draws every per-arrival number at arrival). Every visit is either
orders (``orders.arrival_id``: one, or two when the buyer ordered again after a failed payment)
or a lost visit (``lost_visits.arrival_id``), so a run's arrival ids are 0..N-1 each once, and
:func:`match_runs` can line two runs up by them and say, arrival by arrival, whether the outcome,
the cancel reason, a milestone's time or the money changed. A visit is described by its last
order: the new order, when there was one.
:func:`match_summary` gives the share of arrivals with each change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.io import RunFiles, RunInputError, load_run, locate_run
from simcore.model.vocabulary import STATUSES

if TYPE_CHECKING:
    from simcore.results.collect import RunResult

#: What became of an arrival: an order's final status, or a visit that became no order. The last
#: two are ``simcore.results.frames.LOST_OUTCOMES``, said again here because that module imports
#: the engine (simpy), which analysis never does; a test holds the two equal.
OUTCOMES: tuple[str, ...] = (*STATUSES, "lost_sale", "forgone")
#: The order milestones compared (timestamps; missing when the milestone did not happen).
TIME_COLUMNS: tuple[str, ...] = (
    "placed_at",
    "paid_at",
    "cleared_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
    "refunded_at",
    "dispute_opened_at",
    "dispute_resolved_at",
)
#: The money compared (USD; missing when none was paid).
MONEY_COLUMNS: tuple[str, ...] = ("amount", "refund_amount", "dispute_refund_amount")
#: The columns each run contributes, suffixed ``_a`` and ``_b``.
SIDE_COLUMNS: tuple[str, ...] = ("outcome", "order_id", "cancel_reason", *TIME_COLUMNS, *MONEY_COLUMNS)
#: The change flags, in column order; ``changed`` is any of the others.
FLAGS: tuple[str, ...] = ("outcome_changed", "reason_changed", "times_changed", "money_changed", "changed")

#: Times closer than this are the same (the event log's timestamps are to the millisecond).
TIME_TOLERANCE = pd.Timedelta(seconds=1)
#: Amounts a cent apart or more differ; the slack keeps 10.01 - 10.00 (0.00999... in binary
#: floating point) a change of a cent.
CENT = 0.01 - 1e-6


def match_runs(a: RunResult | RunFiles | str | Path, b: RunResult | RunFiles | str | Path) -> pd.DataFrame:
    """Line two runs up arrival by arrival.

    Args:
        a: A :class:`simcore.RunResult`, an :class:`analysis.RunFiles` or a folder written by
            ``simcore run`` (read with :func:`analysis.load_run`).
        b: The run to compare it with, as ``a``: the same scenario's arrivals, seed and
            replication, under another strategy or setting.

    Returns:
        One row per arrival id present in either run, indexed by ``arrival_id`` in increasing
        order, with

        - ``arrived_at`` (timestamp) and ``arrived_hour`` (hours since the start): when the
          visit came (the same in both runs);
        - for each run, suffixed ``_a`` and ``_b``: ``outcome`` (categorical: the order's
          ``completed``, ``cancelled`` or ``open``, or ``lost_sale`` or ``forgone`` for a visit
          that became no order; missing if the run has no such arrival), ``order_id`` (Int64,
          missing for a lost visit), ``cancel_reason``, the timestamps of
          :data:`TIME_COLUMNS` and the USD amounts of :data:`MONEY_COLUMNS` (missing for a lost
          visit or a milestone not reached);
        - booleans ``outcome_changed``, ``reason_changed``, ``times_changed`` (a timestamp
          differs by a second or more, or is present in one run only), ``money_changed`` (an
          amount differs by a cent or more, or is present in one run only) and ``changed`` (any
          of them). Missing on both sides is the same.

    Raises:
        RunInputError: (a ``ValueError``) every problem found: a run without lost visits or
            without the orders' ``arrival_id`` (written before arrival ids), arrival ids that are
            not 0..N-1 each once, or shared arrivals that came at different times (not the same
            seed and replication), or a folder that is not a run.
    """
    problems: list[str] = []
    sides = [_visits(run, name, problems) for run, name in ((a, "run a"), (b, "run b"))]
    if problems:
        raise RunInputError(problems)
    va, vb = sides
    assert va is not None and vb is not None  # no problems: both read
    _check_same_arrivals(va, vb)
    ids = va.index.union(vb.index)
    va, vb = va.reindex(ids), vb.reindex(ids)
    arrived = va["arrived_at"].fillna(vb["arrived_at"])
    hour = va["arrived_hour"].fillna(vb["arrived_hour"])
    flags = {
        "outcome_changed": _differs(va["outcome"], vb["outcome"]),
        "reason_changed": _differs(va["cancel_reason"], vb["cancel_reason"]),
        "times_changed": _any(_times_differ(va[c], vb[c]) for c in TIME_COLUMNS),
        "money_changed": _any(_money_differs(va[c], vb[c]) for c in MONEY_COLUMNS),
    }
    flags["changed"] = _any(flags.values())
    out = pd.concat(
        [
            pd.DataFrame({"arrived_at": arrived, "arrived_hour": hour}),
            va[list(SIDE_COLUMNS)].add_suffix("_a"),
            vb[list(SIDE_COLUMNS)].add_suffix("_b"),
            pd.DataFrame(flags, index=ids),
        ],
        axis=1,
    )
    out.index.name = "arrival_id"
    return out


def match_summary(matched: pd.DataFrame, window: tuple[float, float] | None = None) -> dict[str, Any]:
    """How many arrivals changed, and in what, as shares.

    Args:
        matched: From :func:`match_runs`.
        window: ``(lo, hi)`` hours since the start: count only arrivals with
            ``lo <= arrived_hour < hi`` (e.g. ``result.scenario.kpi_window_hours``). None: all.

    Returns:
        ``arrivals`` (the number counted) and, for each flag of :data:`FLAGS`, the share of
        them (0-1) with that change (NaN when none are counted).
    """
    if window is not None:
        lo, hi = window
        matched = matched[(matched["arrived_hour"] >= lo) & (matched["arrived_hour"] < hi)]
    n = len(matched)
    summary: dict[str, Any] = {"arrivals": n}
    for flag in FLAGS:
        summary[flag] = float(matched[flag].mean()) if n else float("nan")
    return summary


def _visits(run: Any, name: str, problems: list[str]) -> pd.DataFrame | None:
    """Every visit of ``run`` by arrival id, with the columns of :data:`SIDE_COLUMNS` and when it
    came; None (and its problems added to ``problems``) if its visits cannot be told apart."""
    folder = isinstance(run, str | Path)
    if folder:
        name = str(run)
        run = _load(Path(run), problems)
        if run is None:
            return None
    orders, lost = run.orders, getattr(run, "lost_visits", None)
    if lost is None or "arrival_id" not in orders.columns:
        what = "no lost_visits.parquet" if folder else "no lost visits"
        if lost is not None:
            what = "no arrival_id column in its orders"
        problems.append(
            f"{name}: {what}, so its orders cannot be matched to visits: it was written before "
            "arrival ids; run it again with `simcore run SCENARIO --out DIR`"
        )
        return None
    # A visit's last order stands for it (a new order after a failed payment repeats the id); its
    # first order says when the visit came.
    first = orders.drop_duplicates("arrival_id", keep="first")
    orders = orders.drop_duplicates("arrival_id", keep="last")
    ids = np.concatenate([orders["arrival_id"].to_numpy(np.int64), lost["arrival_id"].to_numpy(np.int64)])
    n, distinct = len(ids), len(np.unique(ids))
    # Each visit is orders or a lost visit, never both nor neither: ids 0..N-1 each once.
    if n and (ids.min() < 0 or ids.max() >= n or distinct != n):
        problems.append(
            f"{name}: its arrival ids are not 0..N-1 each once ({n - distinct} repeated, ids from "
            f"{ids.min()} to {ids.max()} over {n} visits): its orders and lost visits are not one run's"
        )
        return None
    frame = orders.set_index("arrival_id")[[c for c in SIDE_COLUMNS if c != "outcome"]]
    frame = frame.reindex(np.arange(len(ids), dtype=np.int64))
    frame["order_id"] = frame["order_id"].astype("Int64")
    placed = pd.Series(orders["status"].astype(str).to_numpy(), index=orders["arrival_id"].to_numpy())
    unplaced = pd.Series(lost["outcome"].astype(str).to_numpy(), index=lost["arrival_id"].to_numpy())
    outcome = pd.concat([placed, unplaced]).reindex(frame.index)
    frame.insert(0, "outcome", pd.Categorical(outcome.to_numpy(), categories=list(OUTCOMES)))
    # A visit came when its first order was placed (placement happens at arrival) or when it was
    # lost.
    arrived = pd.concat(
        [
            pd.DataFrame({"arrived_at": first["placed_at"].to_numpy(), "arrived_hour": _hours(first)}),
            pd.DataFrame(
                {"arrived_at": lost["arrived_at"].to_numpy(), "arrived_hour": lost["arrived_hour"].to_numpy()}
            ),
        ],
        ignore_index=True,
    )
    arrived.index = pd.Index(
        np.concatenate([first["arrival_id"].to_numpy(np.int64), lost["arrival_id"].to_numpy(np.int64)])
    )
    arrived = arrived.reindex(frame.index)
    frame["arrived_at"] = arrived["arrived_at"].astype("datetime64[ms]")
    frame["arrived_hour"] = arrived["arrived_hour"].astype(float)
    frame.index.name = "arrival_id"
    return frame


def _hours(orders: pd.DataFrame) -> np.ndarray:
    """The orders' placement hours (hours since the start)."""
    if "placed_hour" in orders.columns:
        return orders["placed_hour"].to_numpy(float)
    return np.full(len(orders), np.nan)  # an older table: the timestamps still say when


def _load(path: Path, problems: list[str]) -> RunFiles | None:
    """The run in folder ``path``; None (and the problem added) if it cannot be read."""
    files = ("orders.parquet", "events.parquet", "timeseries.parquet", "sellers.parquet")
    try:
        locate_run(path, (*files, "kpis.json", "scenario.yaml"))
        return load_run(path)
    except RunInputError as exc:
        problems += exc.problems
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        problems.append(f"{path}: cannot read the run ({exc}); run it again")
    return None


def _check_same_arrivals(va: pd.DataFrame, vb: pd.DataFrame) -> None:
    """Raise unless the arrivals the runs share came at the same times (the same visits)."""
    shared = va.index.intersection(vb.index)
    ta = va.loc[shared, "arrived_at"]
    tb = vb.loc[shared, "arrived_at"]
    off = _times_differ(ta, tb)
    if off.any():
        first = int(shared[off.to_numpy()][0])
        raise RunInputError(
            f"run a and run b: {int(off.sum()):,} of {len(shared):,} shared arrivals came at different "
            f"times (first: arrival {first}, at {ta.loc[first]} and {tb.loc[first]}), so their ids "
            "name different visits; match runs of one scenario's arrivals with the same seed and "
            "replication"
        )


def _differs(x: pd.Series, y: pd.Series) -> pd.Series:
    """Where two label columns differ; missing on both sides is the same."""
    xo, yo = x.astype(object), y.astype(object)
    same = (xo == yo) | (xo.isna() & yo.isna())
    return ~same.astype(bool)


def _times_differ(x: pd.Series, y: pd.Series) -> pd.Series:
    """Where two timestamps are a second or more apart, or present on one side only."""
    x, y = x.astype("datetime64[ms]"), y.astype("datetime64[ms]")
    # NaT on either side makes the gap NaT, which compares False: the presence test covers it.
    return ((x - y).abs() >= TIME_TOLERANCE) | (x.isna() != y.isna())


def _money_differs(x: pd.Series, y: pd.Series) -> pd.Series:
    """Where two USD amounts are a cent or more apart, or present on one side only."""
    x, y = x.astype(float), y.astype(float)
    return ((x - y).abs() >= CENT) | (x.isna() != y.isna())


def _any(flags: Any) -> pd.Series:
    """Row-wise OR of boolean Series on one index."""
    flags = list(flags)
    out = flags[0].copy()
    for f in flags[1:]:
        out |= f
    return out.astype(bool)
