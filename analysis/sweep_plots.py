"""Figures of a sweep, drawn from the tidy frames of :mod:`analysis.sweeps`: KPI response curves
over a varied key with confidence bands, a heatmap over two varied keys, and a forest plot of
paired strategy differences.

Every function draws on the Axes it is given (a new ``matplotlib.figure.Figure``, no pyplot
state, when it is not) and returns them. Data stay in the KPI's own units (shares as fractions),
so what is drawn can be checked against the frame; axes show shares as percentages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from analysis.plots import PALETTE
from simcore.results.registry import kpi as registered_kpi

#: Columns of ``summarize`` and ``compare`` frames that are not varied keys.
_RESULT_COLUMNS = frozenset(
    {"cell_id", "strategy", "kpi", "mean", "ci_low", "ci_high", "n", "diff_mean", "crn_factor"}
)
#: Share KPIs (rates, shares, accuracy, utilisation): fractions, drawn as percentages.

#: Default KPIs of a forest plot: the cancellation and dispute rates (all shares: one x axis).
FOREST_KPIS = (
    "cancellation_rate",
    "cancellation_rate_by_initiator.buyer",
    "cancellation_rate_by_initiator.seller",
    "cancellation_rate_by_initiator.system",
    "cancellation_rate_by_reason.out_of_stock",
    "dispute_rate",
)


def kpi_unit(kpi: str) -> str:
    """The unit of a flattened KPI name, from the KPI registry (``simcore kpis``): "share",
    "business days", "days", "hours", "USD" or "count"; "" for a name the registry does not
    know (a store written by another version)."""
    try:
        return registered_kpi(kpi).unit
    except KeyError:
        return ""


def kpi_label(kpi: str) -> str:
    """A flattened KPI name for people: ``cancellation_rate_by_initiator.seller`` ->
    "cancellation rate by initiator: seller"."""
    head, _, rest = kpi.partition(".")
    label = head.replace("_", " ").replace(" bdays", "")
    return f"{label}: {rest.replace('_', ' ')}" if rest else label


def varied_keys(frame: pd.DataFrame) -> list[str]:
    """The varied keys (dotted scenario keys) among the columns of a sweep result frame."""
    return [c for c in frame.columns if c not in _RESULT_COLUMNS]


def strategy_colors(strategies: Sequence[str]) -> dict[str, str]:
    """One colour-blind-safe colour per strategy, in the order given (the palette repeats after
    eight)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(strategies)}


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    return ax if ax is not None else Figure(figsize=size, layout="constrained").subplots()


def _select(frame: pd.DataFrame, kpi: str, where: Mapping[str, Any] | None) -> pd.DataFrame:
    if kpi not in set(frame["kpi"]):
        known = ", ".join(sorted(set(frame["kpi"]))[:6])
        raise KeyError(f"KPI {kpi!r} is not in the frame (it has e.g. {known}, ...)")
    rows = frame[frame["kpi"] == kpi]
    for key, value in (where or {}).items():
        if key not in rows:
            raise KeyError(f"where: {key!r} is not a varied key (have {varied_keys(rows)})")
        rows = rows[rows[key] == value]
        if rows.empty:
            raise ValueError(f"where: no cell has {key} = {value!r}")
    return rows


def _strategies(frame: pd.DataFrame, strategies: Sequence[str] | None) -> dict[str, str]:
    """The strategies to draw (those of ``strategies`` in the frame, default all) and their
    colours, taken from their place in ``strategies``: a strategy keeps its colour in every
    figure given the same list, the baseline's included."""
    present = list(dict.fromkeys(frame["strategy"]))
    colors = strategy_colors(strategies if strategies is not None else present)
    return {name: color for name, color in colors.items() if name in present}


def _fixed(rows: pd.DataFrame, keys: Sequence[str]) -> str:
    """The varied keys that hold a single value in ``rows``, as "key = value, ..."."""
    return ", ".join(f"{_short(k)} = {_value(rows[k].iloc[0])}" for k in keys if rows[k].nunique() == 1)


def _unit_axis(axis, unit: str) -> None:
    if unit == "share":
        axis.set_major_formatter(PercentFormatter(1.0))


def plot_response(
    summary: pd.DataFrame,
    kpi: str,
    x: str | None = None,
    ax: Axes | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    strategies: Sequence[str] | None = None,
) -> Axes:
    """How a KPI responds to one varied key: one line per strategy with its confidence band.

    Other varied keys must take one value for each value of ``x`` (as in a ``zip`` design, or
    after filtering with ``where``). For a grid over two keys, draw one panel per value of the
    other key (``where={"key": value}``) or use :func:`plot_heatmap`.

    Args:
        summary: From :func:`analysis.sweeps.summarize`.
        kpi: A flattened KPI name (``cancellation_rate``, ``refund_delay_bdays.mean``, ...).
        x: The varied key on the x axis; may be left out when only one key varies.
        ax: Axes to draw on; a new figure when None.
        where: ``{varied key: value}`` filters applied first.
        strategies: Strategies to draw, in this order (colours follow it); default all.

    Returns:
        The Axes: per strategy a line of means (gid ``mean:<strategy>``) and a band from
        ``ci_low`` to ``ci_high`` (gid ``ci:<strategy>``), in the KPI's units.

    Raises:
        KeyError: ``kpi``, ``x`` or a ``where`` key is not in ``summary``.
        ValueError: no key varies, ``x`` is needed but not given, or another key varies too.
    """
    rows = _select(summary, kpi, where)
    keys = varied_keys(rows)
    if x is None:
        if len(keys) != 1:
            what = "no key varies (compare strategies with plot_forest)" if not keys else f"{keys} vary"
            raise ValueError(f"plot_response: {what}; name the x key")
        x = keys[0]
    if x not in keys:
        raise KeyError(f"plot_response: {x!r} is not a varied key (have {keys})")
    others = [k for k in keys if k != x and rows.groupby(x)[k].nunique().max() > 1]
    if others:
        raise ValueError(
            f"plot_response: {others} also vary at each {x}; draw one panel per value with "
            f"where={{{others[0]!r}: value}} or use plot_heatmap"
        )
    ax = _axes(ax, (7, 4.5))
    levels = sorted(rows[x].unique())
    numeric = pd.api.types.is_numeric_dtype(rows[x]) and not pd.api.types.is_bool_dtype(rows[x])
    position = {v: (v if numeric else i) for i, v in enumerate(levels)}
    for name, color in _strategies(rows, strategies).items():
        arm = rows[rows["strategy"] == name].sort_values(x)
        xs = arm[x].map(position).to_numpy(dtype=float)
        ax.plot(xs, arm["mean"], marker="o", color=color, lw=1.8, label=name, gid=f"mean:{name}")
        band = ax.fill_between(xs, arm["ci_low"], arm["ci_high"], color=color, alpha=0.18, lw=0)
        band.set_gid(f"ci:{name}")
    if not numeric:
        ax.set_xticks(range(len(levels)), [_value(v) for v in levels])
    unit = kpi_unit(kpi)
    _unit_axis(ax.yaxis, unit)
    ax.set_xlabel(x)
    ax.set_ylabel(kpi_label(kpi) + ("" if unit in ("share", "count") else f" ({unit})"))
    n = sorted(set(rows["n"]))
    reps = f"{n[0]}" if len(n) == 1 else f"{n[0]}-{n[-1]}"
    fixed = _fixed(rows, [k for k in keys if k != x])
    ax.set_title(
        f"{kpi_label(kpi)}{f' ({fixed})' if fixed else ''}\n"
        f"mean and confidence band over {reps} replications",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(title="strategy", fontsize=8, title_fontsize=8)
    return ax


def plot_heatmap(
    summary: pd.DataFrame,
    kpi: str,
    x: str,
    y: str,
    strategy: str,
    ax: Axes | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """A KPI's mean over two varied keys for one strategy, each cell labelled with its mean and
    CI half-width (colour map cividis: readable with colour-vision deficiencies and in grey).

    Args:
        summary: From :func:`analysis.sweeps.summarize`.
        kpi: A flattened KPI name.
        x, y: The varied keys on the x and y axes.
        strategy: The strategy drawn.
        ax: Axes to draw on (a colour bar is added beside it); a new figure when None.
        where: Filters for any other varied key (each must then hold one value).
        vmin, vmax: Colour scale limits (give the same to compare strategies panel by panel).

    Returns:
        The Axes; its image holds the means, rows ``y`` ascending upwards, columns ``x``.

    Raises:
        KeyError: ``kpi``, ``x``, ``y`` or ``strategy`` is not in ``summary``.
        ValueError: another varied key takes several values.
    """
    rows = _select(summary, kpi, where)
    for key in (x, y):
        if key not in varied_keys(rows):
            raise KeyError(f"plot_heatmap: {key!r} is not a varied key (have {varied_keys(rows)})")
    if strategy not in set(rows["strategy"]):
        raise KeyError(f"plot_heatmap: no strategy {strategy!r} (have {sorted(set(rows['strategy']))})")
    rows = rows[rows["strategy"] == strategy]
    others = [k for k in varied_keys(rows) if k not in (x, y) and rows[k].nunique() > 1]
    if others:
        raise ValueError(f"plot_heatmap: {others} vary too; pick one value with where={{...}}")
    mean = rows.pivot_table(index=y, columns=x, values="mean", aggfunc="first", dropna=False)
    half = rows.assign(h=(rows["ci_high"] - rows["ci_low"]) / 2).pivot_table(
        index=y, columns=x, values="h", aggfunc="first", dropna=False
    )
    ax = _axes(ax, (7, 4.5))
    image = ax.imshow(mean.to_numpy(), cmap="cividis", origin="lower", aspect="auto", vmin=vmin, vmax=vmax)
    unit = kpi_unit(kpi)
    show = (lambda v: f"{100 * v:.2f}%") if unit == "share" else (lambda v: f"{v:,.3g}")
    for (i, j), value in np.ndenumerate(mean.to_numpy()):
        if np.isnan(value):
            continue
        r, g, b, _ = image.cmap(image.norm(value))
        ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
        h = half.to_numpy()[i, j]
        text = show(value) + ("" if np.isnan(h) else f"\n± {show(h)}")
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color=ink)
    ax.set_xticks(range(mean.shape[1]), [_value(v) for v in mean.columns])
    ax.set_yticks(range(mean.shape[0]), [_value(v) for v in mean.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    bar = ax.figure.colorbar(image, ax=ax, label=kpi_label(kpi))
    _unit_axis(bar.ax.yaxis, unit)
    fixed = _fixed(rows, [k for k in varied_keys(rows) if k not in (x, y)])
    ax.set_title(
        f"{kpi_label(kpi)}: {strategy}{f' ({fixed})' if fixed else ''}\nmean ± confidence half-width",
        fontsize=10,
    )
    return ax


def plot_forest(
    comparison: pd.DataFrame,
    kpis: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    baseline: str = "the baseline",
    strategies: Sequence[str] | None = None,
) -> Axes:
    """Paired differences (strategy minus baseline) with their confidence intervals.

    One row per KPI and design cell; within a row, one point per strategy (filled when the
    interval excludes 0). The KPIs share one x axis, so they must share a unit: draw rates and,
    say, refund delays on separate Axes.

    Args:
        comparison: From :func:`analysis.sweeps.compare`.
        kpis: Flattened KPI names, top to bottom; default :data:`FOREST_KPIS` present.
        ax: Axes to draw on; a new figure, sized to the rows, when None.
        baseline: The baseline strategy's name, for the axis label.
        strategies: Strategies to draw, in this order; colours follow it, so pass the baseline
            too to colour each strategy as in :func:`plot_response`. Default all.

    Returns:
        The Axes: per strategy a set of error bars (gid ``ci:<strategy>``, from ``ci_low`` to
        ``ci_high``) and points at ``diff_mean`` (gid ``diff:<strategy>``), a row per KPI
        and cell (under a heading per KPI when there are several cells); shares in
        percentage points on the axis, fractions in the data.

    Raises:
        KeyError: a KPI is not in ``comparison``.
        ValueError: the KPIs have different units, or none is given or found.
    """
    if kpis is None:
        kpis = [k for k in FOREST_KPIS if k in set(comparison["kpi"])]
    if not kpis:
        raise ValueError("plot_forest: no KPIs to draw; name them with kpis=[...]")
    for kpi in kpis:
        _select(comparison, kpi, None)  # raises on unknown KPIs
    units = {kpi_unit(k) for k in kpis}
    if len(units) > 1:
        raise ValueError(
            f"plot_forest: KPIs in different units ({sorted(units)}); draw them on separate Axes"
        )
    keys = varied_keys(comparison)
    cells = (
        comparison[["cell_id", *keys]].drop_duplicates("cell_id").sort_values("cell_id").to_dict("records")
    )
    # With several cells, each KPI gets a heading row and one row per cell beneath it.
    grouped = len(cells) > 1
    rows: list[tuple[str, dict | None]] = []
    for kpi in kpis:
        rows += ([(kpi, None)] if grouped else []) + [(kpi, cell) for cell in cells]
    data_rows = [(r, kpi, cell) for r, (kpi, cell) in enumerate(rows) if cell is not None]
    ax = _axes(ax, (9, 1.6 + 0.3 * len(rows)))
    colors = _strategies(comparison, strategies)
    names = list(colors)
    step = 0.6 / max(len(names), 1)
    data = comparison.set_index(["kpi", "cell_id", "strategy"])
    for i, name in enumerate(names):
        offset = ((len(names) - 1) / 2 - i) * step  # the first strategy on top
        picked = [data.loc[(kpi, cell["cell_id"], name)] for _, kpi, cell in data_rows]
        ys = np.array([-r + offset for r, _, _ in data_rows])
        mid, lo, hi = (
            np.array([p[c] for p in picked], dtype=float) for c in ("diff_mean", "ci_low", "ci_high")
        )
        ax.hlines(ys, lo, hi, color=colors[name], lw=1.8, gid=f"ci:{name}")
        faces = [colors[name] if clear else "white" for clear in (lo > 0) | (hi < 0)]
        ax.scatter(mid, ys, s=30, zorder=3, facecolors=faces, edgecolors=colors[name], gid=f"diff:{name}")
        ax.plot([], [], "o", color=colors[name], label=name)  # a filled marker for the legend
    ax.axvline(0, color="k", lw=1)
    labels = []
    for r, (kpi, cell) in enumerate(rows):
        if cell is None:
            labels.append(kpi_label(kpi))
            if r:
                ax.axhline(-r + 0.5, color="0.8", lw=0.8)
        else:
            where = ", ".join(f"{_short(k)} = {_value(cell[k])}" for k in keys)
            labels.append(where if grouped else kpi_label(kpi))
    ax.set_yticks(-np.arange(len(rows)), labels, fontsize=8)
    if grouped:
        for tick, (_, cell) in zip(ax.get_yticklabels(), rows, strict=True):
            tick.set_fontweight("bold" if cell is None else "normal")
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    unit = units.pop()
    if unit == "share":
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, symbol=""))
        ax.set_xlabel(f"difference from {baseline} (percentage points)")
    else:
        ax.set_xlabel(f"difference from {baseline} ({unit})")
    ax.set_title(
        f"Paired differences from {baseline} with confidence intervals\n(filled: the interval excludes 0)",
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)
    # Outside the axes: points may fall anywhere inside.
    ax.legend(title="strategy", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def response_figure(
    summary: pd.DataFrame,
    kpi: str,
    x: str | None = None,
    *,
    strategies: Sequence[str] | None = None,
    max_panels: int = 6,
) -> Figure:
    """:func:`plot_response` for any design: one panel per combination of the other varied keys
    (for a grid over two keys, one per value of the second), sharing the y axis.

    Args:
        summary: From :func:`analysis.sweeps.summarize`.
        kpi: A flattened KPI name.
        x: The key on the x axis; default the varied key with the most values.
        strategies: Strategies to draw, in this order.
        max_panels: More panels than this is an error.

    Returns:
        The figure, its Axes left to right.

    Raises:
        ValueError: no key varies, or the other keys need more than ``max_panels`` panels.
    """
    keys = varied_keys(summary)
    if not keys:
        raise ValueError("response_figure: no key varies (compare strategies with plot_forest)")
    x = x or max(keys, key=lambda k: summary[k].nunique())
    rows = summary[summary["kpi"] == kpi]
    split = [k for k in keys if k != x and rows.groupby(x)[k].nunique().max() > 1]
    panels = rows[split].drop_duplicates().to_dict("records") if split else [{}]
    if len(panels) > max_panels:
        raise ValueError(
            f"response_figure: {len(panels)} panels (one per value of {split}); filter the summary"
        )
    fig = Figure(figsize=(7.5 if len(panels) == 1 else min(4.6 * len(panels), 14), 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, where in zip(axes, panels, strict=True):
        plot_response(summary, kpi, x, ax=ax, where=where, strategies=strategies)
    for ax in axes[1:]:  # said once, in the first panel
        ax.set_ylabel("")
        ax.get_legend().remove()
    return fig


def forest_figure(
    comparison: pd.DataFrame,
    kpis: Sequence[str],
    *,
    baseline: str = "the baseline",
    strategies: Sequence[str] | None = None,
) -> Figure:
    """:func:`plot_forest` for KPIs of several units: one panel per unit (the rates together,
    refund delays on their own, ...), each as tall as its rows.

    Returns:
        The figure, its Axes top to bottom in the order the units first appear in ``kpis``.
    """
    groups: dict[str, list[str]] = {}
    for kpi in kpis:
        groups.setdefault(kpi_unit(kpi), []).append(kpi)
    cells = comparison["cell_id"].nunique()
    heights = [len(g) * (cells + (cells > 1)) + 2 for g in groups.values()]
    fig = Figure(figsize=(10, 1 + 0.28 * sum(heights)), layout="constrained")
    axes = fig.subplots(len(groups), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, group in zip(axes, groups.values(), strict=True):
        plot_forest(comparison, group, ax=ax, baseline=baseline, strategies=strategies)
    for ax in axes[1:]:  # said once, in the first panel
        ax.set_title("")
        ax.get_legend().remove()
    return fig
