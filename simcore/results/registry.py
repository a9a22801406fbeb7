"""The KPI registry: every KPI a run reports, by its flattened name, with its unit, the direction
that is better and what it means.

Names are those of :func:`simcore.results.kpis.flatten_kpis` (``queues.gateway.utilization``),
as a sweep store and ``analysis.load_sweep`` name them. ``--precision`` checks its KPIs here,
the reports take units from here, optimisation and calibration read directions from here, and
``docs/kpi-reference.md`` is generated from it (``simcore kpis --markdown``). A test holds the
registry to what runs produce, name for name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from simcore.model.vocabulary import (
    DISPUTE_OUTCOMES,
    DISPUTE_REASONS,
    INITIATORS,
    PRICING_CAUSES,
    QUEUES,
    REASONS,
    REFUND_METHODS,
    RETURN_PAYERS,
)

#: Units: a share of something (0-1), a count, US dollars, hours, days, business days.
Unit = Literal["share", "count", "USD", "hours", "days", "business days"]
#: Which way is better for the marketplace: lower, higher, or neither (context, not a goal).
Direction = Literal["lower", "higher", "neither"]


@dataclass(frozen=True)
class Kpi:
    """One reported KPI.

    Attributes:
        name: Flattened name (dots between levels).
        unit: See :data:`Unit`.
        direction: See :data:`Direction`.
        meaning: What it counts or measures, over orders placed in the KPI window unless it
            says otherwise.
    """

    name: str
    unit: Unit
    direction: Direction
    meaning: str


def _family(prefix: str, keys: Iterable[str], unit: Unit, direction: Direction, meaning: str) -> list[Kpi]:
    """One KPI per key: ``prefix.key``, its meaning with ``{key}`` filled in."""
    return [Kpi(f"{prefix}.{k}", unit, direction, meaning.format(key=k)) for k in keys]


def _delays(prefix: str, what: str) -> list[Kpi]:
    return [
        *_family(prefix, ("mean", "p50", "p90", "max"), "business days", "lower", f"{{key}} delay of {what}"),
        Kpi(f"{prefix}.n", "count", "neither", f"{what} counted"),
    ]


_REASONS = [r for r in REASONS if r]
_QUEUE_STATS: tuple[tuple[str, Unit, Direction, str], ...] = (
    (
        "mean_wait_hours",
        "hours",
        "lower",
        "mean wait for a server at {q}, requests made in the window and granted by its end",
    ),
    ("p90_wait_hours", "hours", "lower", "90th percentile of the wait at {q}"),
    ("mean_queue_length", "count", "lower", "time-average number waiting at {q}, over the window"),
    ("utilization", "share", "neither", "share of {q}'s server time busy, over the window"),
    ("requests", "count", "neither", "requests made at {q} in the window and granted by its end"),
    ("server_hours", "hours", "neither", "server-hours staffed at {q} over the window (its staffing)"),
)

#: Every KPI, in the order a run's KPI dict holds them.
KPIS: tuple[Kpi, ...] = (
    Kpi("orders", "count", "neither", "orders placed in the KPI window (the denominator of the rates)"),
    Kpi("completed_rate", "share", "higher", "orders completed"),
    Kpi("open_rate", "share", "neither", "orders still open at the horizon"),
    Kpi("cancellation_rate", "share", "lower", "orders cancelled, by anyone for any reason"),
    Kpi(
        "refunded_rate",
        "share",
        "lower",
        "orders shipped and then refunded in full (a lost parcel, under buyer protection)",
    ),
    Kpi("returned_rate", "share", "lower", "orders the buyer refused or sent back, refunded once back"),
    *_family(
        "cancellation_rate_by_initiator",
        [i for i in INITIATORS if i],
        "share",
        "lower",
        "orders cancelled by the {key}",
    ),
    *_family("cancellations_by_reason", _REASONS, "count", "lower", "orders cancelled for {key}"),
    *_family("cancellation_rate_by_reason", _REASONS, "share", "lower", "orders cancelled for {key}"),
    Kpi(
        "disguised_cancellations",
        "count",
        "lower",
        "cancellations whose stated reason hid the real one (a loss covered with out_of_stock, a "
        "seller who asked the buyer to cancel)",
    ),
    *_family(
        "pricing_errors_by_cause",
        [c for c in PRICING_CAUSES if c],
        "count",
        "lower",
        "sales at a loss (true reason pricing_error) caused by {key} since the seller last repriced",
    ),
    *_delays("refund_delay_bdays", "refunds and dispute awards (card in business days, wallet in days)"),
    *(
        k
        for method in REFUND_METHODS[1:]
        for k in _delays(f"refund_delay_bdays_by_method.{method}", f"refunds and awards paid by {method}")
    ),
    Kpi("refund_wrong_amount_share", "share", "lower", "cancellation refunds paid short"),
    Kpi(
        "refunds_usd",
        "USD",
        "neither",
        "refunds (of cancellations and lost parcels) plus dispute awards paid",
    ),
    *_delays(
        "bank_hold_release_bdays",
        "the bank's release of card payments authorised, then cancelled before they were taken",
    ),
    Kpi("fraud_rate_observed", "share", "neither", "orders placed by fraudsters"),
    Kpi("fraud_caught_share", "share", "higher", "fraudulent orders stopped by the gateway or the referee"),
    # The three add up to fraud_caught_share.
    Kpi(
        "fraud_caught_share_by_stage.payment",
        "share",
        "higher",
        "fraudulent orders stopped by the gateway (payment declined, verification not completed)",
    ),
    Kpi(
        "fraud_caught_share_by_stage.screen",
        "share",
        "higher",
        "fraudulent orders stopped by the referee's rules (prohibited item, score past the decline "
        "line, address left in conflict)",
    ),
    Kpi(
        "fraud_caught_share_by_stage.review",
        "share",
        "higher",
        "fraudulent orders rejected by an analyst after a review",
    ),
    Kpi("false_decline_rate", "share", "lower", "legitimate orders cancelled as fraud_suspected"),
    Kpi("payment_failure_rate", "share", "lower", "orders cancelled payment_failed or verification_timeout"),
    Kpi(
        "seller_revenue_lost",
        "USD",
        "lower",
        "what sellers lost on legitimate orders once paid: the value of those cancelled, refunded "
        "as lost parcels or returned, awards on the others, and chargebacks when the seller is liable",
    ),
    Kpi(
        "seller_revenue_unpaid",
        "USD",
        "lower",
        "value of legitimate visits whose orders were cancelled before they were paid (no revenue "
        "was at stake), once per visit, unless the buyer paid for a new order of it",
    ),
    Kpi("gmv_completed", "USD", "higher", "value of completed orders not charged back"),
    Kpi("chargebacks", "count", "lower", "orders whose payment the cardholder charged back"),
    Kpi(
        "chargeback_rate",
        "share",
        "lower",
        "chargebacks / orders paid by card (the card networks watch it: Visa 0.65% and 0.9%)",
    ),
    Kpi("chargebacks_usd", "USD", "lower", "amounts charged back"),
    Kpi("chargeback_fees_usd", "USD", "lower", "fees paid on chargebacks (payment.chargebacks.fee_usd each)"),
    Kpi(
        "wallet_fraud_usd",
        "USD",
        "lower",
        "fraud paid from a taken-over account's wallet that shipped and was not refunded (no chargeback)",
    ),
    Kpi(
        "fraud_loss_usd",
        "USD",
        "lower",
        "fraud that shipped: the amounts charged back plus their fees, plus wallet_fraud_usd",
    ),
    Kpi("false_decline_usd", "USD", "lower", "value of legitimate orders cancelled as fraud_suspected"),
    Kpi(
        "fraud_review_cost_usd",
        "USD",
        "lower",
        "the fraud analysts' pay over the KPI window (platform.fraud.analyst_cost_per_hour each)",
    ),
    Kpi(
        "fraud_cost_usd",
        "USD",
        "lower",
        "fraud_loss_usd + sellers.pricing.margin_mean x false_decline_usd + fraud_review_cost_usd",
    ),
    Kpi("lost_parcels", "count", "lower", "parcels lost for good, refunded under buyer protection"),
    Kpi("returns", "count", "lower", "orders the buyer refused at delivery or sent back, once back"),
    *_family(
        "return_shipping_usd",
        RETURN_PAYERS[1:],
        "USD",
        "lower",
        "returns' shipping paid by the {key} (platform.returns: the buyer asked late, or the seller "
        "shipped despite the request)",
    ),
    Kpi(
        "coupons",
        "count",
        "neither",
        "cancellations the platform compensated with a coupon (platform.compensation)",
    ),
    Kpi("compensation_usd", "USD", "lower", "the coupons' value: the platform's cost of compensation"),
    Kpi(
        "inventory_record_accuracy",
        "share",
        "higher",
        "mean end-of-day share of SKU stock records equal to the shelf (as the field studies count them)",
    ),
    Kpi(
        "inventory_record_accuracy_weighted",
        "share",
        "higher",
        "mean end-of-day share of accurate stock records, each SKU weighted by its expected demand",
    ),
    Kpi("lost_sales", "count", "lower", "arrivals that found no listing in stock"),
    Kpi("orders_forgone", "count", "lower", "arrivals whose buyer had churned or chose not to buy"),
    Kpi(
        "visit_loss_rate",
        "share",
        "lower",
        "arrivals that became no order (lost sales and forgone orders) / arrivals, in the window",
    ),
    Kpi("dispute_rate", "share", "lower", "orders disputed"),
    Kpi("disputes", "count", "lower", "orders disputed"),
    *_family(
        "disputes_by_reason", [r for r in DISPUTE_REASONS if r], "count", "lower", "disputes over {key}"
    ),
    Kpi("disputes_unresolved", "count", "neither", "disputes still open at the horizon"),
    *_family(
        "dispute_outcomes",
        [o for o in DISPUTE_OUTCOMES if o],
        "share",
        "neither",
        "resolved disputes ending {key}",
    ),
    *_family(
        "dispute_resolution_days", ("mean", "p90"), "days", "lower", "{key} days from opening to resolution"
    ),
    Kpi("dispute_escalation_share", "share", "lower", "disputes escalated to platform intervention"),
    Kpi("dispute_refunds_usd", "USD", "neither", "dispute awards paid"),
    Kpi("platform_metrics.dispute_rate", "share", "lower", "orders disputed (a platform's seller metric)"),
    Kpi("platform_metrics.arbitration_filing_rate", "share", "lower", "orders whose dispute was escalated"),
    Kpi("platform_metrics.seller_responsibility_rate", "share", "lower", "orders ruled against the seller"),
    Kpi(
        "buyer_churn_rate",
        "share",
        "lower",
        "legitimate buyers first ordering in the window who left within buyers.follow_up_days",
    ),
    Kpi(
        "repeat_purchase_rate",
        "share",
        "higher",
        "legitimate buyers first ordering in the window who ordered again within buyers.follow_up_days",
    ),
    Kpi("seller_warnings", "count", "lower", "seller warnings issued in the window"),
    Kpi("seller_suspensions", "count", "lower", "seller suspensions issued in the window"),
    *(
        Kpi(f"queues.{q}.{stat}", unit, direction, meaning.format(q=q))
        for q in QUEUES
        for stat, unit, direction, meaning in _QUEUE_STATS
    ),
)

#: The registry by name.
KPI_BY_NAME: dict[str, Kpi] = {k.name: k for k in KPIS}


def kpi(name: str) -> Kpi:
    """The registry's entry for flattened KPI name ``name``.

    Raises:
        KeyError: no such KPI (the message suggests the closest name).
    """
    found = KPI_BY_NAME.get(name)
    if found is None:
        raise KeyError(unknown_kpi(name))
    return found


def unknown_kpi(name: str) -> str:
    """Why ``name`` is not a KPI, with the closest name when there is one."""
    close = difflib.get_close_matches(name, list(KPI_BY_NAME), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "see docs/kpi-reference.md or `simcore kpis`"
    return f"no such KPI (got {name!r}; {hint})"


def check_kpis(names: Iterable[str]) -> None:
    """Raise ValueError naming every one of ``names`` that is no KPI (with the closest name)."""
    bad = [unknown_kpi(k) for k in names if k not in KPI_BY_NAME]
    if bad:
        raise ValueError("; ".join(bad))


def kpi_reference_markdown() -> str:
    """Every KPI with its unit, direction and meaning, as a Markdown table."""
    lines = [
        "# KPI reference",
        "",
        "Generated from the registry by `simcore kpis --markdown`; do not edit by hand.",
        "",
        "Each KPI is named as in a sweep store and `analysis.load_sweep` (nested names joined with",
        "dots). Rates and counts are over orders placed in the KPI window `[warmup_days,",
        "horizon_days - cooldown_days)` unless the meaning says otherwise; a share is in [0, 1].",
        "*Better* says which way is better for the marketplace (`neither`: context, not a goal).",
        "",
        "| KPI | unit | better | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{k.name}` | {k.unit} | {k.direction} | {k.meaning} |" for k in KPIS]
    return "\n".join(lines) + "\n"
