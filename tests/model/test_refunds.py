"""Tier 1: refunds of cancelled orders (simcore/model/refunds.py) and the KPI of short refunds.

- A dispute that pays a pending card refund early records the delay actually taken, in
  business days (weekends do not count), and the hour it was paid: checked on a tiny run where
  the span from cancellation to ruling is a whole number of weeks (so the business days are
  known by hand whatever the weekday), on a span that is not (business hours counted with the
  standard library), and on the refund desk alone with hand-picked hours across a weekend.
- ``refund_wrong_amount_share`` against the orders table, counted in the test.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

import simcore
from simcore.model.context import RunContext
from simcore.model.order import Order
from simcore.model.refunds import RefundDesk
from simcore.model.vocabulary import ACTIVITIES
from tests.conftest import after_row, const, quiet, seed

HOUR = pd.Timedelta(hours=1)

# Every carrier quote is above the cap, so every paid order is cancelled 'shipping_restriction'
# at the seller's first look; the buyer disputes every seller cancellation; the seller does not
# settle; the agent rules for the buyer (no_merit_win 1, no evidence or history terms), which
# pays the pending 20-business-day card refund at once. Plenty of agents: no queueing, so every
# dispute runs on the fixed clock: open 24 h after the cancellation, review 2 h, negotiation
# 168 h, evidence gathering (intervention_delay), ruling 4 h.
EXPEDITED = {
    "horizon_days": 40,
    "buyers.orders_per_hour": 0.1,
    "shipping.destinations.US.cost_cap_usd": 0.5,
    "platform.disputes.propensity.seller_cancellation": 1.0,
    "platform.disputes.seller_accepts_unfounded": 0.0,
    "platform.disputes.ruling.no_merit_win": 1.0,
    "platform.disputes.ruling.evidence_weight": 0.0,
    "platform.disputes.ruling.history_weight": 0.0,
    "platform.customer_service.agents": 50,
    "refunds.card_delay_bdays": const(20.0, "days"),
    "buyers.trust.refund_patience_bdays": 30.0,  # no late-refund trouble before the ruling
}
FIXED_H = 24.0 + 2.0 + 168.0 + 4.0  # every stage but the evidence gathering


def weekday_hours(start: dt.datetime, end: dt.datetime) -> float:
    """Hours of [start, end) that fall on Monday-Friday, day by day (the standard library's
    weekday(); the oracle for business days, which stand still on weekends)."""
    total = 0.0
    day = dt.datetime.combine(start.date(), dt.time())
    while day < end:
        nxt = day + dt.timedelta(days=1)
        if day.weekday() < 5:
            lo, hi = max(start, day), min(end, nxt)
            total += max((hi - lo).total_seconds(), 0.0) / 3600.0
        day = nxt
    return total


@pytest.mark.trace
def test_expedited_card_refund_over_two_whole_weeks_took_ten_business_days():
    # Evidence gathering 138 h: cancellation to ruling 24 + 2 + 168 + 138 + 4 = 336 h, two
    # weeks to the hour. Any two weeks hold exactly 10 business days, whatever the weekday of
    # the cancellation (14 calendar days if weekends were counted).
    res = simcore.run(quiet({**EXPEDITED, "platform.disputes.intervention_delay": const(138.0)}))
    o = res.orders
    ruled = o[o["dispute_outcome"].notna()]
    assert len(ruled) >= 10  # about 2.4 orders a day over the 26 days that reach a ruling
    assert (ruled["dispute_reason"] == "suspicious_cancellation").all()
    assert (ruled["dispute_outcome"] == "full_refund").all()
    assert (ruled["refund_method"] == "original").all()
    assert ruled["refund_delay_bdays"].round(9).unique().tolist() == [10.0]
    assert ((ruled["refunded_at"] - ruled["cancelled_at"]) / HOUR).round(3).eq(336.0).all()
    assert (ruled["refunded_at"] == ruled["dispute_resolved_at"]).all()
    assert (ruled["refund_amount"] == ruled["amount"]).all()
    # Cancelled but not yet ruled on: the scheduled 20 business days stand.
    pending = o[(o["status"] == "cancelled") & o["dispute_outcome"].isna()]
    assert (pending["refund_delay_bdays"] == 20.0).all()


@pytest.mark.trace
def test_expedited_card_refund_over_twelve_days_counts_only_weekday_hours():
    # Evidence gathering 90 h: cancellation to ruling 288 h (12 calendar days). How many of
    # them are business days depends on the weekday of each cancellation: counted hour by hour
    # with the standard library's weekdays.
    res = simcore.run(quiet({**EXPEDITED, "platform.disputes.intervention_delay": const(90.0)}))
    o = res.orders
    ruled = o[o["dispute_outcome"].notna()]
    assert len(ruled) >= 10
    assert ((ruled["refunded_at"] - ruled["cancelled_at"]) / HOUR).round(3).eq(FIXED_H + 90.0).all()
    # Cancellation hours: the exact placement hour plus the (millisecond) time to cancellation.
    start = dt.datetime.combine(res.scenario.start, dt.time())
    cancelled_h = ruled["placed_hour"] + (ruled["cancelled_at"] - ruled["placed_at"]) / HOUR
    expected = [
        weekday_hours(start + dt.timedelta(hours=c), start + dt.timedelta(hours=c + 288.0)) / 24.0
        for c in cancelled_h
    ]
    assert ruled["refund_delay_bdays"].tolist() == pytest.approx(expected, abs=1e-4)
    # Any 12 days hold one or two whole weekends' worth of hours: 8 to 10 business days.
    assert ruled["refund_delay_bdays"].between(8.0 - 1e-9, 10.0 + 1e-9).all()


def make_order(ctx: RunContext, *, card: bool = True, amount: float = 20.0) -> Order:
    oid = ctx.rec.new_order(0, 0, 0, 0, 0, 1, amount, ctx.env.now, False, False, True, 0 if card else 1, 0)
    return Order(
        id=oid,
        buyer=0,
        seller=0,
        sku=0,
        dest=0,
        qty=1,
        amount=amount,
        is_fraud=False,
        stolen_card=False,
        card=card,
        verified=True,
        signals=0,
        cancel_reason=None,
        address_conflict=False,
        neglected=False,
        screen_draws=(),
        pay_draws=(),
        after_draws=after_row(ctx.scn),
    )


def run_desk(overrides: dict, card: bool, cancel_h: float, expedite_h: float, until_h: float):
    """A refund desk alone on a fresh run context (start Monday 2026-01-05): one order
    cancelled (its refund scheduled) at ``cancel_h``, expedited at ``expedite_h``."""
    ctx = RunContext.fresh(quiet(overrides), seed(7))
    desk = RefundDesk(ctx)
    env, rec = ctx.env, ctx.rec
    o = make_order(ctx, card=card)
    seen: dict[str, object] = {}

    def script():
        yield env.timeout(cancel_h)
        rec.set("cancelled_at", o.id, env.now)
        seen["scheduled"] = desk.schedule(o)
        yield env.timeout(expedite_h - cancel_h)
        seen["expedited"] = desk.expedite(o)
        seen["again"] = desk.expedite(o)  # nothing pending any more

    env.process(script())
    env.run(until=until_h)
    paid = [t for t, a in zip(rec.ev_time, rec.ev_activity, strict=True) if ACTIVITIES[a] == "refund_paid"]
    return rec.orders, o, seen, paid


@pytest.mark.trace
def test_card_refund_expedited_from_friday_to_tuesday_took_two_business_days():
    # Start Monday 2026-01-05 00:00 (hour 0). Cancelled Friday 2026-01-09 10:00 = 4 * 24 + 10 =
    # hour 106; 20 business days later is four weeks to the hour: Friday 2026-02-06 10:00 =
    # 106 + 28 * 24 = hour 778. Expedited Tuesday 2026-01-13 10:00 = 8 * 24 + 10 = hour 202:
    # Friday 10:00-24:00 14 h + Saturday and Sunday 0 h + Monday 24 h + Tuesday 0:00-10:00 10 h
    # = 48 business hours = 2.0 business days (4.0 calendar days).
    assert dt.date(2026, 1, 9).weekday() == 4 and dt.date(2026, 1, 13).weekday() == 1
    cols, o, seen, paid = run_desk(
        {"refunds.card_delay_bdays": const(20.0, "days")}, True, 106.0, 202.0, 900.0
    )
    assert seen["scheduled"] == (pytest.approx(778.0, abs=1e-9), 20.0)
    assert seen["expedited"] is True and seen["again"] is False
    assert cols["refund_delay_bdays"][o.id] == pytest.approx(2.0, abs=1e-12)
    assert cols["refunded_at"][o.id] == 202.0
    assert o.refund_due is None
    assert paid == [202.0]  # paid once: the landing due at hour 778 found nothing pending


@pytest.mark.trace
def test_wallet_refund_expedited_records_calendar_days():
    # A wallet refund's delay is in days, weekends included: cancelled Friday hour 106, the
    # wallet would pay after 200 h, expedited Tuesday hour 202: 96 h = 4.0 days.
    overrides = {"refunds.wallet_share": 1.0, "refunds.wallet_delay": const(200.0)}
    cols, o, seen, paid = run_desk(overrides, True, 106.0, 202.0, 400.0)
    assert seen["scheduled"] == (306.0, 20.0)
    assert cols["refund_delay_bdays"][o.id] == pytest.approx(4.0, abs=1e-12)
    assert cols["refunded_at"][o.id] == 202.0 and paid == [202.0]


# ---------------------------------------------------------------- refund_wrong_amount_share

# Every paid order is cancelled 'shipping_restriction' at the seller's first look and refunded.
REFUNDED = {"shipping.destinations.US.cost_cap_usd": 0.5, "horizon_days": 20}


def short_refunds(orders: pd.DataFrame) -> tuple[int, int]:
    """(refunds paid short, refunds scheduled), counted from the orders table."""
    refunded = orders[orders["refund_amount"].notna()]
    short = refunded["refund_amount"] < refunded["amount"]
    return int(short.sum()), len(refunded)


@pytest.mark.trace
@pytest.mark.parametrize(("rate", "share"), [(0.0, 0.0), (1.0, 1.0)])
def test_refund_wrong_amount_share_at_the_extremes(rate, share):
    res = simcore.run(quiet({**REFUNDED, "refunds.wrong_amount_rate": rate}))
    short, n = short_refunds(res.orders)
    assert n > 100  # 0.5 orders an hour for 20 days, nearly all refunded
    assert short == round(share * n)
    assert res.kpis["refund_wrong_amount_share"] == share


@pytest.mark.trace
def test_refund_wrong_amount_share_mixed_equals_the_count_in_the_orders_table():
    res = simcore.run(quiet({**REFUNDED, "refunds.wrong_amount_rate": 0.4}))
    o = res.orders
    short, n = short_refunds(o)
    assert 0 < short < n
    assert res.kpis["refund_wrong_amount_share"] == short / n
    # A short refund pays 50-95% of the amount, rounded to the cent; the others pay it all.
    refunded = o[o["refund_amount"].notna()]
    ratio = refunded["refund_amount"] / refunded["amount"]
    is_short = refunded["refund_amount"] < refunded["amount"]
    cents = 0.005 / refunded["amount"]
    assert (ratio[is_short] >= 0.5 - cents[is_short]).all()
    assert (ratio[is_short] <= 0.95 + cents[is_short]).all()
    assert (ratio[~is_short] == 1.0).all()


@pytest.mark.trace
def test_refund_wrong_amount_share_is_undefined_without_refunds():
    res = simcore.run(quiet({"horizon_days": 5, "refunds.wrong_amount_rate": 1.0}))
    assert short_refunds(res.orders) == (0, 0)
    v = res.kpis["refund_wrong_amount_share"]
    assert v is None or math.isnan(v)
