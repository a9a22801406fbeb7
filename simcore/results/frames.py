"""The run's tables, built once from what the run left (:class:`simcore.model.world.RunRecord`):
orders, the event log, the daily time series and the sellers.

The orders table follows :data:`simcore.model.columns.ORDER_COLUMNS`: each column's kind fixes
its dtype. Frames take over the recorder's columns where they can (numbers stay the recorder's
memory; hours become timestamps in place), which matters at a million orders
(benchmarks/bench_run.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcore.engine.calendar import Calendar
from simcore.engine.columns import SparseColumn, as_numpy
from simcore.model.columns import ORDER_COLUMNS, SIGNAL_MASK, Column
from simcore.model.recorder import Recorder
from simcore.model.vocabulary import ACTIVITIES, ACTORS, INITIATORS, SIGNAL_BIT
from simcore.model.world import RunRecord
from simcore.results.kpis import ruled_against_seller
from simcore.results.ledger import money_ledger


def _categorical(codes: np.ndarray, names: tuple[str, ...] | list[str], optional: bool) -> pd.Categorical:
    """Categorical from int8 codes; for ``optional`` ones code 0 ("none") becomes missing."""
    if optional:
        return pd.Categorical.from_codes(codes - 1, categories=list(names[1:]))
    return pd.Categorical.from_codes(codes, categories=list(names))


def order_columns(record: RunRecord) -> dict[str, np.ndarray]:
    """The recorder's order columns as numpy views of the rows in use (no copy; a sparse
    column made dense)."""
    rec = record.rec
    n = rec.n_orders
    return {
        name: column.dense(n) if isinstance(column, SparseColumn) else as_numpy(column)[:n]
        for name, column in rec.orders.items()
    }


def orders_frame(record: RunRecord, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """The orders table, column by column as :data:`ORDER_COLUMNS` says; ``cols`` (from
    :func:`order_columns`) is taken over: time columns become timestamps in place."""
    destinations = list(record.scenario.shipping.destinations)
    data = {c.name: _column(c, cols, record.calendar, destinations) for c in ORDER_COLUMNS}
    return pd.DataFrame(data, copy=False)


def _column(c: Column, cols: dict[str, np.ndarray], calendar: Calendar, destinations: list[str]) -> Any:
    raw = cols.get(c.name)
    if c.kind == "row":
        return np.arange(len(cols["placed_at"]), dtype=np.int64)
    if c.kind == "hour":
        return cols["placed_at"]  # still the raw hours: placed_at alone is converted to a copy
    if c.kind == "signal":
        return (cols[SIGNAL_MASK] & SIGNAL_BIT[c.name.removeprefix("signal_")]) != 0
    assert raw is not None, c.name
    if c.kind == "time":
        # In place, in the recorder's column: at a million orders, 12 columns of 8 bytes an
        # order not held twice. The placement hour stays raw, for ``placed_hour``.
        into = None if c.name == "placed_at" else raw.view("datetime64[ms]")
        return calendar.timestamp(raw, out=into)
    if c.kind == "code":
        return _categorical(raw, c.codes, c.optional)
    if c.kind == "destination":
        return pd.Categorical.from_codes(raw, categories=destinations)
    if c.kind == "flag":
        return raw.view(np.bool_)
    if c.kind in ("id", "count") and raw.dtype != np.int64:
        return raw.astype(np.int64)  # stored narrow (4 bytes an order), shown as int64
    return raw  # USD and other numbers as recorded


#: The outcomes of an arrival that became no order (``lost_visits.outcome``).
LOST_OUTCOMES = ("lost_sale", "forgone")


def lost_visits_frame(rec: Recorder, calendar: Calendar) -> pd.DataFrame:
    """One row per arrival that became no order, in arrival order: ``arrival_id``,
    ``arrived_at`` (timestamp), ``arrived_hour`` (hours since the start), ``outcome``
    (``lost_sale``: nothing in stock the buyer would take; ``forgone``: the buyer had churned
    or, with trust lowered, did not buy) and ``buyer_id``. With the orders' ``arrival_id``,
    every visit of a run is in one of the two tables."""
    forgone = as_numpy(rec.unplaced_forgone).view(np.bool_)
    hours = np.empty(len(forgone))
    hours[forgone] = as_numpy(rec.forgone_at)
    hours[~forgone] = as_numpy(rec.lost_at)
    return pd.DataFrame(
        {
            "arrival_id": as_numpy(rec.unplaced_arrival).astype(np.int64),
            "arrived_at": calendar.timestamp(hours),
            "arrived_hour": hours,
            "outcome": pd.Categorical.from_codes(forgone.astype(np.int8), categories=list(LOST_OUTCOMES)),
            "buyer_id": as_numpy(rec.unplaced_buyer).astype(np.int64),
        }
    )


def events_frame(rec: Recorder, calendar: Calendar, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """The event log, time-ordered, with each row's buyer and seller."""
    ev_n = len(rec.ev_time)
    ev_order, ev_time = as_numpy(rec.ev_order), as_numpy(rec.ev_time)
    ev_act, ev_actor = as_numpy(rec.ev_activity), as_numpy(rec.ev_actor)
    # Untroubled parcels log their rows when settled, with their own hours (simcore.model.parcels):
    # the recorder's log is put in time order here, in place (no second copy of the log), rows
    # of the same hour keeping the order they came in.
    if ev_n > 1 and (ev_time[1:] < ev_time[:-1]).any():
        order = np.argsort(ev_time, kind="stable")
        for column in (ev_time, ev_order, ev_act, ev_actor):
            column[:] = column[order]
        del order
    return pd.DataFrame(
        {
            "time": calendar.timestamp(ev_time),
            "hour": ev_time,
            "order_id": ev_order.astype(np.int64),
            "activity": _categorical(ev_act, ACTIVITIES, optional=False),
            "actor": _categorical(ev_actor, ACTORS, optional=False),
            "buyer_id": cols["buyer_id"][ev_order] if ev_n else np.array([], np.int64),
            "seller_id": cols["seller_id"][ev_order] if ev_n else np.array([], np.int64),
        },
        copy=False,
    )


def sellers_frame(record: RunRecord, orders: pd.DataFrame) -> pd.DataFrame:
    """Per-seller traits, final rating and record over the whole run (not only the KPI window).

    ``revenue`` is what the seller keeps of buyers' money (:func:`simcore.results.ledger.money_ledger`:
    completed orders less the awards on them, and less chargebacks when the seller is liable);
    ``revenue_lost`` the value of cancelled orders, of lost parcels refunded and of returns, plus
    the awards on other orders (and the chargebacks on them when the seller is liable).
    ``record_accuracy`` is the seller's long-run record accuracy under the reference counts
    (``sellers.inventory_accuracy``, or its Beta draw around it), which its error rates hold.
    ``size_quartile`` is the seller's quartile by orders over the run (1 the smallest quarter of
    sellers, 4 the largest; ties by seller id), by which penalties are compared.
    """
    st, n = record.standing, len(record.seller_accuracy)  # sellers as run, at the scenario's scale
    seller = orders["seller_id"].to_numpy()

    def per_seller(mask, weights=None) -> np.ndarray:
        w = None if weights is None else np.asarray(weights, dtype=float)[mask]
        return np.bincount(seller[mask], weights=w, minlength=n)[:n]

    def count(mask) -> np.ndarray:
        return per_seller(np.asarray(mask, dtype=bool)).astype(np.int64)

    status = orders["status"]
    amount = orders["amount"].to_numpy()
    c = record.scenario.payment.chargebacks
    ledger = money_ledger(orders, c.liability, c.fee_usd)
    # Orders the seller is not paid for at all, and on the others what went back to the buyer
    # at the seller's expense.
    closed_unpaid = status.isin(["cancelled", "refunded", "returned"]).to_numpy()
    returned = ledger["awards"] + (ledger["chargebacks"] if c.liability == "seller" else 0.0)
    reason = orders["cancel_reason"]
    disputed = orders["dispute_reason"].notna().to_numpy()
    first_suspended = np.full(n, np.nan)
    for t, s in reversed(st.suspended_log):
        first_suspended[s] = t
    volume = count(np.ones(len(orders), dtype=bool))
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), volume))] = np.arange(n)  # by orders, then seller id
    return pd.DataFrame(
        {
            "seller_id": np.arange(n, dtype=np.int64),
            "dishonest": np.asarray(record.traits.dishonest, dtype=bool),
            "unreliable": np.asarray(record.traits.unreliable, dtype=bool),
            "record_accuracy": record.seller_accuracy,
            "stock_counts": record.stock_counts,
            "rating": np.asarray(st.rating, dtype=float),
            "orders": volume,
            "size_quartile": 1 + (4 * rank) // max(n, 1),
            "cleared": count(orders["cleared_at"].notna()),
            "seller_cancellations": count(reason.isin(record.scenario.platform.penalties.seller_responsible)),
            "suspension_cancellations": count(reason == "seller_suspended"),
            "disputes": count(disputed),
            "disputes_escalated": count(orders["dispute_escalated_at"].notna()),
            "responsibility_rulings": count(ruled_against_seller(orders)),
            "warnings": np.bincount(as_numpy(st.warned_log.sellers), minlength=n)[:n].astype(np.int64),
            "suspensions": np.bincount(as_numpy(st.suspended_log.sellers), minlength=n)[:n].astype(np.int64),
            "first_suspended_at": record.calendar.timestamp(first_suspended),
            "revenue": np.round(per_seller(np.ones(len(orders), dtype=bool), ledger["seller_keeps"]), 2),
            "revenue_lost": np.round(
                per_seller(closed_unpaid, amount) + per_seller(~closed_unpaid, returned), 2
            ),
        }
    )


def daily_frame(record: RunRecord, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """Daily counts (from the recorder's raw hours: call before :func:`orders_frame` converts
    them), each queue's mean wait by request day, joined with the end-of-day snapshots."""
    scn, rec = record.scenario, record.rec
    n_days = int(np.ceil(scn.horizon_days))
    frame = pd.DataFrame({"day": np.arange(1, n_days + 1)})
    frame["date"] = pd.to_datetime(scn.start) + pd.to_timedelta(frame["day"] - 1, unit="D")

    def per_day(hours: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        keep = ~np.isnan(hours)
        day = (hours[keep] // 24).astype(np.int64)
        w = None if weights is None else weights[keep]
        return np.bincount(day, weights=w, minlength=n_days)[:n_days]

    frame["orders_placed"] = per_day(cols["placed_at"])
    initiator = cols["cancel_initiator"]
    for ini in ("buyer", "seller", "system"):
        mine = initiator == INITIATORS.index(ini)
        frame[f"cancelled_{ini}"] = per_day(np.where(mine, cols["cancelled_at"], np.nan))
    frame["completed"] = per_day(cols["completed_at"])
    frame["lost_sales"] = per_day(as_numpy(rec.lost_at))
    frame["orders_forgone"] = per_day(as_numpy(rec.forgone_at))
    frame["disputes_opened"] = per_day(cols["dispute_opened_at"])
    frame["disputes_resolved"] = per_day(cols["dispute_resolved_at"])
    for name, mon in rec.queues.items():
        req, wait = as_numpy(mon.req_t), as_numpy(mon.wait)
        count = per_day(req)
        total = per_day(req, wait)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[f"{name}_mean_wait_hours"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if rec.daily:
        daily = pd.DataFrame({k: as_numpy(v) for k, v in rec.daily.items()})
        frame = frame.merge(daily, on="day", how="left")
    return frame
