"""Turning a finished model's recorder into the run's frames and KPIs (done once, at the end)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simcore.engine.calendar import Calendar
from simcore.model.vocabulary import (
    ACTIVITIES,
    ACTORS,
    DECLINE_CAUSES,
    DISPUTE_OUTCOMES,
    DISPUTE_REASONS,
    DISPUTE_STAGES,
    INITIATORS,
    PAYMENT_METHODS,
    REASONS,
    REFUND_METHODS,
    STATUSES,
)
from simcore.results.kpis import compute_kpis, ruled_against_seller
from simcore.model.world import Model
from simcore.model.recorder import Recorder
from simcore.scenario.schema import Scenario
from simcore.model.standing import SELLER_RESPONSIBLE

_TIME_COLUMNS = (
    "placed_at",
    "paid_at",
    "cleared_at",
    "cancel_requested_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
    "refunded_at",
    "dispute_opened_at",
    "dispute_escalated_at",
    "dispute_resolved_at",
    "dispute_refunded_at",
)
#: Code columns whose code 0 means "none" (shown as missing).
_OPTIONAL_CODES = {
    "cancel_initiator": INITIATORS,
    "cancel_reason": REASONS,
    "true_reason": REASONS,
    "refund_method": REFUND_METHODS,
    "payment_decline_cause": DECLINE_CAUSES,
    "dispute_reason": DISPUTE_REASONS,
    "dispute_outcome": DISPUTE_OUTCOMES,
    "dispute_stage": DISPUTE_STAGES,
    "dispute_refund_method": REFUND_METHODS,
}


#: Column order of the ``orders`` frame: identity, outcome, refund, milestones, detail.
ORDER_COLUMN_ORDER = (
    "order_id",
    "buyer_id",
    "seller_id",
    "sku_id",
    "destination",
    "quantity",
    "amount",
    "placed_at",
    "status",
    "cancel_initiator",
    "cancel_reason",
    "true_reason",
    "cancelled_at",
    "is_fraud",
    "refund_amount",
    "refund_method",
    "refund_delay_bdays",
    "refunded_at",
    "dispute_reason",
    "dispute_opened_at",
    "dispute_escalated_at",
    "dispute_outcome",
    "dispute_stage",
    "dispute_resolved_at",
    "dispute_claim_amount",
    "dispute_refund_amount",
    "dispute_refund_method",
    "dispute_refund_delay_bdays",
    "dispute_refunded_at",
    "paid_at",
    "cleared_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancel_requested_at",
    "stolen_card",
    "buyer_verified",
    "payment_method",
    "payment_attempts",
    "payment_decline_cause",
    "risk_score",
    "placed_hour",
)


@dataclass(frozen=True)
class RunResult:
    """What one run produced.

    Attributes:
        scenario: The scenario that ran.
        seed: The root seed used.
        orders: One row per order (see README "Outputs").
        events: The event log, time-ordered.
        timeseries: One row per simulated day.
        sellers: One row per seller: traits, rating, record and penalties over the run.
        kpis: JSON-serialisable KPIs (see :mod:`simcore.results.kpis`).
    """

    scenario: Scenario
    seed: int
    orders: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame
    sellers: pd.DataFrame
    kpis: dict[str, Any] = field(repr=False)


def _cat(codes: np.ndarray, names: tuple[str, ...], optional: bool) -> pd.Categorical:
    """Categorical from int8 codes; for ``optional`` ones code 0 ("none") becomes missing."""
    if optional:
        return pd.Categorical.from_codes(codes - 1, categories=list(names[1:]))
    return pd.Categorical.from_codes(codes, categories=list(names))


def collect(model: Model) -> RunResult:
    """Build the run's DataFrames and KPIs from the model's recorder.

    Once per run: the frames take over the recorder's columns (hours become timestamps in
    place).

    Raises:
        RuntimeError: the run has been collected already.
    """
    rec, cal, scn = model.rec, model.calendar, model.scn
    if rec.collected:
        raise RuntimeError("this run has been collected already: its frames are in that result")
    rec.collected = True
    n = rec.n_orders
    # Views of the placed rows (the columns run on into unused blanks): no copy.
    cols = {k: _np(v)[:n] for k, v in rec.orders.items()}
    # Columns are gathered first and framed once without copies: the numeric ones stay the
    # recorder's own memory, which matters at a million orders (benchmarks/bench_run.py).
    data: dict[str, Any] = {"order_id": np.arange(n, dtype=np.int64)}
    for name in ("buyer_id", "seller_id", "sku_id", "quantity", "amount", "risk_score"):
        data[name] = cols[name]
    data["destination"] = pd.Categorical.from_codes(cols["destination"], categories=model.destination_names)
    data["placed_hour"] = cols["placed_at"]
    data["status"] = _cat(cols["status"], STATUSES, optional=False)
    for name, names in _OPTIONAL_CODES.items():
        data[name] = _cat(cols[name], names, optional=True)
    # The daily counts read the raw hours, which the timestamps below overwrite.
    timeseries = _daily_frame(model, cols)
    for name in _TIME_COLUMNS:
        hours = cols[name]
        # In place, in the recorder's column: at a million orders, 12 columns of 8 bytes an
        # order not held twice. The placement hour stays, as the ``placed_hour`` column.
        into = None if name == "placed_at" else hours.view("datetime64[ms]")
        data[name] = cal.timestamp(hours, out=into)
    for name in ("is_fraud", "stolen_card", "buyer_verified"):
        data[name] = cols[name].view(np.bool_)
    data["payment_method"] = _cat(cols["payment_method"], PAYMENT_METHODS, optional=False)
    data["payment_attempts"] = cols["payment_attempts"].astype(np.int64)
    for name in ("refund_amount", "refund_delay_bdays"):
        data[name] = cols[name]
    for name in ("dispute_claim_amount", "dispute_refund_amount", "dispute_refund_delay_bdays"):
        data[name] = cols[name]
    orders = pd.DataFrame({name: data.pop(name) for name in ORDER_COLUMN_ORDER}, copy=False)
    sellers = _sellers_frame(model, orders)
    queues = {name: mon.summary(scn.horizon_hours) for name, mon in rec.queues.items()}
    lo, hi = scn.kpi_window_hours

    def in_window(hours: np.ndarray, lo: float = lo, hi: float = hi) -> int:
        return int(((hours >= lo) & (hours < hi)).sum())

    st = model.standing
    kpis = compute_kpis(
        orders,
        timeseries,
        queues,
        scn.kpi_window_hours,
        lost_sales=in_window(_np(rec.lost_at)),
        forgone=in_window(_np(rec.forgone_at)),
        churned_at=_np(model.trust.churned_at),
        # Penalties follow the orders that earned them: counted from the warm-up to the horizon.
        warnings=in_window(_np(st.warned_log.hours), hi=np.inf),
        suspensions=in_window(_np(st.suspended_log.hours), hi=np.inf),
    )
    # Last, once the KPIs' working copies are gone: the event log's frame is the largest.
    events = _events_frame(rec, cal, cols)
    return RunResult(
        scenario=scn,
        seed=model.seed,
        orders=orders,
        events=events,
        timeseries=timeseries,
        sellers=sellers,
        kpis=kpis,
    )


def _events_frame(rec: Recorder, cal: Calendar, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """The event log, time-ordered, with each row's buyer and seller."""
    ev_n = len(rec.ev_time)
    ev_order, ev_time = _np(rec.ev_order), _np(rec.ev_time)
    ev_act, ev_actor = _np(rec.ev_activity), _np(rec.ev_actor)
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
            "time": cal.timestamp(ev_time),
            "hour": ev_time,
            "order_id": ev_order.astype(np.int64),
            "activity": pd.Categorical.from_codes(ev_act, categories=list(ACTIVITIES)),
            "actor": pd.Categorical.from_codes(ev_actor, categories=list(ACTORS)),
            "buyer_id": cols["buyer_id"][ev_order] if ev_n else np.array([], np.int64),
            "seller_id": cols["seller_id"][ev_order] if ev_n else np.array([], np.int64),
        },
        copy=False,
    )


def _sellers_frame(model: Model, orders: pd.DataFrame) -> pd.DataFrame:
    """Per-seller traits, final rating and record over the whole run (not only the KPI window).

    ``revenue`` is the value of completed orders less dispute awards paid on them;
    ``revenue_lost`` the value of cancelled orders plus the awards on orders not cancelled.
    ``record_accuracy`` is the chance each of the seller's records was accurate at the start.
    """
    st, n = model.standing, model.scn.sellers.count
    seller = orders["seller_id"].to_numpy()

    def per_seller(mask, weights=None) -> np.ndarray:
        w = None if weights is None else np.asarray(weights, dtype=float)[mask]
        return np.bincount(seller[mask], weights=w, minlength=n)[:n]

    status = orders["status"]
    amount = orders["amount"].to_numpy()
    award = orders["dispute_refund_amount"].fillna(0.0).to_numpy()
    cancelled = (status == "cancelled").to_numpy()
    completed = (status == "completed").to_numpy()
    reason = orders["cancel_reason"]
    seller_fault = reason.isin(sorted(SELLER_RESPONSIBLE))
    disputed = orders["dispute_reason"].notna().to_numpy()
    ruled_against = ruled_against_seller(orders).to_numpy()
    warned = np.bincount(_np(st.warned_log.sellers), minlength=n)[:n]
    susp = np.bincount(_np(st.suspended_log.sellers), minlength=n)[:n]
    first_susp = np.full(n, np.nan)
    for t, s in reversed(st.suspended_log):
        first_susp[s] = t
    return pd.DataFrame(
        {
            "seller_id": np.arange(n, dtype=np.int64),
            "dishonest": np.asarray(model.dishonest, dtype=bool),
            "unreliable": np.asarray(model.unreliable, dtype=bool),
            "record_accuracy": model.seller_accuracy,
            "rating": np.asarray(st.rating, dtype=float),
            "orders": per_seller(np.ones(len(orders), dtype=bool)).astype(np.int64),
            "cleared": per_seller(orders["cleared_at"].notna().to_numpy()).astype(np.int64),
            "seller_cancellations": per_seller(seller_fault.to_numpy()).astype(np.int64),
            "suspension_cancellations": per_seller((reason == "seller_suspended").to_numpy()).astype(
                np.int64
            ),
            "disputes": per_seller(disputed).astype(np.int64),
            "disputes_escalated": per_seller(orders["dispute_escalated_at"].notna().to_numpy()).astype(
                np.int64
            ),
            "responsibility_rulings": per_seller(ruled_against).astype(np.int64),
            "warnings": warned.astype(np.int64),
            "suspensions": susp.astype(np.int64),
            "first_suspended_at": model.calendar.timestamp(first_susp),
            "revenue": np.round(per_seller(completed, amount - award), 2),
            "revenue_lost": np.round(
                per_seller(cancelled, amount) + per_seller(disputed & ~cancelled, award), 2
            ),
        }
    )


def _np(column: array) -> np.ndarray:
    """A recorder column as a numpy array without copying (an empty column as an empty array)."""
    dtype = {"d": np.float64, "q": np.int64, "i": np.int32, "b": np.int8}[column.typecode]
    return np.frombuffer(column, dtype=dtype) if len(column) else np.zeros(0, dtype=dtype)


def _daily_frame(model: Model, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """Daily counts (from the recorder's raw hours), each queue's mean wait by request day,
    joined with the end-of-day snapshots."""
    scn = model.scn
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
    frame["lost_sales"] = per_day(_np(model.rec.lost_at))
    frame["orders_forgone"] = per_day(_np(model.rec.forgone_at))
    frame["disputes_opened"] = per_day(cols["dispute_opened_at"])
    frame["disputes_resolved"] = per_day(cols["dispute_resolved_at"])
    for name, mon in model.rec.queues.items():
        req, wait = _np(mon.req_t), _np(mon.wait)
        count = per_day(req)
        total = per_day(req, wait)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[f"{name}_mean_wait_hours"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if model.rec.daily:
        daily = pd.DataFrame({k: _np(v) for k, v in model.rec.daily.items()})
        frame = frame.merge(daily, on="day", how="left")
    return frame
