"""Tier 1 for what follows a cancellation or a delivery: exact traces of each dispute path,
seller penalties and buyer trust on tiny deterministic scenarios (tests/conftest.QUIET), and the
issue's comparisons (staffing, poor inventory records) on the baseline.

Which paid orders a seller cancels depends on the seed (each seller reprices at a phase of its
own): the traces of cancelled orders follow the first order that was cancelled, found by what
happened to it, and fail saying so when none was. The goods disputes trace order 0, which
nothing in their scenarios can cancel, with agents enough that no dispute waits for one. The
hours at which a card refund lands are counted by hand in business days (:func:`card_lands`),
not with the simulation's calendar.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import simcore
from tests.conftest import const, in_workers, kpis_of, quiet, shipped

G = 30.0 / 3600.0  # constant 30 s authorisation in QUIET
SHIPPED = G + 26.0  # first look 2 h + handling 1 day
DELIVERED = SHIPPED + 120.0  # transit 5 days
WEEK = 168.0

# A not-as-described dispute on every delivered order, opened 1 day after delivery; the seller
# never settles, so the case reaches the platform; review 2 h, intervention 3 days + 4 h.
NAD = {
    "platform.disputes.propensity.not_as_described": 1.0,
    "platform.disputes.not_as_described_merit": 1.0,
    "platform.disputes.seller_accepts_founded": 0.0,
    "platform.disputes.seller_accepts_unfounded": 0.0,
    "platform.disputes.partial_offer_share": 0.0,
    "platform.disputes.ruling.evidence_weight": 0.0,
    "platform.disputes.ruling.history_weight": 0.0,
    "platform.disputes.ruling.partial_below": 0.0,
    "platform.disputes.ruling.merit_win": 1.0,
}

#: QUIET counts every order to the horizon; a 15-day cool-down and follow-up let the window's
#: buyers be followed for repeat purchases and churn (buyers.follow_up_days).
FOLLOWED = {"cooldown_days": 15, "buyers.follow_up_days": 15}


def trace(result: simcore.RunResult, order_id: int = 0) -> list[tuple[float, str]]:
    """(hours since placement, activity) of one order, rounded to the millisecond."""
    ev = result.events[result.events.order_id == order_id]
    t0 = ev["hour"].iloc[0]
    return [(round(h - t0, 6), a) for h, a in zip(ev["hour"], ev["activity"], strict=True)]


def r6(x: float) -> float:
    return round(x, 6)


def first(result: simcore.RunResult, mask: pd.Series, premise: str) -> int:
    """Id of the first order (in placement order) that ``mask`` selects; fails, naming the
    ``premise``, when the run has none."""
    ids = result.orders.loc[mask, "order_id"]
    assert len(ids) > 0, f"premise failed: no order {premise} (seed {result.scenario.seed})"
    return int(ids.iloc[0])


#: Hour 0 of QUIET: Monday 2026-01-05, 00:00.
START = np.datetime64(dt.date(2026, 1, 5), "D")


def card_lands(started_h: float, bdays: int) -> float:
    """Hour (since QUIET's start) at which a refund started at hour ``started_h`` lands ``bdays``
    business days later, counted by hand: Monday to Friday, no holidays (numpy's busday rules).

    The business-day clock stands still at weekends. Started on a weekday, the refund lands at
    the same time of day ``bdays`` weekdays later: Monday 02:00 + 5 is the next Monday 02:00,
    Friday 10:00 + 1 is Monday 10:00. Started on a Saturday or Sunday it counts from the Monday
    after, 00:00: Saturday 14:00 + 5 is the Monday of the week after that, 00:00.
    """
    day = int(started_h // 24)
    date = START + np.timedelta64(day, "D")
    time_of_day = started_h - 24.0 * day if np.is_busday(date) else 0.0
    landed = np.busday_offset(date, bdays, roll="forward")
    return float((landed - START) / np.timedelta64(1, "D")) * 24.0 + time_of_day


@pytest.mark.trace
def test_card_lands_counts_business_days_as_done_by_hand():
    # The oracle itself, on dates read off a calendar of January 2026 (the 5th is a Monday).
    assert card_lands(2.0, 5) == 7 * 24 + 2.0  # Mon 5th 02:00 -> Mon 12th 02:00
    assert card_lands(4 * 24 + 10.0, 1) == 7 * 24 + 10.0  # Fri 9th 10:00 -> Mon 12th 10:00
    assert card_lands(3 * 24 + 18.0, 5) == 10 * 24 + 18.0  # Thu 8th 18:00 -> Thu 15th 18:00
    assert card_lands(5 * 24 + 14.0, 5) == 14 * 24  # Sat 10th 14:00 -> (Mon 12th) Mon 19th 00:00
    assert card_lands(6 * 24 + 23.5, 1) == 8 * 24  # Sun 11th 23:30 -> (Mon 12th) Tue 13th 00:00
    assert card_lands(2 * 24 + 9.0, 15) == 23 * 24 + 9.0  # Wed 7th 09:00 -> Wed 28th 09:00


def landing(result: simcore.RunResult, order_id: int, after_h: float, bdays: int = 5) -> float:
    """Hours after placement at which a card refund started ``after_h`` after placement lands
    (QUIET's card delay: 5 business days)."""
    assert result.scenario.start == dt.date(2026, 1, 5)  # START
    placed = result.orders.loc[order_id, "placed_hour"]
    return r6(card_lands(placed + after_h, bdays) - placed)


def run(overrides: dict) -> simcore.RunResult:
    """A QUIET run with about one order a day, and agents enough that no dispute waits for one
    (with QUIET's single agent, whether the order a test traces found it busy with another
    order's dispute depended on the seed)."""
    res = simcore.run(
        quiet(
            {
                "horizon_days": 60,
                "buyers.orders_per_hour": 0.04,
                "platform.customer_service.agents": 20,
                **overrides,
            }
        )
    )
    waited = res.kpis["queues"]["customer_service"]["mean_wait_hours"]
    assert not waited, f"premise failed: a dispute waited for an agent ({waited} h on average)"
    return res


# ---------------------------------------------------------------- goods disputes


@pytest.mark.trace
def test_not_as_described_escalated_and_ruled_for_the_buyer_exact_trace():
    res = run(NAD)
    opened = DELIVERED + 24.0
    escalated = opened + 2.0 + WEEK
    ruled = escalated + 72.0 + 4.0
    assert trace(res) == [
        (0.0, "placed"),
        (0.0, "payment_submitted"),
        (r6(G), "payment_authorized"),
        (r6(G), "paid"),
        (r6(G), "screening_passed"),
        (r6(G + 2.0), "seller_processing"),
        (r6(SHIPPED), "shipped"),
        (r6(DELIVERED), "delivered"),
        (r6(opened), "dispute_opened"),
        (r6(opened), "dispute_review_started"),
        (r6(opened + 2.0), "dispute_reviewed"),
        (r6(escalated), "dispute_escalated"),
        (r6(ruled), "dispute_ruled"),
        (r6(ruled), "dispute_refund_scheduled"),
        (r6(ruled), "completed"),
        (landing(res, 0, ruled), "dispute_refund_paid"),
    ]
    o = res.orders.iloc[0]
    assert (o["dispute_reason"], o["dispute_outcome"], o["dispute_stage"]) == (
        "not_as_described",
        "full_refund",
        "intervention",
    )
    assert o["dispute_claim_amount"] == o["amount"] == o["dispute_refund_amount"]
    assert o["status"] == "completed" and math.isnan(o["refund_amount"])
    assert o["dispute_refund_method"] == "original"


@pytest.mark.trace
def test_unfounded_claim_is_rejected_and_nothing_is_paid():
    res = run(
        {**NAD, "platform.disputes.not_as_described_merit": 0.0, "platform.disputes.ruling.no_merit_win": 0.0}
    )
    acts = [a for _, a in trace(res)]
    assert acts[-3:] == ["dispute_escalated", "dispute_ruled", "completed"]
    o = res.orders.iloc[0]
    assert (o["dispute_outcome"], o["dispute_stage"]) == ("rejected", "intervention")
    assert math.isnan(o["dispute_refund_amount"]) and pd_isna(o["dispute_refunded_at"])


@pytest.mark.property
def test_thin_evidence_turns_a_win_into_a_partial_refund():
    res = run({**NAD, "platform.disputes.ruling.partial_below": 1.0})
    o = res.orders
    disputed = o[o["dispute_outcome"].notna()]
    assert len(disputed) > 5
    assert (disputed["dispute_outcome"] == "partial_refund").all()
    share = disputed["dispute_refund_amount"] / disputed["dispute_claim_amount"]
    # partial_refund_share 0.5 drawn within +-0.2.
    assert share.between(0.3 - 0.006, 0.7 + 0.006).all() and share.std() > 0.05


@pytest.mark.property
def test_seller_who_accepts_settles_inside_the_negotiation_window():
    res = run({**NAD, "platform.disputes.seller_accepts_founded": 1.0})
    o = res.orders
    d = o[o["dispute_outcome"].notna()]
    assert len(d) > 5
    assert (d["dispute_outcome"] == "full_refund").all() and (d["dispute_stage"] == "negotiation").all()
    assert d["dispute_escalated_at"].isna().all()
    days = (d["dispute_resolved_at"] - d["dispute_opened_at"]).dt.total_seconds() / 3600.0
    assert days.between(2.0, 2.0 + WEEK).all() and days.std() > 10  # agreement time varies
    acts = [a for _, a in trace(res)]
    assert acts[acts.index("dispute_reviewed") + 1] == "dispute_agreed"


@pytest.mark.property
def test_partial_offer_taken_in_negotiation():
    res = run(
        {
            **NAD,
            "platform.disputes.partial_offer_share": 1.0,
            "platform.disputes.partial_accept_share": 1.0,
        }
    )
    d = res.orders[res.orders["dispute_outcome"].notna()]
    assert len(d) > 5
    assert (d["dispute_outcome"] == "partial_refund").all() and (d["dispute_stage"] == "negotiation").all()
    assert (d["dispute_refund_amount"] < d["amount"]).all()


@pytest.mark.trace
def test_lost_parcel_disputed_is_refunded_when_the_dispute_ends_after_the_guarantee():
    # The guarantee (15 days) expires during the dispute: the order closes as refunded when the
    # dispute ends. The award paid the claim in full, so buyer protection owes nothing more.
    res = run(
        {
            **NAD,
            "platform.disputes.propensity.not_as_described": 0.0,
            "platform.disputes.propensity.not_delivered": 1.0,
            "platform.disputes.not_delivered_after_days": 10,
            "platform.delivery_guarantee_days": 15,
            "shipping.lost_share": 1.0,
        }
    )
    opened = SHIPPED + 240.0
    ruled = opened + 2.0 + WEEK + 76.0
    assert ruled > SHIPPED + 360.0  # premise: the dispute outlasts the guarantee
    assert trace(res)[6:] == [
        (r6(SHIPPED), "shipped"),
        (r6(opened), "dispute_opened"),
        (r6(opened), "dispute_review_started"),
        (r6(opened + 2.0), "dispute_reviewed"),
        (r6(opened + 2.0 + WEEK), "dispute_escalated"),
        (r6(ruled), "dispute_ruled"),
        (r6(ruled), "dispute_refund_scheduled"),
        (r6(ruled), "parcel_lost"),
        (landing(res, 0, ruled), "dispute_refund_paid"),
    ]
    o = res.orders.iloc[0]
    assert o["dispute_reason"] == "not_delivered" and o["dispute_outcome"] == "full_refund"
    assert o["status"] == "refunded" and pd_isna(o["delivered_at"]) and pd_isna(o["completed_at"])
    assert pd_isna(o["refund_amount"]) and o["dispute_refund_amount"] == o["amount"]


@pytest.mark.trace
def test_lost_parcel_partly_awarded_is_topped_up_when_the_guarantee_expires():
    # The seller offers a partial refund in negotiation, which the buyer takes; when the 60-day
    # guarantee expires the platform refunds the rest: the buyer gets the whole amount back.
    res = run(
        {
            **NAD,
            "platform.disputes.propensity.not_as_described": 0.0,
            "platform.disputes.propensity.not_delivered": 1.0,
            "platform.disputes.not_delivered_after_days": 10,
            "platform.disputes.partial_offer_share": 1.0,
            "platform.disputes.partial_accept_share": 1.0,
            "horizon_days": 90,
            "shipping.lost_share": 1.0,
        }
    )
    o = res.orders.iloc[0]
    expiry = SHIPPED + 60 * 24.0
    ev = res.events[res.events["order_id"] == 0]
    lost_at = ev.loc[ev["activity"] == "parcel_lost", "hour"].item() - o["placed_hour"]
    assert lost_at == pytest.approx(expiry, abs=1e-6)
    assert o["status"] == "refunded" and o["dispute_outcome"] == "partial_refund"
    assert 0 < o["dispute_refund_amount"] < o["amount"]
    assert o["refund_amount"] == pytest.approx(o["amount"] - o["dispute_refund_amount"], abs=1e-9)
    assert (
        ev.loc[ev["activity"] == "refund_scheduled", "hour"].item()
        == ev.loc[ev["activity"] == "parcel_lost", "hour"].item()
    )


@pytest.mark.trace
def test_lost_parcel_undisputed_is_refunded_in_full_when_the_delivery_guarantee_expires():
    res = run({"shipping.lost_share": 1.0, "platform.delivery_guarantee_days": 20})
    expiry = SHIPPED + 480.0
    assert trace(res)[6:] == [
        (r6(SHIPPED), "shipped"),
        (r6(expiry), "parcel_lost"),
        (r6(expiry), "refund_scheduled"),
        (landing(res, 0, expiry), "refund_paid"),
    ]
    ev = res.events
    assert ev.loc[(ev.order_id == 0) & (ev.activity == "parcel_lost"), "actor"].item() == "platform"
    o = res.orders.iloc[0]
    assert o["status"] == "refunded" and o["refund_amount"] == o["amount"] and pd_isna(o["completed_at"])


@pytest.mark.trace
def test_parcel_arriving_during_the_dispute_makes_the_claim_unfounded():
    res = run(
        {
            **NAD,
            "platform.disputes.propensity.not_as_described": 0.0,
            "platform.disputes.propensity.not_delivered": 1.0,
            "platform.disputes.not_delivered_after_days": 10,
            "platform.disputes.ruling.no_merit_win": 0.0,
            "shipping.destinations.US.transit_time": const(14.0, "days"),
        }
    )
    opened = SHIPPED + 240.0
    arrived = SHIPPED + 14 * 24.0  # during the negotiation
    ruled = opened + 2.0 + WEEK + 76.0
    assert trace(res)[7:] == [
        (r6(opened), "dispute_opened"),
        (r6(opened), "dispute_review_started"),
        (r6(opened + 2.0), "dispute_reviewed"),
        (r6(arrived), "delivered"),
        (r6(opened + 2.0 + WEEK), "dispute_escalated"),
        (r6(ruled), "dispute_ruled"),
        (r6(ruled + 24.0), "completed"),  # the buyer confirms once the dispute is over
    ]
    assert res.orders.loc[0, "dispute_outcome"] == "rejected"


# ---------------------------------------------------------------- disputes of cancelled orders

# Every listing is priced below cost and every seller is dishonest: a seller's paid order is
# cancelled 'out_of_stock' at its first look (2 h), hiding a pricing error, until the seller
# reprices the catalog (on noticing the loss, and every 14 days at a phase of its own: so which
# orders are cancelled depends on the seed; the tests pick the first that was).
DISGUISED = {
    "sellers.pricing.error_listing_share": 1.0,
    "sellers.dishonest_share": 1.0,
    "platform.disputes.propensity.disguised_cancellation": 1.0,
    "platform.disputes.seller_accepts_founded": 0.0,
    "platform.disputes.ruling.merit_win": 1.0,
    "platform.disputes.ruling.evidence_weight": 0.0,
    "platform.disputes.ruling.history_weight": 0.0,
    "refunds.card_delay_bdays": const(20.0, "days"),
    "buyers.trust.refund_patience_bdays": 30.0,
}


@pytest.mark.trace
def test_disguised_cancellation_is_disputed_and_the_pending_refund_paid_at_the_ruling():
    res = run(DISGUISED)
    o = res.orders
    oid = first(res, o["true_reason"] == "pricing_error", "cancelled hiding a pricing error")
    cancelled = G + 2.0
    opened = cancelled + 24.0
    # 11.3 days after placement; the card refund, 20 business days (28 days) away, is pending.
    ruled = opened + 2.0 + WEEK + 76.0
    assert trace(res, oid)[5:] == [
        (r6(cancelled), "seller_processing"),
        (r6(cancelled), "cancelled"),
        (r6(cancelled), "refund_scheduled"),
        (r6(opened), "dispute_opened"),
        (r6(opened), "dispute_review_started"),
        (r6(opened + 2.0), "dispute_reviewed"),
        (r6(opened + 2.0 + WEEK), "dispute_escalated"),
        (r6(ruled), "dispute_ruled"),
        (r6(ruled), "refund_paid"),
    ]
    o = o.loc[oid]
    assert (o["cancel_reason"], o["true_reason"]) == ("out_of_stock", "pricing_error")
    assert (o["dispute_reason"], o["dispute_outcome"]) == ("suspicious_cancellation", "full_refund")
    assert o["refund_amount"] == o["amount"] and math.isnan(o["dispute_refund_amount"])
    assert o["refunded_at"] == o["dispute_resolved_at"]
    # The recorded delay is the actual one, not the 20 business days first scheduled.
    assert o["refund_delay_bdays"] < 20.0


# Every carrier quote is above the cap: each paid order is cancelled 'shipping_restriction'.
NO_ROUTE = {"shipping.destinations.US.cost_cap_usd": 0.5}


@pytest.mark.property
def test_honest_seller_cancellation_is_disputed_only_at_its_own_propensity():
    quiet_buyers = run({**NO_ROUTE, "platform.disputes.propensity.disguised_cancellation": 1.0})
    o = quiet_buyers.orders
    assert (o["cancel_reason"] == "shipping_restriction").sum() > 20
    assert o["dispute_reason"].isna().all()
    vocal = run({**NO_ROUTE, "platform.disputes.propensity.seller_cancellation": 1.0}).orders
    cancelled = vocal[vocal["cancelled_at"] < vocal["cancelled_at"].max() - pd_days(2)]
    assert (cancelled["dispute_reason"] == "suspicious_cancellation").all()


@pytest.mark.trace
def test_late_refund_disputed_at_the_patience_is_paid_at_the_review():
    res = run(
        {
            **DISGUISED,
            "platform.disputes.propensity.disguised_cancellation": 0.0,
            "platform.disputes.propensity.refund_late": 1.0,
            "buyers.trust.refund_patience_bdays": 15.0,
        }
    )
    oid = first(res, res.orders["status"] == "cancelled", "cancelled")
    # Cancelled at the first look (2 h); the buyer's patience runs out 15 business days later,
    # while the card refund (20 business days) is pending.
    late = landing(res, oid, G + 2.0, bdays=15)
    assert trace(res, oid)[-5:] == [
        (late, "dispute_opened"),
        (late, "dispute_review_started"),
        (r6(late + 2.0), "dispute_reviewed"),
        (r6(late + 2.0), "dispute_ruled"),
        (r6(late + 2.0), "refund_paid"),
    ]
    o = res.orders.loc[oid]
    assert (o["dispute_reason"], o["dispute_outcome"], o["dispute_stage"]) == (
        "refund_late",
        "full_refund",
        "review",
    )
    assert o["dispute_claim_amount"] == o["amount"]


@pytest.mark.trace
def test_short_refund_disputed_after_it_lands_and_made_up_by_the_award():
    res = run(
        {
            "sellers.pricing.error_listing_share": 1.0,
            "refunds.wrong_amount_rate": 1.0,
            "platform.disputes.propensity.refund_wrong_amount": 1.0,
        }
    )
    # Each seller's first paid order is cancelled 'pricing_error' (until it reprices); its short
    # refund lands 5 business days after the cancellation, the award 5 after the ruling.
    oid = first(res, res.orders["status"] == "cancelled", "cancelled")
    cancelled = G + 2.0
    landed = landing(res, oid, cancelled)
    opened = landed + 24.0
    assert trace(res, oid)[-8:] == [
        (r6(cancelled), "refund_scheduled"),
        (landed, "refund_paid"),
        (r6(opened), "dispute_opened"),
        (r6(opened), "dispute_review_started"),
        (r6(opened + 2.0), "dispute_reviewed"),
        (r6(opened + 2.0), "dispute_ruled"),
        (r6(opened + 2.0), "dispute_refund_scheduled"),
        (landing(res, oid, opened + 2.0), "dispute_refund_paid"),
    ]
    o = res.orders.loc[oid]
    assert o["cancel_reason"] == "pricing_error"
    assert o["refund_amount"] < o["amount"]
    assert o["dispute_claim_amount"] == pytest.approx(o["amount"] - o["refund_amount"])
    assert o["refund_amount"] + o["dispute_refund_amount"] == pytest.approx(o["amount"])


# ---------------------------------------------------------------- sellers and buyers


@pytest.mark.property
def test_neglectful_sellers_are_warned_then_suspended_and_their_open_orders_cancelled():
    res = simcore.run(
        quiet(
            {
                "horizon_days": 20,
                "buyers.orders_per_hour": 2.0,
                "sellers.neglect_share": 1.0,
                "platform.penalties.min_orders": 3,
                "platform.penalties.grace_days": 2,
                "platform.penalties.suspension_days": None,
            }
        )
    )
    o, sellers = res.orders, res.sellers
    suspended = o[o["cancel_reason"] == "seller_suspended"]
    assert len(suspended) > 10
    assert (suspended["cancel_initiator"] == "system").all()
    assert suspended["refund_amount"].notna().all()  # paid orders are refunded
    # Suspensions happen at the daily review, after a warning and the grace period.
    since_start = (suspended["cancelled_at"] - pd_timestamp(res)).dt.total_seconds()
    assert (since_start % 86400 == 0).all()
    assert (sellers["suspensions"] == 1).all() and (sellers["warnings"] == 1).all()
    # A seller suspended for good gets no order after its suspension.
    first = sellers.set_index("seller_id")["first_suspended_at"]
    assert (o["placed_at"] < o["seller_id"].map(first)).all()
    assert res.kpis["seller_suspensions"] == len(sellers)
    # Seller-responsible cancellations lower the rating below the prior.
    assert (sellers["rating"] < res.scenario.platform.seller_rating.prior).all()


@pytest.mark.property
def test_a_buyer_who_churns_never_orders_again():
    res = simcore.run(
        quiet(
            {
                "buyers.population": 1,
                "sellers.pricing.error_listing_share": 1.0,  # every paid order cancelled by the seller
                "buyers.trust.cancellation_loss": 1.0,
                "buyers.trust.churn_share": 1.0,
                **FOLLOWED,
            }
        )
    )
    o = res.orders
    first_cancel = o["cancelled_at"].min()
    assert (o["placed_at"] <= first_cancel).all()
    assert res.kpis["orders_forgone"] > 100
    assert res.kpis["buyer_churn_rate"] == 1.0
    assert res.timeseries["buyers_churned"].iloc[-1] == 1


@pytest.mark.property
def test_happy_buyers_come_back_and_nobody_churns():
    res = simcore.run(quiet({"buyers.population": 20, **FOLLOWED}))
    k = res.kpis
    assert k["buyer_churn_rate"] == 0.0 and k["orders_forgone"] == 0
    # 12 orders a day among 20 buyers: each orders again within the 15 days followed but for
    # a chance of exp(-9) a buyer.
    assert k["repeat_purchase_rate"] == 1.0
    assert res.sellers["rating"].gt(res.scenario.platform.seller_rating.prior).all()


@pytest.mark.property
@pytest.mark.statistical
def test_lowered_trust_means_fewer_purchases():
    # Every paid order is cancelled; each cancellation costs 0.2 of trust (from 0.8): after one,
    # a buyer buys 3 times in 4, after two half the time, and so on down to never.
    base = {
        **NO_ROUTE,
        "buyers.population": 50,
        "buyers.trust.churn_share": 0.0,
        "platform.penalties.min_orders": 10**6,  # no suspensions: the same listings stay open
    }
    loyal = simcore.run(quiet({**base, "buyers.trust.cancellation_loss": 0.0})).kpis
    hurt = simcore.run(quiet({**base, "buyers.trust.cancellation_loss": 0.2})).kpis
    assert loyal["orders_forgone"] == 0  # no churn either: churn_share is 0
    assert hurt["orders_forgone"] > loyal["orders"] / 2
    # The same arrivals, ending as orders, forgone orders or lost sales (low-rated sellers).
    arrivals = [k["orders"] + k["orders_forgone"] + k["lost_sales"] for k in (loyal, hurt)]
    assert arrivals[0] == arrivals[1]


# ---------------------------------------------------------------- the comparisons


@pytest.mark.slow
@pytest.mark.statistical
def test_one_agent_resolves_disputes_slower_than_the_default_staffing(baseline_result):
    default = baseline_result.scenario.platform.customer_service.agents
    assert default >= 2
    one = simcore.run(shipped("baseline", {"platform.customer_service.agents": 1}))
    k1, k2 = one.kpis, baseline_result.kpis
    wait1 = k1["queues"]["customer_service"]["mean_wait_hours"]
    wait2 = k2["queues"]["customer_service"]["mean_wait_hours"]
    # One agent at about twice the default's load: over seed offsets 0..11 the mean wait grew
    # 12 to 55 times (5.7 to 34 h against 0.4 to 1.3 h); 3 times is far inside that.
    assert wait1 > 3 * wait2, (wait1, wait2)
    # Every dispute waits for an agent at least once (its review; an escalated one again at
    # the intervention), so the mean time to resolution grows by at least about the growth of
    # the mean wait. How much the single agent's queue grows varies a lot from seed to seed
    # (the resolution time grew 0.35 to 1.9 days: a fixed 0.3 days sat 1.7 sd inside), so the
    # check is against the growth of the wait itself: over the 12 offsets the resolution time
    # grew 1.75 +- 0.28 times as much as the mean wait (fewest 1.35: waits are counted per
    # request, resolutions per dispute placed in the KPI window). Half of it is 4.5 sd below;
    # resolution times that left out the queue would grow ~0 and fail.
    grew = k1["dispute_resolution_days"]["mean"] - k2["dispute_resolution_days"]["mean"]
    assert grew > 0.5 * (wait1 - wait2) / 24.0, (grew, wait1, wait2)


@pytest.mark.slow
@pytest.mark.statistical
def test_poor_inventory_records_bring_suspensions_churn_and_lost_revenue():
    # Issue 3: inventory_accuracy 0.3 for 30 days against records kept accurate (daily counts),
    # summed over replications paired by number (common random numbers). One run was too few:
    # over 32 pairs (seed offsets 0..7, 4 replications each) poor minus good records gave, per
    # replication, 9.3 +- 3.3 more warnings, 3.5 +- 2.1 suspensions (as Poisson: none in ~1 in 30),
    # a churn rate 0.0011 +- 0.0006 higher (reversed in one pair: 1.8 sd), a repeat-purchase
    # rate 0.0024 +- 0.0010 lower and 2,070 +- 720 USD more revenue lost. Summed over 6, the
    # churn difference is 4.4 sd above 0 (a seed fails ~1 in 100,000), the others 6-7 sd. Those
    # were measured with churn and repeats counted to a 30-day horizon; since they are counted
    # over a fixed 15-day follow-up (issue 17) the test passes at offsets 0-8.
    # Orders placed in days 0-30; each window buyer followed 15 days for churn and repeats.
    short = {"horizon_days": 45, "warmup_days": 0, "cooldown_days": 15, "buyers.follow_up_days": 15}
    names = (
        "seller_suspensions",
        "seller_warnings",
        "buyer_churn_rate",
        "repeat_purchase_rate",
        "seller_revenue_lost",
    )
    reasons = ("out_of_stock", "seller_suspended")

    arms = {
        "poor": {"sellers.inventory_accuracy": 0.3},
        "good": {"sellers.inventory_accuracy": 1.0, "sellers.strategy.sync_interval_days": 1},
    }
    reps = 6
    # The 12 runs in worker processes, each arm's replications in a block.
    kpis = in_workers(
        kpis_of,
        [shipped("baseline", {**short, **o}) for o in arms.values() for _ in range(reps)],
        list(range(reps)) * len(arms),
    )

    def total(runs: list[dict]) -> dict[str, float]:
        """Each KPI summed over the replications (rates too: as many runs on either side)."""
        return {
            **{n: sum(k[n] for k in runs) for n in names},
            **{r: sum(k["cancellations_by_reason"][r] for k in runs) for r in reasons},
        }

    poor, good = total(kpis[:reps]), total(kpis[reps:])
    assert poor["out_of_stock"] > 3 * good["out_of_stock"], (poor, good)
    assert poor["seller_suspensions"] >= 1 and poor["seller_suspended"] >= 1, poor
    assert poor["seller_warnings"] > good["seller_warnings"], (poor, good)
    assert poor["buyer_churn_rate"] > good["buyer_churn_rate"], (poor, good)
    assert poor["repeat_purchase_rate"] < good["repeat_purchase_rate"], (poor, good)
    assert poor["seller_revenue_lost"] > good["seller_revenue_lost"], (poor, good)


def pd_isna(x) -> bool:
    import pandas as pd

    return bool(pd.isna(x))


def pd_days(n: float):
    import pandas as pd

    return pd.Timedelta(days=n)


def pd_timestamp(res: simcore.RunResult):
    import pandas as pd

    return pd.Timestamp(res.scenario.start)
