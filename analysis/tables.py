"""Tidy tables of KPIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

#: KPIs that are shares of something, shown as percentages.
_RATE_WORDS = ("rate", "share", "utilization", "accuracy")


def flatten_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested KPI dict -> flat ``{"queues.gateway.utilization": 0.05, ...}``."""
    flat: dict[str, Any] = {}
    for key, value in kpis.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_kpis(value, prefix=name + "."))
        else:
            flat[name] = value
    return flat


def _is_rate(name: str) -> bool:
    parts = name.split(".")
    return any(w in p for p in parts[:1] + parts[-1:] for w in _RATE_WORDS)


def _fmt(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):  # bool is an int too
        return f"{value:,}"
    if isinstance(value, float):
        if _is_rate(name):
            return f"{100 * value:.2f}%"
        if "seller_revenue_lost" in name or "gmv" in name:
            return f"${value:,.2f}"
        return f"{value:,.3f}"
    return str(value)


def kpi_table(kpis: Mapping[str, Any]) -> pd.DataFrame:
    """One row per KPI with its raw ``value`` and a human-readable ``shown`` string.

    Args:
        kpis: The ``kpis`` dict of a run.

    Returns:
        DataFrame with columns ``kpi``, ``value``, ``shown``.
    """
    flat = flatten_kpis(kpis)
    return pd.DataFrame(
        {
            "kpi": list(flat),
            "value": list(flat.values()),
            "shown": [_fmt(k, v) for k, v in flat.items()],
        }
    )
