"""Figures of one run over time: the run summary, the daily panels and the Welch warm-up plot,
with the palette every figure shares. Built on ``matplotlib.figure.Figure`` (no pyplot state),
so they work headless, in notebooks and in worker processes alike. Breakdowns of the orders
(cancellations, refunds, disputes, order paths) are in :mod:`analysis.run_plots`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.tables import REASON_GROUPS
from analysis.warmup import WarmupSuggestion, welch

#: The Okabe & Ito (2008) palette: eight colours told apart with every common colour-vision
#: deficiency (checked for deuteranopia and protanopia by simulation, Machado et al. 2009).
#: Yellow comes last: it is faint as a line on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: One colour per initiator, used in every figure (Okabe-Ito blue, orange, bluish green: the
#: seaborn orange and green used before merge under protanopia).
INITIATOR_COLORS = {"buyer": "#0072B2", "seller": "#E69F00", "system": "#009E73"}
#: One colour per queue (Okabe-Ito sky blue, vermillion, reddish purple: apart from the initiators).
QUEUE_COLORS = {"gateway": "#56B4E9", "fraud_review": "#D55E00", "customer_service": "#CC79A7"}
#: Refunds to the original payment method and to the wallet.
REFUND_COLORS = {"original": "#0072B2", "wallet": "#56B4E9"}


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


def shade_warmup(ax: Axes, timeseries: pd.DataFrame, warmup_days: float) -> None:
    """Shade the first ``warmup_days`` (days) of a daily time axis grey, labelled "warm-up"."""
    if warmup_days > 0 and len(timeseries):
        start = timeseries["date"].iloc[0]
        ax.axvspan(start, start + pd.Timedelta(days=warmup_days), color="0.9", zorder=0, label="warm-up")


def shade_cooldown(ax: Axes, timeseries: pd.DataFrame, window_hours: tuple[float, float] | None) -> None:
    """Hatch the days after the KPI window (``window_hours``: first and last placement hour)."""
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
    shade_warmup(ax, ts, warmup_days)
    shade_cooldown(ax, ts, window_hours)
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
        ax.plot(ts["date"], ts["disputes_opened"], color="#CC79A7", lw=1, label="disputes opened")
    ax.set_title("Orders, cancellations and disputes per day")
    ax.set_ylabel("orders / day")
    # The legend in a band of its own above the busiest day, where it hides no day's orders (a
    # holiday's dip sits at mid height, where a legend at the side would cover it).
    top = float(ts["orders_placed"].max()) if len(ts) else 1.0
    ax.set_ylim(0, 1.5 * max(top, 1.0))
    ax.legend(loc="upper center", fontsize=8, ncols=3)
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
    paid = refund_delays(orders)
    card = paid.loc[paid["method"] == "original", "delay"].to_numpy(dtype=float)
    wallet = paid.loc[paid["method"] == "wallet", "delay"].to_numpy(dtype=float)
    top = max(float(np.nanmax(card)) if card.size else 1.0, 1.0)
    bins = np.linspace(0, np.ceil(top), int(np.ceil(top)) * 2 + 1)
    ax.hist(
        [card, wallet],
        bins=bins,
        stacked=True,
        color=[REFUND_COLORS["original"], REFUND_COLORS["wallet"]],
        label=[f"original method (n={card.size:,})", f"wallet (n={wallet.size:,})"],
    )
    if card.size:
        med = float(np.median(card))
        ax.axvline(med, color="k", ls="--", lw=1)
        ax.text(med, ax.get_ylim()[1] * 0.92, f" card median {med:.1f} bd", fontsize=8)
    ax.set_xlabel("refund delay (business days)")
    ax.set_ylabel("refunds")
    ax.set_title("Refund delays (refunds and dispute awards)")
    ax.legend(fontsize=8)


def _state(ax, ts: pd.DataFrame, warmup_days: float) -> None:
    shade_warmup(ax, ts, warmup_days)
    if "inventory_accuracy" in ts:
        ax.plot(ts["date"], 100 * ts["inventory_accuracy"], color="k", label="stock records accurate (%)")
    if "inventory_accuracy_weighted" in ts:
        ax.plot(
            ts["date"],
            100 * ts["inventory_accuracy_weighted"],
            color="k",
            ls=":",
            label="weighted by demand (%)",
        )
    ax.set_ylabel("% of SKU records")
    ax.set_ylim(0, 100)
    ax.set_title("Stock record accuracy (end of day) and queue waits")
    ax.tick_params(axis="x", labelrotation=30)
    ax2 = ax.twinx()
    for name, color in QUEUE_COLORS.items():
        col = f"{name}_mean_wait_hours"
        if col in ts:
            label = name.replace("_", " ")
            ax2.plot(ts["date"], 60 * ts[col], color=color, lw=1, label=f"{label} mean wait (min)")
    ax2.set_ylabel("mean wait that day (minutes)")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")


def refund_delays(orders: pd.DataFrame) -> pd.DataFrame:
    """Every refund paid, as the refund KPIs count them: cancellation refunds and dispute awards.

    Returns:
        Columns ``method`` ("original" or "wallet"), ``delay`` (business days on the original
        method, days to the wallet) and ``kind`` ("cancellation" or "dispute award").
    """
    parts = []
    for kind, method, delay in (
        ("cancellation", "refund_method", "refund_delay_bdays"),
        ("dispute award", "dispute_refund_method", "dispute_refund_delay_bdays"),
    ):
        paid = orders[orders[method].notna()]
        parts.append(pd.DataFrame({"method": paid[method].astype(str), "delay": paid[delay], "kind": kind}))
    return pd.concat(parts, ignore_index=True)


def plot_daily(
    timeseries: pd.DataFrame,
    axes: Sequence[Axes] | None = None,
    *,
    warmup_days: float = 0.0,
    window_hours: tuple[float, float] | None = None,
) -> list[Axes]:
    """Three daily panels: orders placed and completed; cancellations by initiator; queue lengths.

    Args:
        timeseries: The run's ``timeseries`` frame (one row per simulated day).
        axes: Three Axes to draw on (sharing their x axis reads best); a new figure when None.
        warmup_days: Shaded as the warm-up (days).
        window_hours: The KPI window; days after it are hatched as the cooldown.

    Returns:
        The three Axes, top to bottom.

    Raises:
        ValueError: ``axes`` is not three Axes.
    """
    if axes is None:
        axes = Figure(figsize=(11, 8), layout="constrained").subplots(3, 1, sharex=True)
    axes = list(axes)
    if len(axes) != 3:
        raise ValueError(f"plot_daily draws three panels: give three Axes (got {len(axes)})")
    ts = timeseries
    panels: list[tuple[str, str, list[tuple[str, str, str]]]] = [
        (
            "Orders per day",
            "orders / day",
            [("orders_placed", "placed", "0.2"), ("completed", "completed", "#56B4E9")],
        ),
        (
            "Cancellations per day, by initiator (day of cancellation)",
            "orders cancelled / day",
            [(f"cancelled_{i}", f"by {i}", c) for i, c in INITIATOR_COLORS.items()],
        ),
        (
            "Queue lengths at midnight",
            "requests waiting",
            [(f"{q}_queue", q.replace("_", " "), c) for q, c in QUEUE_COLORS.items()],
        ),
    ]
    for k, (ax, (title, ylabel, series)) in enumerate(zip(axes, panels, strict=True)):
        shade_warmup(ax, ts, warmup_days)
        shade_cooldown(ax, ts, window_hours)
        for column, label, color in series:
            if column in ts:
                values = ts[column]
                if k == 2:  # snapshots: a step per day, and the peak, as most days read zero
                    label = f"{label} (max {values.max():,.0f})"
                ax.plot(
                    ts["date"],
                    values,
                    color=color,
                    lw=1.4,
                    label=label,
                    drawstyle="steps-mid" if k == 2 else "default",
                )
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel(ylabel)
        # Headroom for the legend above the lines.
        ax.set_ylim(0, max([1.0] + [np.nanmax(line.get_ydata()) for line in ax.get_lines()]) * 1.3)
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        # Name the shaded spans once, in the top panel.
        keep = [
            i for i, lab in enumerate(labels) if k == 0 or lab not in ("warm-up", "cooldown (not in KPIs)")
        ]
        ax.legend(
            [handles[i] for i in keep], [labels[i] for i in keep], fontsize=8, loc="upper left", ncols=5
        )
    axes[2].yaxis.set_major_locator(MaxNLocator(integer=True))  # queue lengths are whole requests
    axes[-1].tick_params(axis="x", labelrotation=30)
    return axes


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
    ax.axvline(suggestion.days, color="k", lw=1.6, label=f"suggested warm-up: {suggestion.days} d")
    label = _WARMUP_LABELS.get(column, column.replace("_", " "))
    ax.set_xlabel("day of run")
    ax.set_ylabel(label)
    ax.set_title(f"Warm-up: {label.split(' (')[0]}, {n} pilot replication{'s' if n != 1 else ''}")
    ax.set_xlim(0, days[-1] if days.size else 1)
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(mean))) if mean.notna().any() else 0.0)
    ax.legend(loc="best", fontsize=8)
    return ax


def warmup_figure(suggestion: WarmupSuggestion, columns: Sequence[str]) -> Figure:
    """One Welch plot (:func:`plot_warmup`) per series in ``columns``, stacked."""
    window = min(7, len(suggestion.mean) // 4)
    fig = Figure(figsize=(10, 3.6 * len(columns)), layout="constrained")
    for ax, column in zip(fig.subplots(len(columns), 1, squeeze=False)[:, 0], columns, strict=True):
        plot_warmup(suggestion, column, window=window, ax=ax)
    return fig
