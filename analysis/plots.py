"""Figures of one run. Built on ``matplotlib.figure.Figure`` (no pyplot state), so they work
headless, in notebooks and in worker processes alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.tables import REASON_GROUPS
from analysis.warmup import WarmupSuggestion, welch

#: One colour per initiator, used in every figure.
INITIATOR_COLORS = {"buyer": "#4C72B0", "seller": "#DD8452", "system": "#55A868"}


def plot_run_summary(
    timeseries: pd.DataFrame,
    orders: pd.DataFrame,
    kpis: Mapping[str, Any],
    *,
    title: str = "",
    warmup_days: float = 0.0,
    window_hours: tuple[float, float] | None = None,
) -> Figure:
    """Four panels: daily orders, cancellations by initiator and disputes; cancellation rate by
    reason; refund delays by method (cancellation refunds and dispute awards); record accuracy
    and queue waits over time.

    Args:
        timeseries: The run's ``timeseries`` frame.
        orders: The run's ``orders`` frame.
        kpis: The run's KPIs.
        title: Figure title.
        warmup_days: Shaded as the warm-up on the time axes.
        window_hours: The KPI window (``scenario.kpi_window_hours``); when given, the days
            after it are shaded as the cooldown and the refund panel counts only orders placed
            inside it, as the KPIs do.

    Returns:
        The figure (save with ``fig.savefig(path, dpi=120)``).
    """
    fig = Figure(figsize=(13, 8.5), layout="constrained")
    axes = fig.subplots(2, 2)
    _daily(axes[0, 0], timeseries, warmup_days, window_hours)
    _reasons(axes[0, 1], kpis)
    if window_hours is not None:
        placed = orders["placed_hour"]
        orders = orders[(placed >= window_hours[0]) & (placed < window_hours[1])]
    _refunds(axes[1, 0], orders)
    _state(axes[1, 1], timeseries, warmup_days)
    head = title or "simcore run"
    fig.suptitle(
        f"{head}: {kpis['orders']:,} orders after warm-up, "
        f"{100 * (kpis['cancellation_rate'] or 0):.1f}% cancelled",
        fontsize=13,
    )
    return fig


def _shade_warmup(ax, timeseries: pd.DataFrame, warmup_days: float) -> None:
    if warmup_days > 0 and len(timeseries):
        start = timeseries["date"].iloc[0]
        ax.axvspan(start, start + pd.Timedelta(days=warmup_days), color="0.9", zorder=0, label="warm-up")


def _shade_cooldown(ax, timeseries: pd.DataFrame, window_hours: tuple[float, float] | None) -> None:
    if window_hours is None or not len(timeseries):
        return
    start = timeseries["date"].iloc[0]
    end = start + pd.Timedelta(days=len(timeseries))
    cut = start + pd.Timedelta(hours=window_hours[1])
    if cut < end:
        ax.axvspan(
            cut, end, color="0.95", hatch="//", ec="0.8", lw=0, zorder=0, label="cooldown (not in KPIs)"
        )


def _daily(ax, ts: pd.DataFrame, warmup_days: float, window_hours: tuple[float, float] | None) -> None:
    _shade_warmup(ax, ts, warmup_days)
    _shade_cooldown(ax, ts, window_hours)
    ax.plot(ts["date"], ts["orders_placed"], color="0.3", lw=1.2, label="orders placed")
    bottom = np.zeros(len(ts))
    for ini, color in INITIATOR_COLORS.items():
        vals = ts[f"cancelled_{ini}"].to_numpy(dtype=float)
        ax.fill_between(
            ts["date"],
            bottom,
            bottom + vals,
            color=color,
            alpha=0.85,
            step="mid",
            label=f"cancelled by {ini}",
        )
        bottom = bottom + vals
    if "disputes_opened" in ts:
        ax.plot(ts["date"], ts["disputes_opened"], color="#8C613C", lw=1, label="disputes opened")
    ax.set_title("Orders, cancellations and disputes per day")
    ax.set_ylabel("orders / day")
    ax.legend(loc="center left", fontsize=8, ncols=2)
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelrotation=30)


def _reasons(ax, kpis: Mapping[str, Any]) -> None:
    rates = kpis["cancellation_rate_by_reason"]
    names, values, colors = [], [], []
    for ini, reasons in REASON_GROUPS.items():
        for r in reasons:
            names.append(r.replace("_", " "))
            values.append(100 * (rates.get(r) or 0.0))
            colors.append(INITIATOR_COLORS[ini])
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color=colors)
    ax.set_yticks(y, names, fontsize=8)
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {v:.2f}%", va="center", fontsize=7)
    ax.set_xlabel("% of orders (after warm-up)")
    ax.set_title("Cancellations by reason (colour = initiator)")
    ax.set_xlim(0, max(values + [0.1]) * 1.25)


def _refunds(ax, orders: pd.DataFrame) -> None:
    # Every payout, as the refund KPIs count them: cancellation refunds and dispute awards.
    pairs = [("refund_method", "refund_delay_bdays"), ("dispute_refund_method", "dispute_refund_delay_bdays")]
    card, wallet = [], []
    for method, delay in pairs:
        if method in orders:
            card.append(orders.loc[orders[method] == "original", delay].to_numpy(dtype=float))
            wallet.append(orders.loc[orders[method] == "wallet", delay].to_numpy(dtype=float))
    card, wallet = np.concatenate(card), np.concatenate(wallet)
    top = max(float(np.nanmax(card)) if card.size else 1.0, 1.0)
    bins = np.linspace(0, np.ceil(top), int(np.ceil(top)) * 2 + 1)
    ax.hist(
        [card, wallet],
        bins=bins,
        stacked=True,
        color=["#8172B3", "#64B5CD"],
        label=[f"original method (n={card.size:,})", f"wallet (n={wallet.size:,})"],
    )
    if card.size:
        med = float(np.median(card))
        ax.axvline(med, color="k", ls="--", lw=1)
        ax.text(med, ax.get_ylim()[1] * 0.92, f" card median {med:.1f} bd", fontsize=8)
    ax.set_xlabel("refund delay (business days)")
    ax.set_ylabel("refunds")
    ax.set_title("Refund delays (cancellations and dispute awards)")
    ax.legend(fontsize=8)


def _state(ax, ts: pd.DataFrame, warmup_days: float) -> None:
    _shade_warmup(ax, ts, warmup_days)
    if "inventory_accuracy" in ts:
        ax.plot(
            ts["date"], 100 * ts["inventory_accuracy"], color="#C44E52", label="stock records accurate (%)"
        )
    ax.set_ylabel("% of SKU records")
    ax.set_ylim(0, 100)
    ax.set_title("Stock record accuracy (end of day) and queue waits")
    ax.tick_params(axis="x", labelrotation=30)
    ax2 = ax.twinx()
    for name, color, label in (
        ("gateway", "#4C72B0", "gateway"),
        ("fraud_review", "#55A868", "fraud review"),
        ("customer_service", "#8C613C", "customer service"),
    ):
        col = f"{name}_mean_wait_hours"
        if col in ts:
            ax2.plot(ts["date"], 60 * ts[col], color=color, lw=1, label=f"{label} mean wait (min)")
    ax2.set_ylabel("mean wait that day (minutes)")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")


#: Axis label (with unit) of each series of :func:`analysis.warmup.warmup_series`.
_WARMUP_LABELS = {
    "orders_in_system": "orders in system (at midnight)",
    "completed": "orders completed / day",
    "cancelled": "orders cancelled / day",
    "cancelled_share": "share of the day's orders cancelled",
    "out_of_stock_share": "share of the day's orders cancelled out of stock",
    "gateway_queue": "payments waiting at the gateway (at midnight)",
    "fraud_review_queue": "orders waiting for fraud review (at midnight)",
    "customer_service_queue": "cases waiting for customer service (at midnight)",
}


def plot_warmup(
    suggestion: WarmupSuggestion, column: str = "orders_in_system", window: int = 7, ax: Axes | None = None
) -> Axes:
    """Welch plot of one pilot series with the MSER truncations.

    Draws the across-replication mean per day (thin), Welch's moving average of it (thick;
    Law & Kelton 9.5.1), a dashed vertical line at this series' MSER truncation and a solid
    one at the overall suggestion. Read it as Welch advises: the warm-up ends where the thick
    line levels off; if the suggestion sits well before or after that, trust the eye.

    Args:
        suggestion: From :func:`analysis.warmup.suggest_warmup`.
        column: A series in ``suggestion.mean``.
        window: Half-width ``w`` of the moving average (days); 7 smooths the weekday cycle.
        ax: Axes to draw on; a new figure (no pyplot state) when None.

    Returns:
        The axes (save with ``ax.figure.savefig(path, dpi=120)``).

    Raises:
        KeyError: ``column`` is not in ``suggestion.mean``.
        ValueError: ``window`` is out of Welch's range (``0..days // 4``).
    """
    if column not in suggestion.mean:
        raise KeyError(f"plot_warmup: no series {column!r} (have {list(suggestion.mean.columns)})")
    if ax is None:
        ax = Figure(figsize=(10, 5.5), layout="constrained").subplots()
    mean = suggestion.mean[column]
    days = mean.index.to_numpy()
    smooth = welch(mean.to_numpy(dtype=float), window)
    n = suggestion.replications
    ax.plot(days, mean, color="0.55", lw=0.9, label=f"mean of {n} replication{'s' if n != 1 else ''}")
    ax.plot(
        days[: smooth.size],
        smooth,
        color=INITIATOR_COLORS["buyer"],
        lw=2.6,
        label=f"Welch average (w = {window} d)",
    )
    rows = suggestion.by_series.set_index("column")
    if column in rows.index:
        cut = int(rows.loc[column, "truncation_days"])
        limit = " (search limit: run longer pilots)" if rows.loc[column, "at_limit"] else ""
        ax.axvline(
            cut,
            color=INITIATOR_COLORS["seller"],
            ls="--",
            lw=1.6,
            zorder=3,  # on top of the overall cut when they coincide
            label=f"MSER-{suggestion.batch} cut for this series: {cut} d{limit}",
        )
    ax.axvline(suggestion.days, color="#C44E52", lw=1.6, label=f"suggested warm-up: {suggestion.days} d")
    label = _WARMUP_LABELS.get(column, column.replace("_", " "))
    ax.set_xlabel("day of run")
    ax.set_ylabel(label)
    ax.set_title(f"Warm-up: {label.split(' (')[0]}, {n} pilot replication{'s' if n != 1 else ''}")
    ax.set_xlim(0, days[-1] if days.size else 1)
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(mean))) if mean.notna().any() else 0.0)
    ax.legend(loc="best", fontsize=8)
    return ax
