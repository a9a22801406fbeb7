"""Sellers' standing (simcore/model/standing.py): the edge of ``platform.penalties.min_orders``.

The schema (simcore/scenario/schema/platform.py, Penalties) says a seller is judged on its
cancellation rate once it has ``min_orders`` cleared orders in the window: exactly
``min_orders`` is enough, one fewer is not.

- Tier 1, on :class:`SellerStanding` alone with hand-made event hours: the warning and, after
  the grace period, the suspension, at literal hours.
- Tier 1, end to end: one run with penalties out of reach gives every order's clearance and
  cancellation hour (nothing changes until a first warning, and a warning changes nothing
  but the log); counted by hand at each daily review, they say on which day the seller's rate
  first crosses the warning line and how many orders it has then. Run again with
  ``min_orders`` set to that count: warned that very day; set one higher: not that day.
"""

from __future__ import annotations

import pandas as pd
import pytest

from simcore.model.standing import SellerStanding
from simcore.model.world import World
from simcore.results.collect import collect
from simcore.scenario.schema import Penalties, SellerRating
from tests.conftest import quiet

DAY = 24.0
#: Warn at a rate of 4%, suspend at 8%, after 2 days of grace; rulings out of reach; bare rates
#: (no confidence test) and no long window, so min_orders alone decides who is judged.
LINES = {
    "confidence": None,
    "long_window_days": None,
    "window_days": 30.0,
    "warn_cancel_rate": 0.04,
    "suspend_cancel_rate": 0.08,
    "grace_days": 2.0,
    "warn_rulings": 10**6,
    "suspend_rulings": 10**6,
    "suspension_days": None,
}

#: (min_orders, cancellations): the rate at exactly min_orders cleared, by hand, is over both
#: lines (1/1 = 1, 1/5 = 0.2, 2/20 = 0.1, 4/50 = 0.08 exactly the suspension line).
EDGES = [(1, 1), (5, 1), (20, 2), (50, 4)]


def standing(min_orders: int) -> SellerStanding:
    return SellerStanding(SellerRating(), Penalties(min_orders=min_orders, **LINES), n_sellers=2)


@pytest.mark.trace
@pytest.mark.parametrize(("min_orders", "cancelled"), EDGES)
def test_exactly_min_orders_is_judged_one_fewer_is_not(min_orders, cancelled):
    st = standing(min_orders)
    # Seller 0: exactly min_orders cleared; seller 1: one fewer. The same cancellations each,
    # all on the first day (hours 1-19), so every record is in the window at every review.
    for s, n in ((0, min_orders), (1, min_orders - 1)):
        for i in range(n):
            st.order_cleared(s, 1.0 + 18.0 * i / max(n, 1))
        for i in range(cancelled):
            st.seller_cancelled(s, 2.0 + i, "out_of_stock")
    # Day 1: seller 0 warned; day 2: still in its grace; day 3 (warned 48 h = grace_days ago,
    # rate still over the suspension line): suspended for good. Seller 1: never judged.
    assert st.review(1 * DAY) == []
    assert list(st.warned_log) == [(24.0, 0)]
    assert st.review(2 * DAY) == []
    assert st.review(3 * DAY) == [0]
    assert list(st.suspended_log) == [(72.0, 0)]
    assert st.active == [False, True] and st.suspended_count == 1
    for day in range(4, 10):
        assert st.review(day * DAY) == []
    assert list(st.warned_log) == [(24.0, 0)] and list(st.suspended_log) == [(72.0, 0)]


@pytest.mark.trace
def test_reaching_min_orders_later_is_judged_from_that_review():
    # Four orders cleared and one cancelled on day 0 (min_orders 5: not judged at the day-1
    # review); a fifth cleared on day 1 (hour 30): 1/5 = 0.2, warned at the day-2 review (hour
    # 48), suspended at the day-4 review (hour 96, two days of grace later).
    st = standing(5)
    for h in (1.0, 2.0, 3.0, 4.0):
        st.order_cleared(0, h)
    st.seller_cancelled(0, 5.0, "out_of_stock")
    assert st.review(24.0) == [] and len(st.warned_log) == 0
    st.order_cleared(0, 30.0)
    assert st.review(48.0) == []
    assert list(st.warned_log) == [(48.0, 0)]
    assert st.review(72.0) == []
    assert st.review(96.0) == [0]
    assert list(st.suspended_log) == [(96.0, 0)]


@pytest.mark.trace
def test_under_the_warning_line_at_min_orders_is_not_warned():
    # 5 cleared, 0 cancelled: judged, rate 0 < 4%: no warning.
    st = standing(5)
    for h in range(1, 6):
        st.order_cleared(0, float(h))
    for day in range(1, 5):
        assert st.review(day * DAY) == []
    assert len(st.warned_log) == 0


# ---------------------------------------------------------------- end to end

#: One seller whose every order is neglected: cancelled 'ship_deadline_missed' 7 days after it
#: was cleared (seller-responsible). Nothing leaves the 30-day window in a 20-day run. The
#: seller is warned on the first daily review where its cancellation rate is 4% or more.
NEGLECTED = {
    "horizon_days": 20,
    "buyers.orders_per_hour": 0.3,
    "sellers.count": 1,
    "sellers.neglect_share": 1.0,
    "platform.penalties.warn_cancel_rate": 0.04,
    "platform.penalties.suspend_cancel_rate": 0.08,
    "platform.penalties.grace_days": 2,
    "platform.penalties.window_days": 30,
    "platform.penalties.suspension_days": None,
    "platform.penalties.confidence": None,
    "platform.penalties.long_window_days": None,
}
SELLER_RESPONSIBLE = ["out_of_stock", "pricing_error", "shipping_restriction", "ship_deadline_missed"]


def counts_by_review(orders: pd.DataFrame, start) -> list[tuple[float, int, int]]:
    """(hour, cleared orders, seller-responsible cancellations) at each daily review, counted
    from the orders table (nothing leaves the window in 20 days)."""
    t0 = pd.Timestamp(start)
    cleared = ((orders["cleared_at"].dropna() - t0) / pd.Timedelta(hours=1)).to_numpy()
    bad = orders[orders["cancel_reason"].isin(SELLER_RESPONSIBLE)]
    cancelled = ((bad["cancelled_at"] - t0) / pd.Timedelta(hours=1)).to_numpy()
    return [
        (d * DAY, int((cleared <= d * DAY).sum()), int((cancelled <= d * DAY).sum())) for d in range(1, 20)
    ]


def first_review(counts, since_h: float, min_orders: int, line: float) -> float | None:
    """The first review hour from ``since_h`` with at least ``min_orders`` cleared and a
    cancellation rate at or over ``line``."""
    return next((t for t, n, c in counts if t >= since_h and n >= min_orders and c / n >= line), None)


def penalties_of(overrides: dict) -> tuple[list, list, pd.DataFrame]:
    """(warnings, suspensions, orders) of a run of NEGLECTED with ``overrides``."""
    record = World(quiet({**NEGLECTED, **overrides})).run()
    st = record.standing
    return list(st.warned_log), list(st.suspended_log), collect(record).orders


@pytest.mark.trace
def test_end_to_end_warned_on_the_day_it_reaches_exactly_min_orders_then_suspended():
    *_, orders = penalties_of({"platform.penalties.min_orders": 10**6})
    counts = counts_by_review(orders, quiet().start)
    # The first review at which the rate is 4% or more (of at least one order), and the
    # seller's cleared orders then: min_orders set to that count is just enough.
    warn_h = first_review(counts, 0.0, 1, 0.04)
    n = next(n for t, n, _ in counts if t == warn_h)
    assert n > 20 and 7 * DAY < warn_h < 20 * DAY  # cancellations start a week in
    # Suspended at the first review at least 2 days (grace) later with a rate of 8% or more.
    suspend_h = first_review(counts, warn_h + 2 * DAY, n, 0.08)
    assert suspend_h is not None
    warned, suspended, _ = penalties_of({"platform.penalties.min_orders": n})
    assert warned == [(warn_h, 0)]
    assert suspended == [(suspend_h, 0)]
    # One order more needed: not judged at that review.
    warned, _, _ = penalties_of({"platform.penalties.min_orders": n + 1})
    assert warned == [] or warned[0][0] > warn_h
