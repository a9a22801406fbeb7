"""Tier 3 for what follows an order: disputes, refund awards, seller standing and buyer trust.

Invariants checked on small troubled scenarios and on random ones (hypothesis): a dispute opens
and resolves at most once and runs through its stages in order, money paid back never exceeds
what was paid, disputes open only after the trouble they are about, churned buyers and suspended
sellers get no new orders, and the KPIs and the sellers frame agree with the orders frame.
Every check also asserts that the situation it is about occurred in the run.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore
from simcore.model.world import RunRecord, World
from simcore.results.collect import collect
from tests.conftest import quiet

pytestmark = pytest.mark.property

HOUR = pd.Timedelta(hours=1)
EPS = 1e-9
REFUND_REASONS = ("refund_late", "refund_wrong_amount")
CANCEL_REASONS = ("suspicious_cancellation", *REFUND_REASONS)
GOODS_REASONS = ("not_delivered", "not_as_described")
#: The cancel reasons a seller gives at its first look (README, "The model"): spelled out here
#: rather than imported from the model's vocabulary, so that the test checks the rule.
SELLER_REASONS = ("out_of_stock", "pricing_error", "shipping_restriction")
#: Cancellations held against the seller (schema ``SellerRating``): the seller's own reasons and
#: missed ship-by deadlines.
SELLER_FAULT = (*SELLER_REASONS, "ship_deadline_missed")
DISPUTE_STEPS = (
    "dispute_opened",
    "dispute_review_started",
    "dispute_reviewed",
    "dispute_agreed",
    "dispute_escalated",
    "dispute_ruled",
)


def uniform(low: float, high: float, unit: str) -> dict:
    return {"dist": "uniform", "low": low, "high": high, "unit": unit}


#: Every kind of trouble switched on, with short delays so that most disputes end inside the
#: horizon. Every knob the checks depend on is set here, not inherited from QUIET.
TROUBLED: dict = {
    "horizon_days": 24,
    "buyers.orders_per_hour": 2.5,
    "buyers.population": 400,
    "buyers.cancel.change_of_mind": 0.05,
    "buyers.trust.churn_share": 0.6,
    "buyers.trust.refund_patience_bdays": 5.0,
    "buyers.low_rating.share": 0.0,
    "sellers.count": 8,
    "sellers.dishonest_share": 0.5,
    "sellers.unreliable_share": 0.0,
    "sellers.neglect_share": 0.02,  # missed ship-by deadlines: held against the seller
    "sellers.pricing.error_listing_share": 0.15,
    # Carrier quotes above the cap: honest seller cancellations (shipping_restriction).
    "shipping.destinations.US.shipping_cost_usd": {"dist": "lognormal", "mean": 20.0, "sd": 15.0},
    "shipping.destinations.US.cost_cap_usd": 35.0,
    "shipping.destinations.US.transit_time": uniform(2.0, 8.0, "days"),
    "shipping.lost_share": 0.1,
    "refunds.wrong_amount_rate": 0.3,
    "refunds.wallet_share": 0.2,
    "refunds.card_delay_bdays": uniform(2.0, 12.0, "days"),
    "refunds.wallet_delay": {"dist": "constant", "value": 1.0, "unit": "hours"},
    "platform.delivery_guarantee_days": 10.0,
    "platform.customer_service.agents": 4,
    "platform.customer_service.review_time": {"dist": "exponential", "mean": 2.0, "unit": "hours"},
    "platform.customer_service.intervention_time": {"dist": "exponential", "mean": 3.0, "unit": "hours"},
    "platform.disputes.propensity.disguised_cancellation": 0.9,
    "platform.disputes.propensity.seller_cancellation": 0.5,
    "platform.disputes.propensity.refund_late": 0.7,
    "platform.disputes.propensity.refund_wrong_amount": 0.8,
    "platform.disputes.propensity.not_delivered": 0.7,
    "platform.disputes.propensity.not_as_described": 0.1,
    "platform.disputes.open_delay": {"dist": "exponential", "mean": 12.0, "unit": "hours"},
    "platform.disputes.not_delivered_after_days": 7.0,
    "platform.disputes.negotiation_days": 2.0,
    "platform.disputes.intervention_delay": uniform(0.5, 2.0, "days"),
    # Lenient penalties: sellers stay on the market (suspension has a test of its own).
    "platform.penalties.warn_cancel_rate": 0.5,
    "platform.penalties.suspend_cancel_rate": 0.9,
    "platform.penalties.warn_rulings": 50,
    "platform.penalties.suspend_rulings": 60,
}


def run_model(scn: simcore.Scenario) -> tuple[RunRecord, simcore.RunResult]:
    """Run ``scn`` keeping what the run left, for the state the frames do not carry (churn
    hours, the suspension log)."""
    record = World(scn).run()
    return record, collect(record)


def kpi_window(scn: simcore.Scenario) -> tuple[float, float]:
    """The placement hours [first, last) of the orders the KPIs count, by the README's rule
    (written out here, not read from ``Scenario.kpi_window_hours``): after the warm-up, before
    the cool-down."""
    return scn.warmup_days * 24.0, (scn.horizon_days - scn.cooldown_days) * 24.0


def hours(res: simcore.RunResult, column: pd.Series) -> np.ndarray:
    """Timestamps -> simulation hours (NaT -> NaN); exact to the recorded millisecond."""
    return ((column - pd.Timestamp(res.scenario.start)) / HOUR).to_numpy(dtype=float)


def nan0(column: pd.Series) -> np.ndarray:
    return column.fillna(0.0).to_numpy(dtype=float)


@pytest.fixture(scope="module")
def troubled() -> tuple[RunRecord, simcore.RunResult]:
    return run_model(quiet(TROUBLED))


# --------------------------------------------------------------------------- the checks


def check_statuses(res: simcore.RunResult) -> None:
    """Every order ends in exactly one status, stamped with its time."""
    o = res.orders
    assert set(o["status"].unique()) <= {"open", "completed", "cancelled", "refunded", "returned"}
    assert (o["completed_at"].notna() == (o["status"] == "completed")).all()
    # Refunded: a lost parcel, shipped and never delivered (buyer protection).
    refunded = o["status"] == "refunded"
    assert o.loc[refunded, "shipped_at"].notna().all() and o.loc[refunded, "delivered_at"].isna().all()
    assert o.loc[o["status"] == "completed", "delivered_at"].notna().all()
    assert (o["cancelled_at"].notna() == (o["status"] == "cancelled")).all()
    assert not (o["completed_at"].notna() & o["cancelled_at"].notna()).any()
    # A disputed delivery is closed only once its dispute has ended.
    goods_done = o["dispute_reason"].isin(GOODS_REASONS) & (o["status"] == "completed")
    assert o.loc[goods_done, "dispute_resolved_at"].notna().all()
    assert (o.loc[goods_done, "dispute_resolved_at"] <= o.loc[goods_done, "completed_at"]).all()


def check_dispute_lifecycle(res: simcore.RunResult) -> None:
    """A dispute opens and resolves at most once, through its stages in order."""
    o, ev = res.orders, res.events
    disputed = o["dispute_reason"].notna()
    resolved = o["dispute_resolved_at"].notna()
    # Outcome and stage are set iff the dispute was resolved, and only on disputed orders.
    assert (o["dispute_outcome"].notna() == resolved).all()
    assert (o["dispute_stage"].notna() == resolved).all()
    assert (o["dispute_opened_at"].notna() == disputed).all()
    assert not (resolved & ~disputed).any()
    d = o[resolved]
    assert (d["dispute_opened_at"] <= d["dispute_resolved_at"]).all()
    esc = o[o["dispute_escalated_at"].notna()]
    assert esc["dispute_reason"].notna().all()
    assert (esc["dispute_opened_at"] <= esc["dispute_escalated_at"]).all()
    done = esc["dispute_resolved_at"].notna()
    assert (esc.loc[done, "dispute_escalated_at"] <= esc.loc[done, "dispute_resolved_at"]).all()
    # Escalated disputes are decided by the platform; refund disputes at the review.
    assert (esc.loc[done, "dispute_stage"] == "intervention").all()
    assert (d["dispute_reason"].isin(REFUND_REASONS) == (d["dispute_stage"] == "review")).all()

    # The event log, dispute steps only, per order.
    steps = ev[ev["activity"].isin(DISPUTE_STEPS)]
    counts = pd.crosstab(steps["order_id"], steps["activity"].astype(str))
    counts = counts.reindex(index=o["order_id"], columns=list(DISPUTE_STEPS), fill_value=0)
    assert (counts["dispute_opened"] == disputed.to_numpy().astype(int)).all()
    terminal = counts["dispute_agreed"] + counts["dispute_ruled"]
    assert (terminal == resolved.to_numpy().astype(int)).all()
    assert (counts["dispute_escalated"] == o["dispute_escalated_at"].notna().to_numpy().astype(int)).all()
    assert (counts.to_numpy() <= 1).all()

    negotiation_h = res.scenario.platform.disputes.negotiation_days * 24.0
    reason_of = o["dispute_reason"].astype(str).to_numpy()
    for oid, g in steps.groupby("order_id", sort=False):
        acts = g["activity"].astype(str).tolist()
        t = g["hour"].to_numpy()
        assert np.all(np.diff(t) >= 0), (oid, acts)
        if reason_of[oid] in REFUND_REASONS:
            full = ["dispute_opened", "dispute_review_started", "dispute_reviewed", "dispute_ruled"]
            assert acts == full[: len(acts)], (oid, acts)
            continue
        if len(acts) > 3 and acts[3] == "dispute_agreed":
            assert acts == [*DISPUTE_STEPS[:3], "dispute_agreed"], (oid, acts)
            assert t[3] - t[2] <= negotiation_h + 1e-6
        else:
            full = [*DISPUTE_STEPS[:3], "dispute_escalated", "dispute_ruled"]
            assert acts == full[: len(acts)], (oid, acts)
            if len(acts) > 3:
                # The buyer escalates exactly when the negotiation window closes.
                assert t[3] - t[2] == pytest.approx(negotiation_h, abs=1e-6), oid
    # The frame's stamps are the log's times.
    first = steps[steps["activity"] == "dispute_opened"].set_index("order_id")["hour"]
    np.testing.assert_allclose(
        hours(res, o.loc[first.index, "dispute_opened_at"]), first.to_numpy(), atol=1e-6
    )


def check_money(res: simcore.RunResult) -> None:
    """Nobody gets back more than they paid; awards match outcomes."""
    o = res.orders
    refund, award, claim = (
        nan0(o["refund_amount"]),
        nan0(o["dispute_refund_amount"]),
        o["dispute_claim_amount"],
    )
    amount = o["amount"].to_numpy()
    assert np.all(refund + award <= amount + EPS)
    assert np.all(award >= 0.0)
    assert (o["dispute_claim_amount"].notna() == o["dispute_reason"].notna()).all()
    assert (claim.dropna() >= 0.0).all()
    paid = o["dispute_refund_amount"].notna()
    assert (o.loc[paid, "dispute_refund_amount"] <= o.loc[paid, "dispute_claim_amount"] + EPS).all()
    assert (o.loc[paid, "dispute_refund_amount"] > 0.0).all()
    assert (o.loc[paid, "dispute_refund_method"].notna()).all()
    outcome = o["dispute_outcome"]
    # Only resolved disputes the buyer won pay.
    assert outcome[paid].isin(["full_refund", "partial_refund"]).all()
    assert not paid[outcome == "rejected"].any()
    partial = o[outcome == "partial_refund"]
    assert partial["dispute_reason"].isin(GOODS_REASONS).all()
    assert (partial["dispute_refund_amount"] > 0.0).all()
    assert (partial["dispute_refund_amount"] < partial["dispute_claim_amount"]).all()
    full = outcome == "full_refund"
    # A goods claim won in full pays the order amount; a won cancellation dispute makes the
    # buyer whole (the pending refund paid and any shortfall made up).
    goods_full = o[full & o["dispute_reason"].isin(GOODS_REASONS)]
    np.testing.assert_allclose(goods_full["dispute_refund_amount"], goods_full["amount"], atol=EPS)
    np.testing.assert_allclose(goods_full["dispute_claim_amount"], goods_full["amount"], atol=EPS)
    cancel_full = (full & o["dispute_reason"].isin(CANCEL_REASONS)).to_numpy()
    np.testing.assert_allclose(refund[cancel_full] + award[cancel_full], amount[cancel_full], atol=1e-6)
    # ... and that refund has landed by the time the dispute ended.
    cf = o[cancel_full]
    assert (cf["refunded_at"] <= cf["dispute_resolved_at"]).all()
    # Each refund is paid once (landing on time and being expedited by a dispute exclude each
    # other), and an award only after the dispute ended.
    ev = res.events
    for activity, stamp in (("refund_paid", "refunded_at"), ("dispute_refund_paid", "dispute_refunded_at")):
        n = (ev["activity"] == activity).groupby(ev["order_id"]).sum()
        n = n.reindex(o["order_id"], fill_value=0).to_numpy()
        assert (n == o[stamp].notna().to_numpy()).all(), activity
    awarded = o[paid & o["dispute_refunded_at"].notna()]
    assert (awarded["dispute_resolved_at"] <= awarded["dispute_refunded_at"]).all()


def check_triggers(res: simcore.RunResult) -> None:
    """Each dispute reason opens only after its own kind of trouble."""
    o = res.orders
    reason = o["dispute_reason"]
    on_cancel = o[reason.isin(CANCEL_REASONS)]
    assert (on_cancel["status"] == "cancelled").all()
    assert on_cancel["refund_method"].notna().all()  # paid, so refunded
    assert (on_cancel["cancelled_at"] <= on_cancel["dispute_opened_at"]).all()
    suspicious = o[reason == "suspicious_cancellation"]
    assert suspicious["cancel_reason"].isin(SELLER_REASONS).all()
    assert (suspicious["cancel_initiator"] == "seller").all()
    late = o[reason == "refund_late"]
    # The refund had not landed when the buyer disputed it.
    assert (late["refunded_at"].isna() | (late["refunded_at"] >= late["dispute_opened_at"])).all()
    short = o[reason == "refund_wrong_amount"]
    assert (short["refund_amount"] < short["amount"] - EPS).all()
    goods = o[reason.isin(GOODS_REASONS)]
    assert goods["shipped_at"].notna().all()
    assert goods["cancelled_at"].isna().all()
    assert (goods["shipped_at"] <= goods["dispute_opened_at"]).all()
    nad = o[reason == "not_as_described"]
    assert nad["delivered_at"].notna().all()
    assert (nad["delivered_at"] <= nad["dispute_opened_at"]).all()
    nd = o[reason == "not_delivered"]
    # Opened when the wait runs out, on a parcel that had not arrived by then.
    wait_h = res.scenario.platform.disputes.not_delivered_after_days * 24.0
    np.testing.assert_allclose(
        hours(res, nd["dispute_opened_at"]) - hours(res, nd["shipped_at"]), wait_h, atol=1e-5
    )
    assert (nd["delivered_at"].isna() | (nd["delivered_at"] > nd["dispute_opened_at"])).all()


def check_churn(model: RunRecord, res: simcore.RunResult) -> int:
    """No order is placed by a legitimate buyer after the hour they churned.

    Returns:
        The number of buyers who churned.
    """
    o = res.orders
    churned_at = model.churned_at
    legit = o[~o["is_fraud"]]
    assert (legit["buyer_id"] < len(churned_at)).all()
    assert (o.loc[o["is_fraud"], "buyer_id"] >= len(churned_at)).all()
    churn = churned_at[legit["buyer_id"].to_numpy()]
    after = legit["placed_hour"].to_numpy() > churn  # NaN compares False
    assert not after.any(), legit.loc[after, ["order_id", "buyer_id", "placed_hour"]]
    # A buyer churns only after a bad experience on one of their own orders.
    churners = np.flatnonzero(~np.isnan(churned_at))
    first = o.groupby("buyer_id")["placed_hour"].min()
    assert (first.reindex(churners).to_numpy() <= churned_at[churners]).all()
    # The daily count ends at the number churned by the horizon, never falling on the way.
    daily = res.timeseries["buyers_churned"].to_numpy()
    assert daily[-1] == len(churners) and np.all(np.diff(daily) >= 0)
    # The KPI: of the legitimate buyers whose first order falls in the KPI window, those who
    # churned within buyers.follow_up_days of it; null when the run cannot follow them that long.
    scn = res.scenario
    lo, hi = kpi_window(scn)
    follow = scn.buyers.follow_up_days * 24.0
    firsts = legit.groupby("buyer_id")["placed_hour"].min()
    cohort = firsts[(firsts >= lo) & (firsts < hi)]
    if hi + follow > scn.horizon_hours:
        assert res.kpis["buyer_churn_rate"] is None
    elif len(cohort):
        left = churned_at[cohort.index.to_numpy()] - cohort.to_numpy() <= follow
        assert res.kpis["buyer_churn_rate"] == pytest.approx(left.mean())
    return len(churners)


def check_suspensions(model: RunRecord, res: simcore.RunResult) -> None:
    """No order of a seller is placed or shipped while it is suspended; suspension
    cancellations happen at a suspension of their seller."""
    o, st_ = res.orders, model.standing
    days = res.scenario.platform.penalties.suspension_days
    length = math.inf if days is None else days * 24.0
    placed = o["placed_hour"].to_numpy()
    shipped = hours(res, o["shipped_at"])
    seller = o["seller_id"].to_numpy()
    for t, s in st_.suspended_log:
        mine = seller == s
        during = mine & (placed > t) & (placed < t + length)
        assert not during.any(), (s, t, o.loc[during, "order_id"].tolist())
        assert not (mine & (shipped > t + 1e-6) & (shipped < t + length)).any(), (s, t)
    sus = o[o["cancel_reason"] == "seller_suspended"]
    at = hours(res, sus["cancelled_at"])
    times = {}
    for t, s in st_.suspended_log:
        times.setdefault(s, []).append(t)
    for s, h in zip(sus["seller_id"], at, strict=True):
        assert min(abs(h - t) for t in times.get(s, [math.inf])) < 1e-5, (s, h)
    frame = res.sellers
    counts = np.bincount([s for _, s in st_.suspended_log], minlength=len(frame))
    assert (frame["suspensions"].to_numpy() == counts).all()
    assert (frame.loc[frame["suspension_cancellations"] > 0, "suspensions"] >= 1).all()


def check_kpis(res: simcore.RunResult) -> None:
    """Dispute KPIs add up and agree with the orders frame over the KPI window."""
    k, o = res.kpis, res.orders
    lo, hi = kpi_window(res.scenario)
    w = o[(o["placed_hour"] >= lo) & (o["placed_hour"] < hi)]
    disputed = w[w["dispute_reason"].notna()]
    assert k["orders"] == len(w)
    assert k["disputes"] == len(disputed)
    assert sum(k["disputes_by_reason"].values()) == k["disputes"]
    assert k["disputes_by_reason"] == {
        r: int((disputed["dispute_reason"] == r).sum()) for r in k["disputes_by_reason"]
    }
    resolved = disputed[disputed["dispute_outcome"].notna()]
    assert k["disputes_unresolved"] == len(disputed) - len(resolved)
    shares = k["dispute_outcomes"]
    if len(resolved):
        assert sum(shares.values()) == pytest.approx(1.0)
        for name, share in shares.items():
            assert share == pytest.approx((resolved["dispute_outcome"] == name).mean())
    else:
        assert all(v is None for v in shares.values())
    pm = k["platform_metrics"]
    assert pm["dispute_rate"] == k["dispute_rate"]
    if len(w):
        assert k["dispute_rate"] == pytest.approx(len(disputed) / len(w))
        escalated = disputed["dispute_escalated_at"].notna().sum()
        assert pm["arbitration_filing_rate"] == pytest.approx(escalated / len(w))
        assert k["dispute_refunds_usd"] == pytest.approx(nan0(w["dispute_refund_amount"]).sum(), abs=0.006)


def check_sellers_frame(res: simcore.RunResult) -> None:
    """Per-seller totals are the orders frame's counts; the rating follows its rule."""
    o, f = res.orders, res.sellers
    n = len(f)

    def per_seller(mask: pd.Series) -> np.ndarray:
        return np.bincount(o.loc[mask, "seller_id"], minlength=n)

    fault = o["cancel_reason"].isin(SELLER_FAULT)
    assert (f["orders"].to_numpy() == np.bincount(o["seller_id"], minlength=n)).all()
    assert (f["disputes"].to_numpy() == per_seller(o["dispute_reason"].notna())).all()
    assert (f["seller_cancellations"].to_numpy() == per_seller(fault)).all()
    assert (
        f["suspension_cancellations"].to_numpy() == per_seller(o["cancel_reason"] == "seller_suspended")
    ).all()
    assert (f["disputes_escalated"].to_numpy() == per_seller(o["dispute_escalated_at"].notna())).all()
    # Rating: smoothed share of good orders. Bad: seller-responsible cancellations and goods or
    # cancellation disputes the seller paid out on; good: delivered, completed orders with no
    # dispute the seller lost (a lost parcel closed by the platform counts as neither).
    won = o["dispute_outcome"].isin(["full_refund", "partial_refund"])
    lost_dispute = won & ~o["dispute_reason"].isin(REFUND_REASONS)
    good = (o["status"] == "completed") & o["delivered_at"].notna() & ~lost_dispute
    bad = per_seller(fault) + per_seller(lost_dispute)
    r = res.scenario.platform.seller_rating
    expected = (per_seller(good) + r.prior * r.prior_weight) / (per_seller(good) + bad + r.prior_weight)
    np.testing.assert_allclose(f["rating"].to_numpy(), expected, rtol=1e-12)


def check_all(model: RunRecord, res: simcore.RunResult) -> None:
    check_statuses(res)
    check_dispute_lifecycle(res)
    check_money(res)
    check_triggers(res)
    check_churn(model, res)
    check_suspensions(model, res)
    check_kpis(res)
    check_sellers_frame(res)


# --------------------------------------------------------------------------- troubled runs


def test_troubled_run_meets_every_kind_of_dispute(troubled):
    # The fixture is only worth its checks if it exercises every path they look at.
    _, res = troubled
    o = res.orders
    reasons = o["dispute_reason"].value_counts()
    assert (reasons > 0).all(), reasons.to_dict()
    assert (o["dispute_outcome"].value_counts() > 0).all()
    assert (o["dispute_stage"].value_counts() > 0).all()
    agreed = o["dispute_stage"] == "negotiation"
    assert (o.loc[agreed, "dispute_outcome"] == "partial_refund").any()
    assert (o["refund_amount"] < o["amount"] - EPS).sum() > 5  # short refunds


def test_a_dispute_resolves_at_most_once_and_in_stage_order(troubled):
    _, res = troubled
    check_statuses(res)
    check_dispute_lifecycle(res)
    assert res.orders["dispute_escalated_at"].notna().sum() > 10
    assert (res.events["activity"] == "dispute_agreed").sum() > 5


def test_nobody_gets_back_more_than_they_paid(troubled):
    _, res = troubled
    o = res.orders
    check_money(res)
    # The situations the money rules are about all occurred.
    assert ((o["dispute_outcome"] == "partial_refund") & o["dispute_refund_amount"].notna()).sum() > 3
    assert (o["dispute_outcome"] == "rejected").sum() > 5
    made_up = o["refund_amount"].notna() & o["dispute_refund_amount"].notna()
    assert made_up.sum() > 3  # shortfalls made up on top of a cancellation refund


def test_disputes_open_only_after_their_trouble(troubled):
    _, res = troubled
    check_triggers(res)
    o = res.orders
    # Buyer and system cancellations happened too, and none of them was disputed as suspicious.
    assert (o["cancel_initiator"] == "buyer").sum() > 5
    not_seller = o["cancel_reason"].notna() & ~o["cancel_reason"].isin(SELLER_REASONS)
    assert not (not_seller & (o["dispute_reason"] == "suspicious_cancellation")).any()
    # Lost parcels were disputed, and so were late ones that arrived during the dispute.
    nd = o["dispute_reason"] == "not_delivered"
    assert (nd & o["delivered_at"].isna()).any() and (nd & o["delivered_at"].notna()).any()


def test_churned_buyers_place_no_more_orders(troubled):
    model, res = troubled
    assert check_churn(model, res) > 10
    # Churned buyers did come back to the market, and were turned away.
    assert res.kpis["orders_forgone"] > 0
    # 24 days with no cool-down cannot follow a buyer for buyers.follow_up_days (90): the KPI
    # is null, not a count to the horizon (tests/model/test_disputes.py measures it).
    assert res.kpis["buyer_churn_rate"] is None


def test_dispute_kpis_agree_with_the_orders_frame(troubled):
    _, res = troubled
    assert res.kpis["disputes"] > 50
    check_kpis(res)


def test_sellers_frame_totals_agree_with_the_orders_frame(troubled):
    model, res = troubled
    f = res.sellers
    assert f["disputes"].sum() > 50 and f["seller_cancellations"].sum() > 20
    assert (res.orders["cancel_reason"] == "ship_deadline_missed").sum() > 5
    check_sellers_frame(res)


# --------------------------------------------------------------------------- suspension


def test_permanent_suspension_ends_a_sellers_sales():
    scn = quiet(
        {
            **TROUBLED,
            "horizon_days": 30,
            # Unreliable sellers neglect orders (missed ship-by deadlines); the others cause
            # no seller-responsible cancellations, so that only the unreliable are suspended.
            "sellers.unreliable_share": 0.5,
            "sellers.unreliable_neglect_share": 0.3,
            "sellers.pricing.error_listing_share": 0.0,
            "shipping.destinations.US.shipping_cost_usd": {"dist": "lognormal", "mean": 1.0, "sd": 0.1},
            "platform.ship_by_days": 2.0,
            "platform.penalties.window_days": 10.0,
            "platform.penalties.min_orders": 3,
            "platform.penalties.warn_cancel_rate": 0.1,
            "platform.penalties.suspend_cancel_rate": 0.2,
            "platform.penalties.grace_days": 0.0,
            "platform.penalties.suspension_days": None,
            # Bare rates, and rulings out of reach: only the cancellation rate judges.
            "platform.penalties.confidence": None,
            "platform.penalties.warn_ruling_rate": 1.0,
            "platform.penalties.suspend_ruling_rate": 1.0,
        }
    )
    model, res = run_model(scn)
    o, f = res.orders, res.sellers
    suspended = f[f["suspensions"] >= 1]
    assert len(suspended) >= 1
    # Some sellers stay: the market goes on with them.
    assert len(suspended) < len(f)
    assert suspended["unreliable"].all()
    assert (f["suspensions"] <= 1).all()  # for good: never reinstated, never suspended again
    assert res.kpis["seller_suspensions"] == len(suspended)
    sus = o[o["cancel_reason"] == "seller_suspended"]
    assert len(sus) > 0
    assert sus["seller_id"].isin(suspended["seller_id"]).all()
    for _, row in suspended.iterrows():
        mine = o[o["seller_id"] == row["seller_id"]]
        t = row["first_suspended_at"]
        assert not (mine["placed_at"] > t).any()
        assert not (mine["shipped_at"] > t).any()
        # Its orders unshipped at the suspension were cancelled then.
        open_then = mine[
            (mine["shipped_at"].isna()) & (mine["cancelled_at"].isna() | (mine["cancelled_at"] >= t))
        ]
        assert (open_then["cancelled_at"] == t).all()
        assert (open_then["cancel_reason"] == "seller_suspended").all()
    # The daily count of suspended sellers is the number suspended by each day's end.
    ts = res.timeseries
    ends = pd.Timestamp(scn.start) + pd.to_timedelta(ts["day"], unit="D")
    first = suspended["first_suspended_at"].to_numpy()
    expected = [(first <= e.to_datetime64()).sum() for e in ends]
    assert ts["sellers_suspended"].tolist() == expected
    check_suspensions(model, res)


# --------------------------------------------------------------------------- random scenarios


@st.composite
def aftermath(draw) -> dict:
    """Dotted overrides of a small troubled scenario, every aftermath knob drawn."""
    share = st.floats(0.0, 1.0)
    warn_rate = draw(st.floats(0.02, 0.5))  # a line at 0 warns every seller judged
    warn_rulings = draw(st.integers(1, 4))
    return {
        **TROUBLED,
        "seed": draw(st.integers(0, 2**32 - 1)),
        "horizon_days": 14,
        "buyers.orders_per_hour": 2.0,
        "buyers.fraud_rate": draw(st.floats(0.0, 0.1)),
        "buyers.cancel.change_of_mind": draw(st.floats(0.0, 0.2)),
        "buyers.low_rating.share": draw(share),
        "buyers.trust.initial": draw(st.floats(0.2, 1.0)),
        "buyers.trust.good_order_gain": draw(st.floats(0.0, 0.2)),
        "buyers.trust.cancellation_loss": draw(share),
        "buyers.trust.refund_late_loss": draw(share),
        "buyers.trust.refund_wrong_loss": draw(share),
        "buyers.trust.dispute_lost_loss": draw(share),
        "buyers.trust.churn_share": draw(share),
        "buyers.trust.refund_patience_bdays": draw(st.floats(0.5, 10.0)),
        "sellers.dishonest_share": draw(share),
        "sellers.unreliable_share": draw(share),
        "sellers.unreliable_neglect_share": draw(st.floats(0.0, 0.5)),
        "refunds.wrong_amount_rate": draw(share),
        "refunds.wallet_share": draw(share),
        "shipping.lost_share": draw(share),
        "platform.customer_service.agents": draw(st.integers(1, 4)),
        "platform.disputes.propensity.disguised_cancellation": draw(share),
        "platform.disputes.propensity.seller_cancellation": draw(share),
        "platform.disputes.propensity.refund_late": draw(share),
        "platform.disputes.propensity.refund_wrong_amount": draw(share),
        # At least some goods disputes in every example, so that there is always something to check.
        "platform.disputes.propensity.not_delivered": draw(st.floats(0.05, 1.0)),
        "platform.disputes.propensity.not_as_described": draw(st.floats(0.05, 1.0)),
        "platform.disputes.not_delivered_after_days": draw(st.floats(0.5, 8.0)),
        "platform.disputes.negotiation_days": draw(st.floats(0.1, 6.0)),
        "platform.disputes.seller_accepts_founded": draw(share),
        "platform.disputes.seller_accepts_unfounded": draw(share),
        "platform.disputes.partial_offer_share": draw(share),
        "platform.disputes.partial_accept_share": draw(share),
        "platform.disputes.partial_refund_share": draw(st.floats(0.25, 0.75)),
        "platform.delivery_guarantee_days": draw(st.floats(0.5, 12.0)),
        "platform.penalties.window_days": draw(st.floats(1.0, 20.0)),
        "platform.penalties.min_orders": draw(st.integers(1, 20)),
        "platform.penalties.warn_cancel_rate": warn_rate,
        "platform.penalties.suspend_cancel_rate": min(1.0, warn_rate + draw(st.floats(0.0, 0.5))),
        "platform.penalties.warn_rulings": warn_rulings,
        "platform.penalties.suspend_rulings": warn_rulings + draw(st.integers(0, 3)),
        "platform.penalties.grace_days": draw(st.floats(0.0, 4.0)),
        "platform.penalties.suspension_days": draw(st.none() | st.floats(0.5, 6.0)),
        "platform.penalties.review_interval_days": draw(st.floats(0.25, 2.0)),
        # Durations: how the stages overlap with refunds landing and parcels arriving.
        "warmup_days": draw(st.sampled_from([0.0, 2.0])),
        "refunds.card_delay_bdays": uniform(
            low := draw(st.floats(0.5, 8.0)), low + draw(st.floats(0.1, 8.0)), "days"
        ),
        "refunds.wallet_delay": {"dist": "exponential", "mean": draw(st.floats(0.5, 48.0)), "unit": "hours"},
        "shipping.destinations.US.transit_time": {
            "dist": "lognormal",
            "mean": draw(st.floats(1.0, 8.0)),
            "sd": draw(st.floats(0.1, 4.0)),
            "unit": "days",
        },
        "sellers.handling_time": {
            "dist": "gamma",
            "mean": draw(st.floats(0.2, 3.0)),
            "sd": 1.0,
            "unit": "days",
        },
        "platform.disputes.open_delay": {
            "dist": "exponential",
            "mean": draw(st.floats(0.5, 72.0)),
            "unit": "hours",
        },
        "platform.disputes.intervention_delay": uniform(0.1, draw(st.floats(0.2, 4.0)), "days"),
        "platform.customer_service.review_time": {
            "dist": "exponential",
            "mean": draw(st.floats(0.5, 8.0)),
            "unit": "hours",
        },
    }


# Derandomized: the same 40 scenarios every run. Drawn afresh, one CI run in many met a corner
# the generator allows, every seller suspended for good within days of a 14-day run (a cancel
# line near 10%, one order to judge, a one-day window, reviews every 6 hours), so that no
# more than a few dozen orders shipped, none was disputed, and the first assertion failed on a
# vacuous scenario.
# Seen in a clean-clone run on 2026-11-26 and reproduced on the code from before that day's
# changes: the generator's, not the model's.
@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=aftermath())
def test_aftermath_invariants_hold_for_random_scenarios(overrides):
    scn = quiet(overrides)
    model, res = run_model(scn)
    assert res.kpis["disputes"] > 0
    check_all(model, res)
    # Same scenario, same seed: the same orders and KPIs, bit for bit.
    again = simcore.run(scn)
    assert res.orders.equals(again.orders)
    assert res.events.equals(again.events)
    assert res.sellers.equals(again.sellers)
    assert json.dumps(res.kpis, sort_keys=True) == json.dumps(again.kpis, sort_keys=True)


# --------------------------------------------------------------------------- edges


@pytest.mark.parametrize("share", [0.25, 0.75])
def test_partial_refund_pays_part_of_the_claim_at_the_schema_edges(share):
    # Every delivered order is disputed and settled on the seller's partial offer. Claims of a
    # few cents and a share at the schema's edges put the drawn share (partial_refund_share
    # +- 0.2) within rounding of 0 or of the whole claim: the award must still be part of it.
    res = simcore.run(
        quiet(
            {
                "buyers.orders_per_hour": 2.0,
                "buyers.item_price_usd": {"dist": "lognormal", "mean": 0.1, "sd": 0.03},
                "platform.customer_service.agents": 4,
                "platform.disputes.propensity.not_as_described": 1.0,
                "platform.disputes.negotiation_days": 1.0,
                "platform.disputes.seller_accepts_founded": 0.0,
                "platform.disputes.seller_accepts_unfounded": 0.0,
                "platform.disputes.partial_offer_share": 1.0,
                "platform.disputes.partial_accept_share": 1.0,
                "platform.disputes.partial_refund_share": share,
            }
        )
    )
    partial = res.orders[res.orders["dispute_outcome"] == "partial_refund"]
    assert len(partial) > 500
    claim = partial["dispute_claim_amount"]
    assert claim.min() >= 0.02 and claim.max() < 0.3  # a cent is the smallest part of a claim
    award = partial["dispute_refund_amount"].fillna(0.0)
    assert (award > 0.0).all(), partial.loc[award <= 0.0, ["order_id", "dispute_claim_amount"]]
    assert (award < claim).all(), partial.loc[award >= claim, ["order_id", "dispute_claim_amount"]]


def test_sellers_under_min_orders_are_not_judged_on_their_cancellation_rate():
    # Lines at 0 would catch any seller judged on its rate; none has the orders to be judged.
    res = simcore.run(
        quiet(
            {
                "horizon_days": 5,
                "platform.penalties.min_orders": 1000,
                "platform.penalties.warn_cancel_rate": 0.0,
                "platform.penalties.suspend_cancel_rate": 0.0,
                "platform.penalties.grace_days": 0.0,
            }
        )
    )
    f = res.sellers
    assert f["cleared"].sum() > 20 and (f["cleared"] < 1000).all()
    assert f["warnings"].sum() == 0 and f["suspensions"].sum() == 0, f[["seller_id", "cleared", "warnings"]]
