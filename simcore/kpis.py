"""Key performance indicators of one run, computed from the collected frames.

Rates are over orders placed inside the KPI window ``[warmup_days, horizon_days -
cooldown_days)``. Definitions the calibration bands depend on:

- ``payment_failure_rate``: orders cancelled ``payment_failed`` or ``verification_timeout``.
- ``false_decline_rate``: legitimate orders cancelled ``fraud_suspected`` / legitimate orders.
- ``fraud_caught_share``: fraudulent orders cancelled by the system (gateway or referee) before
  shipment / fraudulent orders.
- ``seller_revenue_lost``: USD value of cancelled orders; ``gmv_completed``: of completed ones.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simcore.entities import INITIATORS, REASONS


def _num(x: float) -> float | None:
    """JSON-safe float: NaN -> None."""
    x = float(x)
    return None if math.isnan(x) else x


def _ratio(num: float, den: float) -> float | None:
    return _num(num / den) if den else None


def _dist(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {"mean": None, "p50": None, "p90": None, "max": None, "n": 0}
    return {
        "mean": float(values.mean()),
        "p50": float(np.quantile(values, 0.5)),
        "p90": float(np.quantile(values, 0.9)),
        "max": float(values.max()),
        "n": int(values.size),
    }


def compute_kpis(
    orders: pd.DataFrame,
    daily: pd.DataFrame,
    queues: dict[str, dict],
    window_hours: tuple[float, float],
    lost_sales: int,
) -> dict[str, Any]:
    """KPIs of one run (JSON-serialisable: plain floats/ints, None for undefined ratios).

    Args:
        orders: The ``orders`` frame of the run.
        daily: The ``timeseries`` frame (needs ``day`` and ``inventory_accuracy``).
        queues: Per-queue summaries from the recorder's monitors.
        window_hours: (first, last) placement hour counted.
        lost_sales: Arrivals in the window that found no listing in stock.
    """
    lo, hi = window_hours
    hours = orders["placed_hour"].to_numpy()
    w = orders[(hours >= lo) & (hours < hi)]
    n = len(w)
    cancelled = w["status"] == "cancelled"
    reason = w["cancel_reason"]
    initiator = w["cancel_initiator"]
    fraud = w["is_fraud"].to_numpy(dtype=bool)
    by_reason = reason.value_counts()
    counts = {r: int(by_reason.get(r, 0)) for r in REASONS if r}
    by_initiator = initiator.value_counts()
    refunded = w[w["refund_method"].notna()]
    delays = refunded["refund_delay_bdays"].to_numpy(dtype=float)
    fraud_stopped = (fraud & (initiator == "system").to_numpy() & w["shipped_at"].isna().to_numpy()).sum()
    legit_declined = (~fraud & (reason == "fraud_suspected").to_numpy()).sum()
    days = daily["day"].to_numpy()
    acc = daily["inventory_accuracy"].to_numpy()[(days * 24.0 > lo) & ((days - 1) * 24.0 < hi)]
    return {
        "orders": n,
        "completed_rate": _ratio((w["status"] == "completed").sum(), n),
        "open_rate": _ratio((w["status"] == "open").sum(), n),
        "cancellation_rate": _ratio(cancelled.sum(), n),
        "cancellation_rate_by_initiator": {i: _ratio(by_initiator.get(i, 0), n) for i in INITIATORS if i},
        "cancellations_by_reason": counts,
        "cancellation_rate_by_reason": {r: _ratio(c, n) for r, c in counts.items()},
        "disguised_cancellations": int((w["true_reason"] != reason)[cancelled].sum()),
        "refund_delay_bdays": _dist(delays),
        "refund_delay_bdays_by_method": {
            m: _dist(refunded.loc[refunded["refund_method"] == m, "refund_delay_bdays"].to_numpy(dtype=float))
            for m in ("original", "wallet")
        },
        "refund_wrong_amount_share": _ratio(
            (refunded["refund_amount"] < refunded["amount"] - 1e-9).sum(), len(refunded)
        ),
        "fraud_rate_observed": _ratio(fraud.sum(), n),
        "fraud_caught_share": _ratio(fraud_stopped, fraud.sum()),
        "false_decline_rate": _ratio(legit_declined, (~fraud).sum()),
        "payment_failure_rate": _ratio(counts["payment_failed"] + counts["verification_timeout"], n),
        "seller_revenue_lost": round(float(w.loc[cancelled, "amount"].sum()), 2),
        "gmv_completed": round(float(w.loc[w["status"] == "completed", "amount"].sum()), 2),
        "inventory_record_accuracy": _num(acc.mean()) if acc.size else None,
        "lost_sales": int(lost_sales),
        "queues": queues,
    }
