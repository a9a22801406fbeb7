"""Key performance indicators of one run, computed from the collected frames.

Rates are over orders placed inside the KPI window ``[warmup_days, horizon_days -
cooldown_days)``. Definitions the calibration bands depend on:

- ``payment_failure_rate``: orders cancelled ``payment_failed`` or ``verification_timeout``.
- ``false_decline_rate``: legitimate orders cancelled ``fraud_suspected`` / legitimate orders.
- ``fraud_caught_share``: fraudulent orders stopped by the platform's screens (gateway or
  referee: ``simcore.model.vocabulary.SCREEN_REASONS``) / fraudulent orders.
- ``seller_revenue_lost``: what sellers lost after a legitimate order was paid: the value of
  such orders cancelled, refunded as lost parcels or returned, the awards on the others, and the
  chargebacks a liable seller pays; stopped fraud is not revenue lost. ``seller_revenue_unpaid``:
  the value of legitimate orders cancelled before they were paid (no revenue was ever at stake),
  unless the buyer paid for a new order of the same visit (``buyers.payment_failure_reorder_share``).
  ``gmv_completed``: value of completed orders not charged back.
- ``chargeback_rate``: chargebacks / orders paid by card (the card networks' ratio, of
  chargebacks to sales); ``fraud_loss_usd``: the amount and fee of every chargeback (the goods
  went to the fraudster), plus ``wallet_fraud_usd``, fraud paid from a taken-over wallet that
  shipped and was not refunded (``buyers.fraud.card_share`` < 1: no chargeback follows);
  ``false_decline_usd``: value of legitimate orders declined as fraud; ``fraud_cost_usd``:
  fraud loss + ``sellers.pricing.margin_mean`` x false declines + the analysts' cost over the
  window (``platform.fraud.analyst_cost_per_hour`` x the review desk's staffed hours).
- ``dispute_rate``: orders disputed / orders; ``dispute_outcomes``: shares of resolved disputes;
  ``dispute_resolution_days``: opened to resolved, in days. ``platform_metrics`` are the three
  seller metrics a platform watches, over all orders: dispute rate, arbitration-filing rate
  (disputes escalated to platform intervention) and seller-responsibility ruling rate (disputes
  the platform decided against the seller).
- ``refund_delay_bdays``: every refund, cancellation and dispute award alike (business days on
  the card, days to the wallet). ``bank_hold_release_bdays``: of card payments authorised and
  cancelled before they were taken (a verification not completed), the business days until the
  bank released the hold.
- ``repeat_purchase_rate`` and ``buyer_churn_rate``: of the legitimate buyers whose first order
  of the run was placed in the window, those who ordered again, and those who left for good,
  within ``buyers.follow_up_days`` of it (a fixed exposure, so neither grows with the run); None
  when the run ends before the window's last buyers have been followed that long.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simcore.model.vocabulary import (
    DISPUTE_OUTCOMES,
    DISPUTE_REASONS,
    INITIATORS,
    PAYMENT_REASONS,
    PRICING_CAUSES,
    REASONS,
    REFUND_DISPUTE_REASONS,
    RETURN_PAYERS,
    SCREEN_REASONS,
)

#: The order columns the KPIs read.
KPI_COLUMNS = (
    "arrival_id",
    "buyer_id",
    "amount",
    "placed_hour",
    "status",
    "cancel_initiator",
    "cancel_reason",
    "true_reason",
    "pricing_error_cause",
    "is_fraud",
    "fraud_review_started_at",
    "payment_method",
    "paid_at",
    "charged_back_at",
    "shipped_at",
    "bank_hold_release_bdays",
    "return_shipping_usd",
    "coupon_usd",
    "return_shipping_payer",
    "refund_amount",
    "refund_method",
    "refund_delay_bdays",
    "dispute_reason",
    "dispute_opened_at",
    "dispute_escalated_at",
    "dispute_outcome",
    "dispute_stage",
    "dispute_resolved_at",
    "dispute_refund_amount",
    "dispute_refund_method",
    "dispute_refund_delay_bdays",
)


#: The key of ``kpis.json`` that holds the KPIs' window, [first, last) placement day: what the
#: KPIs were counted over, not a KPI (readers of the file skip it as one).
WINDOW_KEY = "kpi_window_days"


def flatten_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested KPI dict -> flat ``{"queues.gateway.utilization": 0.05, ...}`` (dotted names)."""
    flat: dict[str, Any] = {}
    for key, value in kpis.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_kpis(value, prefix=name + "."))
        else:
            flat[name] = value
    return flat


def ruled_against_seller(orders: pd.DataFrame) -> pd.Series:
    """Orders whose dispute the platform decided against the seller (a seller-responsibility
    ruling): a refund awarded at intervention on a dispute the seller is party to."""
    return (
        (orders["dispute_stage"] == "intervention")
        & orders["dispute_outcome"].isin(["full_refund", "partial_refund"])
        & ~orders["dispute_reason"].isin(list(REFUND_DISPUTE_REASONS))
    )


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
    forgone: int = 0,
    churned_at: np.ndarray | None = None,
    warnings: int = 0,
    suspensions: int = 0,
    *,
    follow_up_hours: float,
    horizon_hours: float,
    costs: FraudCosts | None = None,
) -> dict[str, Any]:
    """KPIs of one run (JSON-serialisable: plain floats/ints, None for undefined ratios).

    Args:
        orders: The ``orders`` frame of the run.
        daily: The ``timeseries`` frame (needs ``day``, ``inventory_accuracy`` and
            ``inventory_accuracy_weighted``).
        queues: Per-queue summaries from the recorder's monitors.
        window_hours: (first, last) placement hour counted.
        lost_sales: Arrivals in the window that found no listing in stock.
        forgone: Arrivals in the window whose buyer had churned or chose not to buy.
        churned_at: Hour each legitimate buyer churned (NaN if not), indexed by buyer id.
        warnings: Seller warnings issued in the window.
        suspensions: Seller suspensions issued in the window.
        follow_up_hours: How long each buyer is followed for repeat purchases and churn.
        horizon_hours: The run's length.
        costs: What chargebacks, false declines and analysts cost (none when None).
    """
    costs = costs or FraudCosts()
    lo, hi = window_hours
    hours = orders["placed_hour"].to_numpy()
    # Only the columns the KPIs read: a copy of every column of the window's rows would cost
    # more memory than the frames themselves at a million orders.
    w = orders.loc[(hours >= lo) & (hours < hi), list(KPI_COLUMNS)]
    n = len(w)
    cancelled = w["status"] == "cancelled"
    reason = w["cancel_reason"]
    initiator = w["cancel_initiator"]
    fraud = w["is_fraud"].to_numpy(dtype=bool)
    by_reason = reason.value_counts()
    counts = {r: int(by_reason.get(r, 0)) for r in REASONS if r}
    by_initiator = initiator.value_counts()
    # Where each stopped fraudulent order was stopped: by the gateway, by the referee's own
    # rules (a prohibited item, a score past the decline line, an address left in conflict), or
    # by an analyst after a review.
    caught = fraud & reason.isin(SCREEN_REASONS).to_numpy()
    at_payment = caught & reason.isin(PAYMENT_REASONS).to_numpy()
    reviewed = w["fraud_review_started_at"].notna().to_numpy()
    by_review = caught & (reason == "fraud_suspected").to_numpy() & reviewed
    stage = {"payment": at_payment, "screen": caught & ~at_payment & ~by_review, "review": by_review}
    visits = n + lost_sales + forgone
    legit_declined = (~fraud & (reason == "fraud_suspected").to_numpy()).sum()
    days = daily["day"].to_numpy()
    in_window = (days * 24.0 > lo) & ((days - 1) * 24.0 < hi)
    acc = daily["inventory_accuracy"].to_numpy()[in_window]
    acc_weighted = daily["inventory_accuracy_weighted"].to_numpy()[in_window]
    award = w["dispute_refund_amount"].fillna(0.0)
    status = w["status"]
    return {
        "orders": n,
        "completed_rate": _ratio((status == "completed").sum(), n),
        "open_rate": _ratio((status == "open").sum(), n),
        "cancellation_rate": _ratio(cancelled.sum(), n),
        "refunded_rate": _ratio((status == "refunded").sum(), n),
        "returned_rate": _ratio((status == "returned").sum(), n),
        "cancellation_rate_by_initiator": {i: _ratio(by_initiator.get(i, 0), n) for i in INITIATORS if i},
        "cancellations_by_reason": counts,
        "cancellation_rate_by_reason": {r: _ratio(c, n) for r, c in counts.items()},
        "disguised_cancellations": int((w["true_reason"] != reason)[cancelled].sum()),
        "pricing_errors_by_cause": {
            c: int((w["pricing_error_cause"] == c).sum()) for c in PRICING_CAUSES if c
        },
        **_refund_kpis(w, award),
        "bank_hold_release_bdays": _dist(w["bank_hold_release_bdays"].dropna().to_numpy(float)),
        "fraud_rate_observed": _ratio(fraud.sum(), n),
        "fraud_caught_share": _ratio(caught.sum(), fraud.sum()),
        "fraud_caught_share_by_stage": {k: _ratio(v.sum(), fraud.sum()) for k, v in stage.items()},
        "false_decline_rate": _ratio(legit_declined, (~fraud).sum()),
        "payment_failure_rate": _ratio(sum(counts[r] for r in PAYMENT_REASONS), n),
        **_money_kpis(w, award, fraud, costs, _paid_visits(orders)),
        "inventory_record_accuracy": _num(acc.mean()) if acc.size else None,
        "inventory_record_accuracy_weighted": _num(acc_weighted.mean()) if acc_weighted.size else None,
        "lost_sales": int(lost_sales),
        "orders_forgone": int(forgone),
        "visit_loss_rate": _ratio(lost_sales + forgone, visits),
        **_dispute_kpis(w, award),
        **_buyer_kpis(orders, churned_at, window_hours, follow_up_hours, horizon_hours),
        "seller_warnings": int(warnings),
        "seller_suspensions": int(suspensions),
        "queues": queues,
    }


@dataclass(frozen=True)
class FraudCosts:
    """What fraud costs beyond the amounts: per chargeback, per dollar declined, per window.

    Attributes:
        liability: Who bears chargebacks (``payment.chargebacks.liability``).
        chargeback_fee_usd: The fee of one chargeback.
        margin: The share of a sale's value a false decline loses (``sellers.pricing.margin_mean``).
        review_usd: The analysts' cost over the KPI window (all analysts, every hour staffed).
    """

    liability: str = "platform"
    chargeback_fee_usd: float = 0.0
    margin: float = 0.0
    review_usd: float = 0.0


def _unpaid(w: pd.DataFrame, unpaid: np.ndarray) -> float:
    """USD of the visits whose orders ``unpaid`` marks, once per visit: a buyer whose new order
    failed too meant one purchase (the first order's value counts). A visit whose buyer paid
    for a new order after a failed one lost nothing (left out of ``unpaid`` by the caller)."""
    rows = w.loc[unpaid, ["arrival_id", "amount"]].drop_duplicates("arrival_id", keep="first")
    return round(float(rows["amount"].sum()), 2)


def _paid_visits(orders: pd.DataFrame) -> np.ndarray:
    """The arrival ids of the visits with a paid order (a failed order's buyer may order again)."""
    return np.unique(orders["arrival_id"].to_numpy()[orders["paid_at"].notna().to_numpy()])


def _money_kpis(
    w: pd.DataFrame, award: pd.Series, fraud: np.ndarray, costs: FraudCosts, paid_visits: np.ndarray
) -> dict[str, Any]:
    """Revenue lost and unpaid, completed GMV, and what fraud costs (see the module's docstring)."""
    amount = w["amount"]
    status = w["status"]
    cancelled = (status == "cancelled").to_numpy()
    paid = w["paid_at"].notna().to_numpy()
    charged = w["charged_back_at"].notna().to_numpy()
    legit = ~fraud
    # Lost parcels and returns, refunded at the seller's cost.
    refunded = status.isin(["refunded", "returned"]).to_numpy()
    delivered = ~cancelled & ~refunded  # completed or still open
    chargebacks_usd = float(amount[charged].sum())
    fees = costs.chargeback_fee_usd * int(charged.sum())
    lost = amount[legit & ((cancelled & paid) | refunded)].sum() + award[delivered].sum()
    if costs.liability == "seller":
        lost += amount[delivered & charged].sum()
    declined = float(amount[legit & (w["cancel_reason"] == "fraud_suspected").to_numpy()].sum())
    card = (w["payment_method"] == "card").to_numpy()
    # Fraud paid from a taken-over account's wallet has no chargeback: the goods that shipped
    # (and were not refunded) are the loss.
    wallet_fraud = fraud & ~card & w["shipped_at"].notna().to_numpy() & ~cancelled & ~refunded
    wallet_fraud_usd = float(amount[wallet_fraud].sum())
    fraud_loss = chargebacks_usd + fees + wallet_fraud_usd
    bought_again = np.isin(w["arrival_id"].to_numpy(), paid_visits)
    return {
        "seller_revenue_lost": round(float(lost), 2),
        "seller_revenue_unpaid": _unpaid(w, legit & cancelled & ~paid & ~bought_again),
        "gmv_completed": round(float(amount[(status == "completed").to_numpy() & ~charged].sum()), 2),
        "chargebacks": int(charged.sum()),
        "chargeback_rate": _ratio(int(charged.sum()), int((card & paid).sum())),
        "chargebacks_usd": round(chargebacks_usd, 2),
        "chargeback_fees_usd": round(fees, 2),
        "wallet_fraud_usd": round(wallet_fraud_usd, 2),
        "fraud_loss_usd": round(fraud_loss, 2),
        "false_decline_usd": round(declined, 2),
        "fraud_review_cost_usd": round(costs.review_usd, 2),
        "fraud_cost_usd": round(fraud_loss + costs.margin * declined + costs.review_usd, 2),
        "lost_parcels": int((status == "refunded").sum()),
        "returns": int((status == "returned").sum()),
        "return_shipping_usd": {
            payer: round(float(w.loc[w["return_shipping_payer"] == payer, "return_shipping_usd"].sum()), 2)
            for payer in RETURN_PAYERS[1:]
        },
        "coupons": int(w["coupon_usd"].notna().sum()),
        "compensation_usd": round(float(w["coupon_usd"].sum()), 2),
    }


def _refund_kpis(w: pd.DataFrame, award: pd.Series) -> dict[str, Any]:
    """Delays of every refund and award, the short-paid share of cancellation refunds, and the
    dollars refunded (cancellation refunds plus awards ``award``)."""
    refunded = w[w["refund_method"].notna()]
    cancellation = refunded[refunded["status"] == "cancelled"]
    awarded = w[w["dispute_refund_method"].notna()]
    delays = np.concatenate(
        [
            refunded["refund_delay_bdays"].to_numpy(dtype=float),
            awarded["dispute_refund_delay_bdays"].to_numpy(float),
        ]
    )
    methods = np.concatenate(
        [
            refunded["refund_method"].astype(str).to_numpy(),
            awarded["dispute_refund_method"].astype(str).to_numpy(),
        ]
    )
    return {
        "refund_delay_bdays": _dist(delays),
        "refund_delay_bdays_by_method": {m: _dist(delays[methods == m]) for m in ("original", "wallet")},
        # Of cancellation refunds: a lost parcel's refund pays what the awards had not.
        "refund_wrong_amount_share": _ratio(
            (cancellation["refund_amount"] < cancellation["amount"] - 1e-9).sum(), len(cancellation)
        ),
        "refunds_usd": round(float(refunded["refund_amount"].sum() + award.sum()), 2),
    }


def _dispute_kpis(w: pd.DataFrame, award: pd.Series) -> dict[str, Any]:
    n = len(w)
    disputed = w[w["dispute_reason"].notna()]
    resolved = disputed[disputed["dispute_outcome"].notna()]
    outcome = resolved["dispute_outcome"].value_counts()
    by_reason = disputed["dispute_reason"].value_counts()
    days = (
        resolved["dispute_resolved_at"] - resolved["dispute_opened_at"]
    ).dt.total_seconds().to_numpy() / 86400.0
    ruled_against = ruled_against_seller(resolved).sum()
    return {
        "dispute_rate": _ratio(len(disputed), n),
        "disputes": len(disputed),
        "disputes_by_reason": {r: int(by_reason.get(r, 0)) for r in DISPUTE_REASONS if r},
        "disputes_unresolved": int(len(disputed) - len(resolved)),
        "dispute_outcomes": {o: _ratio(outcome.get(o, 0), len(resolved)) for o in DISPUTE_OUTCOMES if o},
        "dispute_resolution_days": {
            "mean": _num(days.mean()) if days.size else None,
            "p90": _num(np.quantile(days, 0.9)) if days.size else None,
        },
        "dispute_escalation_share": _ratio(disputed["dispute_escalated_at"].notna().sum(), len(disputed)),
        "dispute_refunds_usd": round(float(award.sum()), 2),
        "platform_metrics": {
            "dispute_rate": _ratio(len(disputed), n),
            "arbitration_filing_rate": _ratio(disputed["dispute_escalated_at"].notna().sum(), n),
            "seller_responsibility_rate": _ratio(ruled_against, n),
        },
    }


def _buyer_kpis(
    orders: pd.DataFrame,
    churned_at: np.ndarray | None,
    window_hours: tuple[float, float],
    follow_up_hours: float,
    horizon_hours: float,
    costs: FraudCosts | None = None,
) -> dict[str, Any]:
    """Repeat purchases and churn over a fixed exposure: of the legitimate buyers whose first
    order of the run was placed in the KPI window, the share who ordered again, and the share who
    churned, within ``follow_up_hours`` of it. None for both when the run ends before the last
    of them has been followed that long (``buyers.follow_up_days`` past the window's end)."""
    lo, hi = window_hours
    if hi + follow_up_hours > horizon_hours:
        return {"buyer_churn_rate": None, "repeat_purchase_rate": None}
    legit = ~orders["is_fraud"].to_numpy(dtype=bool)
    buyer = orders["buyer_id"].to_numpy()[legit]
    hour = orders["placed_hour"].to_numpy()[legit]
    by = np.lexsort((hour, buyer))  # each buyer's orders together, in time order
    buyer, hour = buyer[by], hour[by]
    starts = np.flatnonzero(np.r_[True, buyer[1:] != buyer[:-1]]) if buyer.size else np.zeros(0, int)
    first = hour[starts]
    cohort = (first >= lo) & (first < hi)
    # A buyer's second order, if any: the row after their first, when it is theirs too.
    nxt = starts + 1
    has_second = nxt < buyer.size
    has_second[has_second] &= buyer[nxt[has_second]] == buyer[starts[has_second]]
    second = np.full(starts.size, np.inf)
    second[has_second] = hour[nxt[has_second]]
    repeat = (second - first <= follow_up_hours)[cohort]
    churn = None
    if churned_at is not None:
        left = churned_at[buyer[starts]] - first <= follow_up_hours  # NaN (stayed): False
        churn = _ratio(int(left[cohort].sum()), int(cohort.sum()))
    return {
        "buyer_churn_rate": churn,
        "repeat_purchase_rate": _ratio(int(repeat.sum()), int(cohort.sum())),
    }
