"""Collection: a finished run's record turned into its frames and KPIs (done once, at the end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simcore.engine.columns import as_numpy
from simcore.model.world import RunRecord
from simcore.results.frames import (
    daily_frame,
    events_frame,
    lost_visits_frame,
    order_columns,
    orders_frame,
    sellers_frame,
)
from simcore.results.kpis import FraudCosts, compute_kpis
from simcore.scenario.schema import Scenario


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
        lost_visits: One row per arrival that became no order (a lost sale or a forgone order),
            by ``arrival_id``: with the orders' ``arrival_id``, every visit of the run.
        kpis: JSON-serialisable KPIs (see :mod:`simcore.results.kpis` and the registry).
    """

    scenario: Scenario
    seed: int
    orders: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame
    sellers: pd.DataFrame
    lost_visits: pd.DataFrame
    kpis: dict[str, Any] = field(repr=False)


def fraud_costs(scn: Scenario, analyst_hours: float) -> FraudCosts:
    """What fraud costs beyond the amounts, from the scenario: the chargebacks' liability and
    fee, the margin a false decline loses, and the analysts' pay for ``analyst_hours``, the
    analyst-hours staffed over the KPI window (the review desk's, at the run's scale and under
    its staffing)."""
    c, f = scn.payment.chargebacks, scn.platform.fraud
    return FraudCosts(
        liability=c.liability,
        chargeback_fee_usd=c.fee_usd,
        margin=scn.sellers.pricing.margin_mean,
        review_usd=f.analyst_cost_per_hour * analyst_hours,
    )


def collect(record: RunRecord) -> RunResult:
    """Build the run's DataFrames and KPIs from what it left.

    Once per run: the frames take over the recorder's columns (hours become timestamps in
    place).

    Raises:
        RuntimeError: the run has been collected already.
    """
    rec, scn = record.rec, record.scenario
    if rec.collected:
        raise RuntimeError("this run has been collected already: its frames are in that result")
    rec.collected = True
    cols = order_columns(record)
    # The daily counts read the raw hours, which the orders' timestamps overwrite.
    timeseries = daily_frame(record, cols)
    orders = orders_frame(record, cols)
    sellers = sellers_frame(record, orders)
    queues = {name: mon.summary(scn.horizon_hours) for name, mon in rec.queues.items()}
    lo, hi = scn.kpi_window_hours

    def in_window(hours: np.ndarray, lo: float = lo, hi: float = hi) -> int:
        return int(((hours >= lo) & (hours < hi)).sum())

    st = record.standing
    kpis = compute_kpis(
        orders,
        timeseries,
        queues,
        scn.kpi_window_hours,
        lost_sales=in_window(as_numpy(rec.lost_at)),
        forgone=in_window(as_numpy(rec.forgone_at)),
        churned_at=record.churned_at,
        # Issued in the window's hours, as the queues are measured over them: a count to the
        # horizon would grow with the cool-down.
        warnings=in_window(as_numpy(st.warned_log.hours)),
        suspensions=in_window(as_numpy(st.suspended_log.hours)),
        follow_up_hours=scn.buyers.follow_up_days * 24.0,
        horizon_hours=scn.horizon_hours,
        costs=fraud_costs(scn, queues["fraud_review"]["server_hours"]),
    )
    # Last, once the KPIs' working copies are gone: the event log's frame is the largest.
    events = events_frame(rec, record.calendar, cols)
    return RunResult(
        scenario=scn,
        seed=record.seed,
        orders=orders,
        events=events,
        timeseries=timeseries,
        sellers=sellers,
        lost_visits=lost_visits_frame(rec, record.calendar),
        kpis=kpis,
    )
