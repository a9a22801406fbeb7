"""The figures of one run, one question each: who cancels and why, how long refunds take, how
disputes end, what happened day by day, and which path each order took.

Every function takes the run's frames (``orders``, ``timeseries``) or its KPIs, draws on the
Axes it is given (a new ``matplotlib.figure.Figure``, no pyplot state, when it is not) and
returns them. Counts cover every order unless ``window_hours`` (``scenario.kpi_window_hours``)
is given, in which case they cover the orders placed inside the KPI window, as the KPIs do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator, PercentFormatter

from analysis.plots import INITIATOR_COLORS, REFUND_COLORS, refund_delays
from analysis.tables import REASON_GROUPS
from simcore.model.vocabulary import REFUND_DISPUTE_REASONS

Window = tuple[float, float] | None

#: Dispute outcomes (Okabe-Ito vermillion, yellow, blue), and the grey of orders moving on.
OUTCOME_COLORS = {"full_refund": "#D55E00", "partial_refund": "#F0E442", "rejected": "#0072B2"}
_ON = "#BBBBBB"
#: Terminal states of the order-flow figure, top to bottom: a completed or open order charged
#: back counts as charged back; a lost parcel closes refunded.
OUTCOME_NAMES = (
    "completed",
    "charged back",
    "lost parcel refunded",
    "returned",
    "open",
    "cancelled by buyer",
    "cancelled by seller",
    "cancelled by system",
)
_FLOW_COLORS = {
    "completed": "0.35",
    "charged back": "#CC79A7",  # Okabe-Ito reddish purple and vermillion: apart from the initiators
    "lost parcel refunded": "#D55E00",
    "returned": "#F0E442",  # yellow: apart from the buyer's blue
    "open": "0.75",
    **{f"cancelled by {ini}": c for ini, c in INITIATOR_COLORS.items()},
}
#: Milestones of an order before its outcome, with the column recording each.
STEPS = {"placed": "placed_hour", "paid": "paid_at", "screened": "cleared_at", "shipped": "shipped_at"}
_LEFT_AT = {"placed": "unpaid", "paid": "in screening", "screened": "before shipment", "shipped": "shipped"}


def _in_window(orders: pd.DataFrame, window_hours: Window) -> pd.DataFrame:
    if window_hours is None:
        return orders
    placed = orders["placed_hour"]
    return orders[(placed >= window_hours[0]) & (placed < window_hours[1])]


def _scope(window_hours: Window) -> str:
    return "orders placed in the KPI window" if window_hours is not None else "orders of the whole run"


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    return ax if ax is not None else Figure(figsize=size, layout="constrained").subplots()


def _pct(part: float, whole: float, digits: int = 2) -> str:
    return f"{100 * part / whole:.{digits}f}%" if whole else "n/a"


def plot_cancellations(
    data: pd.DataFrame | Mapping[str, Any], ax: Axes | None = None, *, window_hours: Window = None
) -> Axes:
    """Cancellations as a tree: one bar per initiator (its total), then one per stated reason.

    Args:
        data: The ``orders`` frame, or a run's KPIs (``cancellations_by_reason`` and ``orders``,
            already limited to the KPI window).
        ax: Axes to draw on; a new figure when None.
        window_hours: With an orders frame: count only orders placed in ``[first, last)`` hours.

    Returns:
        The Axes. Bar widths are orders cancelled (gid ``initiator:<name>`` or ``reason:<name>``),
        labelled with the count and its share of all orders counted.
    """
    if isinstance(data, pd.DataFrame):
        orders = _in_window(data, window_hours)
        n, scope = len(orders), _scope(window_hours)
        by_reason = orders["cancel_reason"].value_counts()
    else:
        n, scope = int(data["orders"]), "orders in the KPI window"
        by_reason = pd.Series(data["cancellations_by_reason"], dtype=float)
    ax = _axes(ax, (10, 6.5))
    labels: list[str] = []
    bars: list[Rectangle] = []
    y = 0.0
    for ini, reasons in REASON_GROUPS.items():
        counts = sorted(((int(by_reason.get(r, 0)), r) for r in reasons), reverse=True)
        rows = [(sum(c for c, _ in counts), f"{ini}: all reasons", f"initiator:{ini}", 1.0, 0.8)]
        rows += [(c, f"{r.replace('_', ' ')}", f"reason:{r}", 0.45, 0.6) for c, r in counts]
        for count, label, gid, alpha, height in rows:
            (bar,) = ax.barh(y, count, height=height, color=INITIATOR_COLORS[ini], alpha=alpha)
            bar.set_gid(gid)
            bars.append(bar)
            ax.text(count, y, f" {count:,} ({_pct(count, n)})", va="center", fontsize=8)
            labels.append(label)
            y -= 1
        y -= 0.5  # a gap between initiators
    positions = [b.get_y() + b.get_height() / 2 for b in bars]
    ax.set_yticks(positions, labels, fontsize=9)
    for tick in ax.get_yticklabels():
        if tick.get_text().endswith("all reasons"):
            tick.set_fontweight("bold")
    total = int(sum(b.get_width() for b in bars if (b.get_gid() or "").startswith("initiator:")))
    ax.set_xlim(0, max(1.0, max(b.get_width() for b in bars)) * 1.3)
    ax.set_ylim(y + 1, 0.7)
    ax.set_xlabel("orders cancelled")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        f"Cancellations by initiator and stated reason\n{total:,} of {n:,} {scope} ({_pct(total, n)})"
    )
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_refund_delays(
    orders: pd.DataFrame,
    sla_bdays: float | None = 20.0,
    ax: Axes | None = None,
    *,
    patience_bdays: float | None = None,
    window_hours: Window = None,
) -> Axes:
    """Histogram of refund delays by method (stacked), their ECDF on a twin axis, the promise.

    Args:
        orders: The ``orders`` frame.
        sla_bdays: The promised refund time in business days, drawn as a line with the share of
            refunds inside it; 20 is AliExpress's "3-20 business days" (scenarios/baseline.yaml
            source [7]). None draws no line.
        ax: Axes to draw on (the ECDF goes on ``ax.twinx()``); a new figure when None.
        patience_bdays: Also mark when buyers count a refund as late
            (``buyers.trust.refund_patience_bdays``).
        window_hours: Count only orders placed in ``[first, last)`` hours.

    Returns:
        The histogram's Axes (bins one business day wide: original method, then wallet).
    """
    refunds = refund_delays(_in_window(orders, window_hours))
    ax = _axes(ax, (10, 5))
    delay = refunds["delay"].to_numpy(dtype=float)
    card = delay[refunds["method"].to_numpy() == "original"]
    wallet = delay[refunds["method"].to_numpy() == "wallet"]
    top = max(float(delay.max()) if delay.size else 1.0, (sla_bdays or 0) + 1, patience_bdays or 0)
    bins = np.arange(0.0, np.ceil(top) + 1.0).tolist()
    ax.hist(
        [card, wallet],
        bins=bins,
        stacked=True,
        color=[REFUND_COLORS["original"], REFUND_COLORS["wallet"]],
        edgecolor="white",
        linewidth=0.5,
        label=[f"original method (n={card.size:,})", f"wallet, in days (n={wallet.size:,})"],
    )
    ecdf = ax.twinx()
    if delay.size:
        x = np.sort(delay)
        ecdf.step(
            np.r_[0.0, x], np.r_[0.0, np.arange(1, x.size + 1) / x.size], where="post", color="k", lw=1.4
        )
        ecdf.lines[-1].set_label("cumulative share (right axis)")
    ecdf.set_ylim(0, 1.02)
    ecdf.yaxis.set_major_formatter(PercentFormatter(1.0))
    ecdf.set_ylabel("share of refunds paid by then")
    for limit, style, what in ((sla_bdays, "--", "promised"), (patience_bdays, ":", "buyers' patience")):
        if limit is not None:
            within = float((delay <= limit).mean()) if delay.size else float("nan")
            ax.axvline(
                limit,
                color="#D55E00",
                ls=style,
                lw=1.8,
                label=f"{what}: {limit:.3g} bd ({within:.1%} within)",
            )
    ax.set_xlim(0, bins[-1])
    ax.set_xlabel("refund delay (business days; wallet refunds in days)")
    ax.set_ylabel("refunds per business day")
    ax.set_title(f"Refund delays: {delay.size:,} refunds and dispute awards\non {_scope(window_hours)}")
    handles, names = ax.get_legend_handles_labels()
    more, more_names = ecdf.get_legend_handles_labels()
    ax.legend(handles + more, names + more_names, loc="center right", fontsize=8)
    return ax


def dispute_funnel(orders: pd.DataFrame) -> pd.DataFrame:
    """How far disputes went and where they ended.

    A dispute is opened and reviewed; refund disputes are decided there, the others go to
    negotiation with the seller and, if no agreement is reached, to platform intervention.

    Returns:
        One row per stage (``opened``, ``negotiation``, ``intervention``) with ``disputes``
        (those that reached it), one column per outcome decided there, ``went_on`` (reached the
        next stage) and ``unresolved`` (still open at the horizon: under review or negotiating
        for the first row, awaiting the ruling for the last).
    """
    d = orders[orders["dispute_reason"].notna()]
    stage, outcome = d["dispute_stage"].astype(object), d["dispute_outcome"].astype(object)
    escalated = d["dispute_escalated_at"].notna()
    refund = d["dispute_reason"].isin(list(REFUND_DISPUTE_REASONS))
    negotiated = ~refund & (stage.isin(["negotiation", "intervention"]) | escalated)
    rows = []
    for name, decided_at, went_on, unresolved in (
        ("opened", "review", negotiated, outcome.isna() & ~escalated),
        ("negotiation", "negotiation", escalated, pd.Series(False, index=d.index)),
        ("intervention", "intervention", pd.Series(False, index=d.index), outcome.isna() & escalated),
    ):
        here = outcome[stage == decided_at]
        row: dict[str, Any] = {"stage": name, **{o: int((here == o).sum()) for o in OUTCOME_COLORS}}
        row.update(went_on=int(went_on.sum()), unresolved=int(unresolved.sum()))
        row["disputes"] = sum(row[k] for k in (*OUTCOME_COLORS, "went_on", "unresolved"))
        rows.append(row)
    return pd.DataFrame(rows)[["stage", "disputes", *OUTCOME_COLORS, "went_on", "unresolved"]]


def plot_dispute_funnel(orders: pd.DataFrame, ax: Axes | None = None, *, window_hours: Window = None) -> Axes:
    """The dispute funnel (opened -> negotiated -> intervened), each stage split by outcome.

    Args:
        orders: The ``orders`` frame.
        ax: Axes to draw on; a new figure when None.
        window_hours: Count only orders placed in ``[first, last)`` hours.

    Returns:
        The Axes: one stacked bar per stage of :func:`dispute_funnel` (segment gids
        ``<stage>:<part>``); the legend gives each outcome's share of resolved disputes.
    """
    orders = _in_window(orders, window_hours)
    funnel = dispute_funnel(orders)
    ax = _axes(ax, (10, 4.2))
    parts = {**OUTCOME_COLORS, "went_on": _ON, "unresolved": "white"}
    resolved = int(funnel[list(OUTCOME_COLORS)].to_numpy().sum())
    shares = {o: funnel[o].sum() / resolved if resolved else float("nan") for o in OUTCOME_COLORS}
    names = {
        **{o: f"{o.replace('_', ' ')} ({shares[o]:.0%} of resolved)" for o in OUTCOME_COLORS},
        "went_on": "went on to the next stage",
        "unresolved": "unresolved at the horizon",
    }
    stage_names = ["opened, reviewed", "negotiation with the seller", "platform intervention"]
    first = int(funnel["disputes"].iloc[0])
    for y, row in enumerate(funnel.itertuples(index=False)):
        left = 0.0
        for part, color in parts.items():
            width = getattr(row, part)
            bar = ax.barh(
                y,
                width,
                left=left,
                color=color,
                edgecolor="0.3",
                lw=0.6,
                height=0.6,
                hatch="///" if part == "unresolved" else None,
                label=names[part] if y == 0 else None,
            )
            bar[0].set_gid(f"{row.stage}:{part}")
            if width >= 0.035 * max(first, 1):  # room for the number inside
                ax.text(
                    left + width / 2,
                    y,
                    f"{width:,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if part in ("full_refund", "rejected") else "black",
                )
            left += width
        of = (
            f"{_pct(row.disputes, len(orders))} of orders"
            if y == 0
            else f"{_pct(row.disputes, first, 1)} of opened"
        )
        ax.text(left, y, f"  {row.disputes:,} ({of})", va="center", fontsize=9)
    ax.set_yticks(range(3), stage_names)
    ax.set_ylim(2.6, -0.6)
    ax.set_xlim(0, max(first, 1) * 1.35)
    ax.set_xlabel("disputes")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        f"Disputes: how far they went and how they ended\n{first:,} opened on {_scope(window_hours)}"
    )
    ax.legend(loc="lower right", fontsize=8)
    return ax


def order_paths(orders: pd.DataFrame, window_hours: Window = None) -> pd.DataFrame:
    """How many orders took each path: the last milestone reached, then the outcome.

    Milestones: ``placed``, ``paid`` (``paid_at``), ``screened`` (``cleared_at``: passed the
    fraud, prohibited-item and address checks), ``shipped`` (``shipped_at``); each implies the
    ones before it. Outcomes: ``completed``, ``charged back`` (fraud that shipped, completed or
    not), ``lost parcel refunded``, ``returned`` (refused or sent back by the buyer), ``open``
    (still in progress at the horizon) and ``cancelled by <initiator>``.

    Returns:
        Columns ``step``, ``outcome``, ``orders`` (paths taken by no order left out); the
        ``orders`` column sums to the number of orders counted.
    """
    w = _in_window(orders, window_hours)
    reached = np.ones(len(w), dtype=bool)
    last = np.zeros(len(w), dtype=np.int64)
    for column in list(STEPS.values())[1:]:
        reached &= w[column].notna().to_numpy()
        last += reached
    status = w["status"].astype(str).to_numpy(dtype=str)
    initiator = w["cancel_initiator"].astype(object).fillna("").to_numpy(dtype=str)
    outcome = np.where(status == "cancelled", np.char.add("cancelled by ", initiator), status)
    outcome = np.where(status == "refunded", "lost parcel refunded", outcome)
    outcome = np.where(w["charged_back_at"].notna().to_numpy(), "charged back", outcome)
    paths = pd.DataFrame({"step": np.array(list(STEPS))[last], "outcome": outcome})
    counts = paths.value_counts().rename("orders").reset_index()
    counts["step"] = pd.Categorical(counts["step"], categories=list(STEPS), ordered=True)
    counts["outcome"] = pd.Categorical(counts["outcome"], categories=list(OUTCOME_NAMES), ordered=True)
    return counts.sort_values(["step", "outcome"], ignore_index=True)


def _band(ax: Axes, x0: float, y0: float, x1: float, y1: float, height: float, **style) -> PathPatch:
    """A flow band of constant ``height`` whose top edge runs from (x0, y0) to (x1, y1) as an S."""
    xm = (x0 + x1) / 2
    curve = [Path.CURVE4] * 3
    verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 - height)]
    verts += [(xm, y1 - height), (xm, y0 - height), (x0, y0 - height), (x0, y0)]
    codes = [Path.MOVETO, *curve, Path.LINETO, *curve, Path.CLOSEPOLY]
    band = PathPatch(Path(verts, codes), lw=0, **style)
    ax.add_patch(band)
    return band


def plot_order_flow(orders: pd.DataFrame, ax: Axes | None = None, *, window_hours: Window = None) -> Axes:
    """The paths orders took, as a flow diagram drawn to scale (heights are orders).

    Orders flow left to right through the milestones of :func:`order_paths` (grey columns);
    at each milestone the orders that go no further peel off downwards, coloured by outcome,
    into the outcome column on the right (completed, charged back, lost parcel refunded,
    returned, still open, cancelled by buyer, seller or system), whose labels say how many ended there and at
    which step.

    Args:
        orders: The ``orders`` frame.
        ax: Axes to draw on; a new figure when None.
        window_hours: Count only orders placed in ``[first, last)`` hours.

    Returns:
        The Axes. Milestone columns have gid ``step:<name>``, outcome columns ``outcome:<name>``
        and bands ``path:<step>:<outcome>``; each column's height is its number of orders.
    """
    paths = order_paths(orders, window_hours)
    n = int(paths["orders"].sum())
    ax = _axes(ax, (12, 6))
    ax.set_axis_off()
    title = f"Order flow: {n:,} {_scope(window_hours)}, from placement to outcome"
    ax.set_title(title)
    if n == 0:
        ax.text(0.5, 0.5, "no orders", ha="center", transform=ax.transAxes)
        return ax
    steps, width, gap = list(STEPS), 0.1, 0.06 * n
    code = paths["step"].cat.codes.to_numpy()
    reach = [int(paths["orders"][code >= k].sum()) for k in range(len(steps))] + [0]
    x_end = float(len(steps))
    totals = paths.groupby("outcome", observed=True)["orders"].sum()
    # Outcome columns: completed level with the main flow, the others below it, spaced.
    top, y = {}, float(n)
    for name in OUTCOME_NAMES:
        if totals.get(name, 0):
            top[name] = y
            ax.add_patch(
                Rectangle(
                    (x_end, y - totals[name]),
                    width,
                    totals[name],
                    color=_FLOW_COLORS[name],
                    gid=f"outcome:{name}",
                )
            )
            y -= totals[name] + gap
    filled = dict.fromkeys(top, 0.0)
    for k, step in enumerate(steps):
        x = float(k)
        ax.add_patch(Rectangle((x, n - reach[k]), width, reach[k], color="0.3", gid=f"step:{step}"))
        share = f" ({_pct(reach[k], n)})" if k else ""
        ax.text(x + width / 2, n * 1.02, f"{step}\n{reach[k]:,}{share}", ha="center", va="bottom", fontsize=9)
        if reach[k + 1]:
            _band(ax, x + width, n, x + 1, n, reach[k + 1], color="0.8", gid=f"path:{step}:{steps[k + 1]}")
        y = n - reach[k + 1]
        for row in paths[paths["step"] == step].itertuples(index=False):
            name = str(row.outcome)
            # Later steps arrive at the top of an outcome column: their bands start higher up.
            y_in = top[name] - (totals[name] - filled[name] - row.orders)
            _band(
                ax,
                x + width,
                y,
                x_end,
                y_in,
                row.orders,
                color=_FLOW_COLORS[name],
                alpha=0.55,
                gid=f"path:{step}:{name}",
            )
            filled[name] += row.orders
            y -= row.orders
    # Outcome labels beside their columns, pushed apart where columns are thin; a leader line in
    # the outcome's colour ties each label to its column.
    sep, last = 0.1 * n, float("inf")
    x_label = x_end + width + 0.14
    for name, y_top in top.items():
        middle = y_top - totals[name] / 2
        label_y = min(middle, last - sep)
        last = label_y
        ax.plot(
            [x_end + width, x_end + width + 0.05, x_label - 0.02],
            [middle, label_y, label_y],
            color=_FLOW_COLORS[name],
            lw=1.5,
            solid_capstyle="butt",
            gid=f"leader:{name}",
        )
        via = paths[paths["outcome"] == name]
        detail = ", ".join(f"{r.orders:,} {_LEFT_AT[str(r.step)]}" for r in via.itertuples(index=False))
        ax.text(
            x_label,
            label_y,
            f"{name}: {totals[name]:,} ({_pct(totals[name], n)})",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            color="0.1",
        )
        ax.text(x_label, label_y, detail, va="top", fontsize=8, color="0.3")
    ax.set_xlim(-0.2, x_end + 2.0)
    ax.set_ylim(min(y, last - sep), n * 1.13)
    return ax
