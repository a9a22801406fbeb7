"""Tidy tables of KPIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from simcore.model.vocabulary import REASONS_BY_INITIATOR
from simcore.results.kpis import WINDOW_KEY, flatten_kpis
from simcore.results.registry import KPI_BY_NAME, kpi

#: Cancel reasons by initiator, in report order.
REASON_GROUPS = REASONS_BY_INITIATOR


def _unit(name: str) -> str:
    try:
        return kpi(name).unit
    except KeyError:  # a KPI this version does not report
        return ""


def _fmt(name: str, value: Any) -> str:
    """``value`` for people, by the KPI's unit in the registry: shares as percentages, dollars
    with a sign, counts with thousands separators."""
    if value is None:
        return "n/a"
    if isinstance(value, int):  # bool is an int too
        return f"{value:,}"
    if isinstance(value, float):
        unit = _unit(name)
        if unit == "share":
            return f"{100 * value:.2f}%"
        if unit == "USD":
            return f"${value:,.2f}"
        return f"{value:,.3f}"
    return str(value)


def kpi_table(kpis: Mapping[str, Any]) -> pd.DataFrame:
    """One row per KPI with its raw ``value``, a human-readable ``shown`` string, and the
    registry's ``unit`` and better ``direction`` (``simcore kpis``).

    Args:
        kpis: The ``kpis`` dict of a run.

    Returns:
        DataFrame with columns ``kpi``, ``value``, ``shown``, ``unit``, ``direction``.
    """
    flat = flatten_kpis({k: v for k, v in kpis.items() if k != WINDOW_KEY})  # kpis.json's window
    known = {k: KPI_BY_NAME.get(k) for k in flat}
    return pd.DataFrame(
        {
            "kpi": list(flat),
            "value": list(flat.values()),
            "shown": [_fmt(k, v) for k, v in flat.items()],
            "unit": [e.unit if e else "" for e in known.values()],
            "direction": [e.direction if e else "" for e in known.values()],
        }
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _num(x: float | None, fmt: str = ".1f") -> str:
    return "n/a" if x is None else format(x, fmt)


def kpi_report(kpis: Mapping[str, Any]) -> str:
    """A compact text report of one run's KPIs, grouped by topic (what ``simcore run`` prints).

    Args:
        kpis: The ``kpis`` dict of a run.

    Returns:
        Plain text; reasons as count and share of orders, queues as one row each.
    """
    by_ini = kpis["cancellation_rate_by_initiator"]
    lines = [
        f"orders (after warm-up)   {kpis['orders']:,}   completed {_pct(kpis['completed_rate'])}, "
        f"still open {_pct(kpis['open_rate'])}, lost sales {kpis['lost_sales']:,}, "
        f"forgone (trust) {kpis['orders_forgone']:,}",
        f"cancellation rate        {_pct(kpis['cancellation_rate'])}   buyer {_pct(by_ini['buyer'])}, "
        f"seller {_pct(by_ini['seller'])}, system {_pct(by_ini['system'])}",
        "",
        f"  {'reason':24} {'by':7} {'count':>7} {'of orders':>10}",
    ]
    counts, rates = kpis["cancellations_by_reason"], kpis["cancellation_rate_by_reason"]
    for ini, reasons in REASON_GROUPS.items():
        for r in reasons:
            lines.append(f"  {r:24} {ini:7} {counts[r]:>7,} {_pct(rates[r]):>10}")
    if kpis.get("disguised_cancellations"):
        lines.append(
            f"  ({kpis['disguised_cancellations']:,} disguised: the stated reason hid the seller's real one, "
            "an out_of_stock claim covering a loss or a buyer asked to cancel)"
        )
    delay = kpis["refund_delay_bdays"]
    card = kpis["refund_delay_bdays_by_method"]["original"]
    lines += [
        "",
        f"payment failure rate     {_pct(kpis['payment_failure_rate'])}",
        f"fraud caught             {_pct(kpis['fraud_caught_share'])} of fraudulent orders; "
        f"false declines {_pct(kpis['false_decline_rate'])} of legitimate orders",
        f"refunds                  {delay['n']:,}; delay (business days) mean {_num(delay['mean'])}, "
        f"p50 {_num(delay['p50'])}, p90 {_num(delay['p90'])}, max {_num(delay['max'])}; "
        f"card p50 {_num(card['p50'])}; short-paid {_pct(kpis['refund_wrong_amount_share'])}",
        f"seller revenue lost      ${kpis['seller_revenue_lost']:,.2f}   "
        f"completed GMV ${kpis['gmv_completed']:,.2f}",
        *_money_lines(kpis),
        f"stock record accuracy    {_pct(kpis['inventory_record_accuracy'])} of SKU records; "
        f"{_pct(kpis.get('inventory_record_accuracy_weighted'))} weighted by demand",
        "",
        *_dispute_lines(kpis),
        "",
        f"  {'queue':17} {'mean wait h':>11} {'p90 wait h':>11} {'mean length':>12} {'utilization':>12}",
    ]
    for name, q in kpis["queues"].items():
        lines.append(
            f"  {name:17} {q['mean_wait_hours']:>11.3f} {q['p90_wait_hours']:>11.3f} "
            f"{q['mean_queue_length']:>12.3f} {_pct(q['utilization']):>12}"
        )
    return "\n".join(lines)


def _money_lines(kpis: Mapping[str, Any]) -> list[str]:
    """Unpaid orders, lost parcels, bank holds, chargebacks and what fraud cost (KPIs of runs
    written before these existed have none of them: no lines)."""
    if "chargebacks" not in kpis:
        return []
    hold = kpis["bank_hold_release_bdays"]
    return [
        f"never paid               ${kpis['seller_revenue_unpaid']:,.2f} of legitimate orders cancelled "
        "before payment (buyer did not order again)",
        f"lost parcels             {kpis['lost_parcels']:,} refunded under buyer protection; "
        f"bank holds {hold['n']:,}, released after p50 {_num(hold['p50'])} business days",
        f"chargebacks              {kpis['chargebacks']:,} ({_pct(kpis['chargeback_rate'])} of card "
        f"payments), ${kpis['chargebacks_usd']:,.2f} + ${kpis['chargeback_fees_usd']:,.2f} fees",
        f"fraud cost               ${kpis['fraud_cost_usd']:,.2f}: loss ${kpis['fraud_loss_usd']:,.2f}, "
        f"false declines ${kpis['false_decline_usd']:,.2f} of orders, "
        f"analysts ${kpis['fraud_review_cost_usd']:,.2f}",
    ]


def _dispute_lines(kpis: Mapping[str, Any]) -> list[str]:
    """Disputes, the platform's seller metrics, penalties and buyer trust."""
    out = kpis["dispute_outcomes"]
    days = kpis["dispute_resolution_days"]
    pm = kpis["platform_metrics"]
    by_reason = ", ".join(f"{r} {c:,}" for r, c in kpis["disputes_by_reason"].items() if c)
    return [
        f"disputes                 {kpis['disputes']:,} ({_pct(kpis['dispute_rate'])} of orders): "
        f"{by_reason or 'none'}",
        f"  outcomes               full refund {_pct(out['full_refund'])}, "
        f"partial {_pct(out['partial_refund'])}, rejected {_pct(out['rejected'])}; "
        f"unresolved {kpis['disputes_unresolved']:,}",
        f"  resolution (days)      mean {_num(days['mean'])}, p90 {_num(days['p90'])}; "
        f"escalated {_pct(kpis['dispute_escalation_share'])}; awards ${kpis['dispute_refunds_usd']:,.2f}",
        f"  platform metrics       dispute rate {_pct(pm['dispute_rate'])}, arbitration filing "
        f"{_pct(pm['arbitration_filing_rate'])}, "
        f"seller responsibility {_pct(pm['seller_responsibility_rate'])}",
        f"sellers                  {kpis['seller_warnings']:,} warnings, "
        f"{kpis['seller_suspensions']:,} suspensions",
        f"buyers                   churn {_pct(kpis['buyer_churn_rate'])}, "
        f"repeat purchase {_pct(kpis['repeat_purchase_rate'])}",
    ]


def penalties_by_size(sellers: pd.DataFrame) -> pd.DataFrame:
    """Warnings and suspensions by seller-size quartile (the sellers frame's ``size_quartile``,
    by orders over the run): a penalty rule that punishes volume shows as suspensions piling
    up in quartile 4 among sellers no worse than the rest.

    Returns:
        One row per quartile (1 smallest): ``sellers``, ``orders`` (min-max per seller),
        ``seller_cancel_rate`` and ``ruling_rate`` (seller-responsible cancellations and rulings
        against the seller per order cleared, pooled), ``warned`` and ``suspended`` (sellers with
        at least one), ``warnings`` and ``suspensions`` (issued over the run), ``suspended_share``.
    """
    g = sellers.groupby("size_quartile")
    cleared = g["cleared"].sum().clip(lower=1)
    out = pd.DataFrame(
        {
            "sellers": g.size(),
            "orders": g["orders"].min().astype(str) + "-" + g["orders"].max().astype(str),
            "seller_cancel_rate": g["seller_cancellations"].sum() / cleared,
            "ruling_rate": g["responsibility_rulings"].sum() / cleared,
            "warned": g["warnings"].apply(lambda w: int((w > 0).sum())),
            "suspended": g["suspensions"].apply(lambda w: int((w > 0).sum())),
            "warnings": g["warnings"].sum(),
            "suspensions": g["suspensions"].sum(),
        }
    )
    out["suspended_share"] = out["suspended"] / out["sellers"]
    out.index.name = "size_quartile"
    return out
