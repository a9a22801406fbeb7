"""Turning a finished model's recorder into the run's frames and KPIs (done once, at the end)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simcore.entities import (
    ACTIVITIES,
    ACTORS,
    DECLINE_CAUSES,
    INITIATORS,
    PAYMENT_METHODS,
    REASONS,
    REFUND_METHODS,
    STATUSES,
)
from simcore.kpis import compute_kpis
from simcore.model import Model
from simcore.schema import Scenario

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
)
#: Code columns whose code 0 means "none" (shown as missing).
_OPTIONAL_CODES = {
    "cancel_initiator": INITIATORS,
    "cancel_reason": REASONS,
    "true_reason": REASONS,
    "refund_method": REFUND_METHODS,
    "payment_decline_cause": DECLINE_CAUSES,
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
        kpis: JSON-serialisable KPIs (see :mod:`simcore.kpis`).
    """

    scenario: Scenario
    seed: int
    orders: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame
    kpis: dict[str, Any] = field(repr=False)


def _cat(codes: np.ndarray, names: tuple[str, ...], optional: bool) -> pd.Categorical:
    if optional:
        return pd.Categorical.from_codes(codes.astype(np.int16) - 1, categories=list(names[1:]))
    return pd.Categorical.from_codes(codes.astype(np.int16), categories=list(names))


def collect(model: Model) -> RunResult:
    """Build the run's DataFrames and KPIs from the model's recorder."""
    rec, cal, scn = model.rec, model.calendar, model.scn
    cols = {k: _np(v) for k, v in rec.orders.items()}
    n = len(cols["placed_at"])
    orders = pd.DataFrame({"order_id": np.arange(n, dtype=np.int64)})
    for name in ("buyer_id", "seller_id", "sku_id"):
        orders[name] = cols[name]
    orders["destination"] = pd.Categorical.from_codes(
        cols["destination"].astype(np.int16), categories=model.destination_names
    )
    orders["quantity"] = cols["quantity"]
    orders["amount"] = cols["amount"]
    orders["placed_hour"] = cols["placed_at"]
    orders["status"] = _cat(cols["status"], STATUSES, optional=False)
    for name in ("cancel_initiator", "cancel_reason", "true_reason"):
        orders[name] = _cat(cols[name], _OPTIONAL_CODES[name], optional=True)
    for name in _TIME_COLUMNS:
        orders[name] = cal.timestamp(cols[name])
    orders["is_fraud"] = cols["is_fraud"].astype(bool)
    orders["stolen_card"] = cols["stolen_card"].astype(bool)
    orders["buyer_verified"] = cols["buyer_verified"].astype(bool)
    orders["payment_method"] = _cat(cols["payment_method"], PAYMENT_METHODS, optional=False)
    orders["payment_attempts"] = cols["payment_attempts"].astype(np.int64)
    orders["payment_decline_cause"] = _cat(cols["payment_decline_cause"], DECLINE_CAUSES, optional=True)
    orders["risk_score"] = cols["risk_score"]
    orders["refund_amount"] = cols["refund_amount"]
    orders["refund_method"] = _cat(cols["refund_method"], REFUND_METHODS, optional=True)
    orders["refund_delay_bdays"] = cols["refund_delay_bdays"]
    orders = orders[list(ORDER_COLUMN_ORDER)]

    ev_order, ev_time = _np(rec.ev_order), _np(rec.ev_time)
    ev_act, ev_actor = _np(rec.ev_activity), _np(rec.ev_actor)
    events = pd.DataFrame(
        {
            "time": cal.timestamp(ev_time),
            "hour": ev_time,
            "order_id": ev_order,
            "activity": pd.Categorical.from_codes(ev_act.astype(np.int16), categories=list(ACTIVITIES)),
            "actor": pd.Categorical.from_codes(ev_actor.astype(np.int16), categories=list(ACTORS)),
            "buyer_id": cols["buyer_id"][ev_order] if n else np.array([], np.int64),
            "seller_id": cols["seller_id"][ev_order] if n else np.array([], np.int64),
        }
    )

    timeseries = _daily_frame(model, cols)
    queues = {name: mon.summary(scn.horizon_hours) for name, mon in rec.queues.items()}
    lo, hi = scn.kpi_window_hours
    lost_at = _np(rec.lost_at)
    lost = int(((lost_at >= lo) & (lost_at < hi)).sum())
    kpis = compute_kpis(orders, timeseries, queues, scn.kpi_window_hours, lost)
    return RunResult(
        scenario=scn, seed=model.seed, orders=orders, events=events, timeseries=timeseries, kpis=kpis
    )


def _np(column: array) -> np.ndarray:
    """A recorder column as a numpy array without copying (an empty column as an empty array)."""
    dtype = {"d": np.float64, "q": np.int64, "b": np.int8}[column.typecode]
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
    for name, mon in model.rec.queues.items():
        req, wait = _np(mon.req_t), _np(mon.wait)
        count = per_day(req)
        total = per_day(req, wait)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[f"{name}_mean_wait_hours"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if model.rec.daily:
        frame = frame.merge(pd.DataFrame(model.rec.daily), on="day", how="left")
    return frame
