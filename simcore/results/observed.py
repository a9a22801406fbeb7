"""KPIs of an observed orders table (a marketplace's own export), computed by the simulator's
own KPI code, with bootstrap standard errors: calibration targets from data.

The table holds one row per order with simcore's order columns (``simcore.model.columns``), or
other names mapped to them. Only the KPIs an orders table can carry are computed, each only when
the columns it reads are there (:data:`NEEDS`): a KPI whose columns are missing is refused, not
computed from blanks. The window is a pair of dates; orders placed in it count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from simcore.model.columns import ORDER_COLUMNS
from simcore.results.kpis import KPI_COLUMNS, compute_kpis, flatten_kpis

#: KPI (or KPI family, ending with ``.``) -> the order columns it reads, besides ``placed_at``.
NEEDS: dict[str, tuple[str, ...]] = {
    "orders": (),
    "completed_rate": ("status",),
    "open_rate": ("status",),
    "cancellation_rate": ("status",),
    "refunded_rate": ("status",),
    "returned_rate": ("status",),
    "cancellation_rate_by_initiator.": ("cancel_initiator",),
    "cancellation_rate_by_reason.": ("cancel_reason",),
    "cancellations_by_reason.": ("cancel_reason",),
    "payment_failure_rate": ("cancel_reason",),
    "dispute_rate": ("dispute_reason",),
    "refund_delay_bdays.": ("refund_delay_bdays", "refund_method", "status"),
}
#: Each order column's kind (simcore.model.columns): a column the table lacks is read blank as
#: a run's frame holds "none" for it (the KPIs that read it are refused anyway).
_KIND = {c.name: c.kind for c in ORDER_COLUMNS}


def needs(name: str) -> tuple[str, ...] | None:
    """The columns KPI ``name`` reads, or None when an orders table cannot give it."""
    if name in NEEDS:
        return NEEDS[name]
    family = next((k for k in NEEDS if k.endswith(".") and name.startswith(k)), None)
    return None if family is None else NEEDS[family]


def read_orders(
    path: str | Path,
    columns: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """An observed orders table from CSV or Parquet, its columns renamed by ``columns`` (their
    name -> simcore's) and their values by ``values`` (simcore's column -> {their value:
    simcore's}, e.g. ``status: {canceled: cancelled}``), ``placed_at`` parsed as timestamps.

    Raises:
        ValueError: the file cannot be read, or has no ``placed_at`` once renamed.
    """
    path = Path(path)
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as exc:
        raise ValueError(f"cannot read {path} ({type(exc).__name__}: {exc})") from None
    frame = frame.rename(columns=dict(columns or {}))
    for col, mapping in (values or {}).items():
        if col in frame:
            frame[col] = frame[col].astype(object).replace(dict(mapping))
    if "placed_at" not in frame:
        raise ValueError(f"{path}: no placed_at column (map yours with columns: {{your_name: placed_at}})")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"])
    return frame


def observed_kpis(
    orders: pd.DataFrame, window: tuple[dt.date, dt.date], names: Sequence[str]
) -> dict[str, float]:
    """KPIs ``names`` of the orders placed in ``window`` ([first day, last day)), by the same
    code as a run's (:func:`simcore.results.kpis.compute_kpis`).

    Raises:
        ValueError: a KPI an orders table cannot give, or whose columns are missing.
    """
    problems = []
    for name in names:
        cols = needs(name)
        if cols is None:
            problems.append(f"{name}: not computable from an orders table (computable: {', '.join(NEEDS)})")
        elif missing := [c for c in cols if c not in orders]:
            problems.append(f"{name}: needs the column(s) {', '.join(missing)}")
    if problems:
        raise ValueError("; ".join(problems))
    start = pd.Timestamp(window[0])
    hours = ((orders["placed_at"] - start) / pd.Timedelta(hours=1)).to_numpy(float)
    span = (pd.Timestamp(window[1]) - start) / pd.Timedelta(hours=1)
    frame = pd.DataFrame({"placed_hour": hours})
    n = len(orders)
    for col in KPI_COLUMNS:
        if col == "placed_hour":
            continue
        if col in orders:
            values = orders[col]
            # Text as categories, as a run's frame holds it: compared ~5x faster (the bootstrap).
            frame[col] = values.astype("category") if values.dtype == object else values.to_numpy()
        else:  # blank, as a run's frame holds "none" for the column's kind
            kind = _KIND[col]
            if kind in ("id", "count"):
                frame[col] = np.arange(n)
            elif kind == "flag":
                frame[col] = np.zeros(n, dtype=bool)
            elif kind == "time":
                frame[col] = pd.NaT
            elif kind == "code":
                frame[col] = pd.Categorical([None] * n)
            else:  # usd, number
                frame[col] = np.full(n, np.nan)
    daily = pd.DataFrame({"day": [], "inventory_accuracy": [], "inventory_accuracy_weighted": []})
    kpis = compute_kpis(
        frame,
        daily,
        {},
        (0.0, float(span)),
        lost_sales=0,
        forgone=0,
        churned_at=None,
        warnings=0,
        suspensions=0,
        follow_up_hours=0.0,
        horizon_hours=float(span),
    )
    flat = flatten_kpis(kpis)
    return {name: (np.nan if flat.get(name) is None else float(flat[name])) for name in names}


def observed_targets(
    orders: pd.DataFrame,
    window: tuple[dt.date, dt.date],
    names: Sequence[str],
    resamples: int = 100,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Each KPI's observed value and its standard error: the sd of the KPI over ``resamples``
    bootstrap resamples of the window's days (whole days of orders drawn with replacement,
    seeded). Days, not orders: orders of one day share its stock, queues and weekday, so
    resampling orders one by one would understate how much a window's KPIs vary. Dependence
    longer than a day (a seller's stock records, a slow queue) is still not in it: say it in the
    target's discrepancy.

    Raises:
        ValueError: as :func:`observed_kpis`; or fewer than 30 orders, or 2 days, in the window.
    """
    start, end = pd.Timestamp(window[0]), pd.Timestamp(window[1])
    inside = orders[(orders["placed_at"] >= start) & (orders["placed_at"] < end)].reset_index(drop=True)
    for col in inside.columns:  # once, not at every resample
        if inside[col].dtype == object:
            inside[col] = inside[col].astype("category")
    first, last = window
    if len(inside) < 30:
        raise ValueError(f"{len(inside)} orders placed in the window {first} to {last}: too few (< 30)")
    value = observed_kpis(inside, window, names)
    # Each day's rows, as positions in the window's table.
    day = ((inside["placed_at"] - start) // pd.Timedelta(days=1)).to_numpy()
    days = [np.flatnonzero(day == d) for d in range(int((end - start) / pd.Timedelta(days=1)))]
    if len(days) < 2:
        raise ValueError(f"the window {first} to {last} holds {len(days)} day: a bootstrap by days needs 2")
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(resamples):
        rows = np.concatenate([days[d] for d in rng.integers(0, len(days), len(days))])
        again = observed_kpis(inside.iloc[rows], window, names)
        boot.append([again[name] for name in names])
    sd = np.nanstd(np.array(boot), axis=0, ddof=1)
    return {name: (value[name], float(sd[i])) for i, name in enumerate(names)}
