"""The seller's stock practice: the reorder rule, and what triggers a stock count.

**Reorder rule** (:class:`ReorderRule`): ``levels(units_per_day)`` returns each SKU's reorder
point and reorder quantity (whole units, point >= 0, quantity >= 1) from its expected demand
(units a day, an array over the SKUs). A seller reorders a SKU's quantity when the stock its
record shows (less reserved units) is at or below the point and nothing is on order
(:class:`simcore.model.inventory.Restocker`); without ``low_stock_alert`` the point is 0 (the
seller sees only an empty listing). Asked once, when the run starts (the start's stock is where
the rule keeps it: :mod:`simcore.model.prehistory`). Built-in kinds: ``days_of_cover`` (the
strategy's ``reorder_point_days`` and ``reorder_quantity_days`` of the SKU's demand, at least
``reorder_point`` and ``reorder_quantity`` units: the default) and ``fixed`` (params ``point``
and ``quantity``: every SKU alike, whatever its demand).

**Count trigger** (:class:`CountTrigger`): besides the periodic counts
(``sellers.strategy.sync_interval_days``), ``count_after_stockout(days_since_count)`` is asked
when a seller finds a SKU short of an order (a true ``out_of_stock``), with the days since the
seller last counted; True: the seller counts all its stock now (records reset to the shelf,
reorders where the count finds stock low). Built-in kinds: ``periodic`` (never: the default)
and ``after_stockout`` (param ``min_gap_days``: unless the seller counted more recently).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from simcore.policies.loading import build
from simcore.scenario.schema import SellerStrategy


class ReorderRule(Protocol):
    """What a reorder rule provides."""

    def levels(self, units_per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each SKU's (reorder point, reorder quantity) in units, from its demand (units/day)."""
        ...


class DaysOfCover:
    """Reorder point and quantity as days of the SKU's expected demand, with floors in units
    (``days_of_cover``, the default: the strategy's four keys)."""

    def __init__(self, point_days: float, quantity_days: float, point: int, quantity: int):
        self.point_days, self.quantity_days = point_days, quantity_days
        self.point, self.quantity = point, quantity

    def levels(self, units_per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        point = np.maximum(np.ceil(units_per_day * self.point_days), self.point)
        quantity = np.maximum(np.ceil(units_per_day * self.quantity_days), self.quantity)
        return point.astype(np.int64), quantity.astype(np.int64)


class Fixed:
    """Every SKU reorders ``quantity`` units at ``point``, whatever its demand (``fixed``)."""

    def __init__(self, point: int, quantity: int):
        self.point, self.quantity = int(point), int(quantity)

    def levels(self, units_per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(units_per_day)
        return np.full(n, self.point, dtype=np.int64), np.full(n, self.quantity, dtype=np.int64)


class CountTrigger(Protocol):
    """What a count trigger provides."""

    def count_after_stockout(self, days_since_count: float) -> bool:
        """Whether a seller who just found a SKU short counts all its stock now."""
        ...


class Periodic:
    """Counts on the schedule only (``periodic``, the default): never asked."""

    periodic = True

    def count_after_stockout(self, days_since_count: float) -> bool:
        return False


class AfterStockout:
    """A count after a stock-out, unless the seller counted within ``min_gap_days``
    (``after_stockout``)."""

    periodic = False

    def __init__(self, min_gap_days: float = 7.0):
        if not min_gap_days >= 0.0:
            raise ValueError(f"min_gap_days must be >= 0 (got {min_gap_days})")
        self.min_gap_days = float(min_gap_days)

    def count_after_stockout(self, days_since_count: float) -> bool:
        return days_since_count >= self.min_gap_days


def reorder_rule(s: SellerStrategy) -> ReorderRule:
    """The rule ``sellers.strategy.reorder_rule`` names (``days_of_cover`` reads the strategy's
    four keys)."""

    def days_of_cover() -> DaysOfCover:
        return DaysOfCover(s.reorder_point_days, s.reorder_quantity_days, s.reorder_point, s.reorder_quantity)

    builtins: dict[str, Callable[..., ReorderRule]] = {"days_of_cover": days_of_cover, "fixed": Fixed}
    policy: ReorderRule = build(s.reorder_rule, builtins)
    return policy


def count_trigger(s: SellerStrategy) -> CountTrigger:
    """The trigger ``sellers.strategy.count_trigger`` names."""
    policy: CountTrigger = build(s.count_trigger, {"periodic": Periodic, "after_stockout": AfterStockout})
    return policy
