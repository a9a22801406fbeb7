"""Buyers' trust (simcore/model/trust.py, its writers in simcore/model/disputes.py and
simcore/model/orderbook.py): how much each experience moves it.

Trust is not in the frames, so it is read from the world's state:

- Tier 1, one experience at a time: the run's desks are built from a fresh run context
  (``simcore.model.world.build``, not started: no arrivals) and one order of buyer 0 is walked
  through the experience by hand at fixed hours; the buyer's trust is read at checkpoints and
  compared with literal values worked out from the ``buyers.trust`` numbers in ``TRUST``.
- Tier 3, a whole run with every experience mixed: trust of every buyer at the end against a
  ledger counted from the orders table (the README's rules, with losses small enough that
  trust never clips at 0 or 1, so only the counts matter).
- Tier 1, churn as a witness: with ``churn_share`` 1 and a lost dispute costing all of a
  buyer's trust, the buyer leaves at the ruling's hour, seen in the run's record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from simcore.engine.columns import as_numpy
from simcore.model.context import RunContext
from simcore.model.draws import LATE_DISPUTE, MERIT
from simcore.model.order import Order
from simcore.model.vocabulary import State
from simcore.model.world import RunRecord, World, build, start
from simcore.results.collect import collect
from tests.conftest import after_row, const, quiet, seed

#: The trust numbers of the one-experience cases, each loss distinct so that a loss taken in
#: place of another shows. Start Monday 2026-01-05 (QUIET's start); every case acts at hour 10.
TRUST = {
    "buyers.trust.initial": 0.8,
    "buyers.trust.good_order_gain": 0.03,
    "buyers.trust.cancellation_loss": 0.2,
    "buyers.trust.refund_late_loss": 0.1,
    "buyers.trust.refund_wrong_loss": 0.15,
    "buyers.trust.dispute_lost_loss": 0.25,
    "buyers.trust.refund_patience_bdays": 15.0,
}
ACT_H = 10.0
# Patience: 15 business days after Monday 10:00 is three weeks later, Monday 2026-01-26 10:00
# = hour 10 + 21 * 24 = 514. A 20-business-day card refund lands four weeks later, hour
# 10 + 28 * 24 = 682. A wallet refund lands QUIET's wallet_delay (1 h) later, hour 11.
PATIENCE_H = 514.0
CARD_20_H = 682.0
WALLET_H = 11.0
CARD_20 = {"refunds.card_delay_bdays": const(20.0, "days")}
# A not-as-described dispute opened 24 h after hour 10 on a delivered order: review 2 h (QUIET),
# no settlement (the seller never accepts, makes no offer), negotiation window 168 h, evidence
# 72 h (QUIET's intervention_delay), ruling 4 h: ruled at 34 + 2 + 168 + 72 + 4 = hour 280.
NAD_RULED_H = 280.0
NAD = {
    "platform.disputes.seller_accepts_founded": 0.0,
    "platform.disputes.seller_accepts_unfounded": 0.0,
    "platform.disputes.partial_offer_share": 0.0,
    "platform.disputes.ruling.evidence_weight": 0.0,
    "platform.disputes.ruling.history_weight": 0.0,
    "platform.disputes.ruling.partial_below": 0.0,
}


@dataclass(frozen=True)
class Case:
    """One experience of buyer 0's single order, and the buyer's trust at checkpoint hours."""

    overrides: dict
    action: Callable  # (parts, env, order), called at hour ACT_H
    checkpoints: list[tuple[float, float]]
    card: bool = True
    paid: bool = True
    state: State = State.AWAITING_SHIPMENT
    draws: dict[int, float] = field(default_factory=dict)


def cancel(reason: str) -> Callable:
    return lambda parts, env, o: parts.book.cancel(o, reason)


def complete(parts, env, o):
    parts.book.complete(o)


def dispute_goods(parts, env, o):
    env.process(parts.disputes.open_later(o, "not_as_described", 24.0))


CASES = {
    # 0.8 + 0.03 = 0.83.
    "good_order": Case({}, complete, [(9.0, 0.8), (10.5, 0.83)], state=State.DELIVERED),
    # Paid by wallet (refund in full at hour 11, long before the patience): 0.8 - 0.2 = 0.6.
    "seller_cancels_paid_order": Case(
        {}, cancel("pricing_error"), [(9.0, 0.8), (10.5, 0.6), (800.0, 0.6)], card=False
    ),
    "system_cancels_paid_order": Case(
        {}, cancel("ship_deadline_missed"), [(10.5, 0.6), (800.0, 0.6)], card=False
    ),
    # The buyer asked for it: no loss.
    "buyer_cancels_paid_order": Case({}, cancel("change_of_mind"), [(10.5, 0.8), (800.0, 0.8)], card=False),
    # A failed payment frustrates: 0.8 - 0.05 (buyers.trust.payment_failure_loss) = 0.75.
    "system_cancels_unpaid_order": Case(
        {}, cancel("payment_failed"), [(10.5, 0.75), (800.0, 0.75)], paid=False, state=State.PAYING
    ),
    # Nothing had been paid and nothing failed (a prohibited item caught): no loss.
    "system_cancels_unpaid_order_for_another_reason": Case(
        {}, cancel("prohibited_item"), [(10.5, 0.8), (800.0, 0.8)], paid=False, state=State.SCREENING
    ),
    # A card refund due at hour 682, past the patience at hour 514: 0.8 - 0.1 = 0.7 at 514.
    "late_refund": Case(
        CARD_20,
        cancel("change_of_mind"),
        [(10.5, 0.8), (PATIENCE_H - 0.5, 0.8), (PATIENCE_H + 0.5, 0.7), (CARD_20_H + 1.0, 0.7)],
    ),
    # A wallet refund paid short, noticed when it lands at hour 11: 0.8 - 0.15 = 0.65.
    "short_refund": Case(
        {"refunds.wrong_amount_rate": 1.0},
        cancel("change_of_mind"),
        [(10.5, 0.8), (WALLET_H + 0.5, 0.65), (800.0, 0.65)],
        card=False,
    ),
    # All three on one order: seller cancels a card-paid order (0.6 at hour 10), the refund is
    # late (0.5 at 514) and short (0.35 when it lands at 682).
    "seller_cancels_late_short_refund": Case(
        {**CARD_20, "refunds.wrong_amount_rate": 1.0},
        cancel("pricing_error"),
        [(10.5, 0.6), (PATIENCE_H + 0.5, 0.5), (CARD_20_H - 0.5, 0.5), (CARD_20_H + 0.5, 0.35)],
    ),
    # A late-refund dispute opened at the patience (hour 514) while the card refund is pending;
    # 15.03 business days put its landing at 514 + 0.03 * 24 = hour 514.72, during the 2 h
    # review, which then finds nothing owed: rejected at hour 516. 0.8 - 0.1 (late, at 514)
    # - 0.25 (lost, at 516) = 0.45.
    "refund_dispute_rejected": Case(
        {"refunds.card_delay_bdays": const(15.03, "days"), "platform.disputes.propensity.refund_late": 1.0},
        cancel("change_of_mind"),
        [(PATIENCE_H - 0.5, 0.8), (PATIENCE_H + 1.0, 0.7), (PATIENCE_H + 2.5, 0.45), (800.0, 0.45)],
        draws={LATE_DISPUTE: 0.0},
    ),
    # The same dispute with the refund still pending at the review (20 business days): the
    # buyer wins, the refund is paid at once; only the late loss: 0.7.
    "refund_dispute_won": Case(
        {**CARD_20, "platform.disputes.propensity.refund_late": 1.0},
        cancel("change_of_mind"),
        [(PATIENCE_H + 1.0, 0.7), (PATIENCE_H + 2.5, 0.7), (800.0, 0.7)],
        draws={LATE_DISPUTE: 0.0},
    ),
    # An unfounded not-as-described claim (merit draw 0.99 >= merit share 0.5) the platform
    # rules against (no_merit_win 0): 0.8 - 0.25 = 0.55 at hour 280.
    "goods_dispute_rejected": Case(
        {**NAD, "platform.disputes.ruling.no_merit_win": 0.0},
        dispute_goods,
        [(NAD_RULED_H - 0.5, 0.8), (NAD_RULED_H + 0.5, 0.55), (800.0, 0.55)],
        state=State.DELIVERED,
    ),
    # A founded one (merit draw 0 < 0.5) ruled for the buyer (merit_win 1): no loss.
    "goods_dispute_won": Case(
        {**NAD, "platform.disputes.ruling.merit_win": 1.0},
        dispute_goods,
        [(NAD_RULED_H + 0.5, 0.8), (800.0, 0.8)],
        state=State.DELIVERED,
        draws={MERIT: 0.0},
    ),
}


def walk(case: Case) -> tuple[list[float], float]:
    """Buyer 0's trust at each checkpoint of ``case``, and the hour the buyer churned."""
    ctx = RunContext.fresh(quiet({**TRUST, **case.overrides}), seed(7))
    parts = build(ctx)
    draws = after_row(ctx.scn)  # no dispute, no churn, no merit, no acceptance, ruling lost
    for i, u in case.draws.items():
        draws[i] = u
    oid = ctx.rec.new_order(0, 0, 0, 0, 0, 1, 20.0, 0.0, False, False, True, 0 if case.card else 1, 0)
    o = Order(
        id=oid,
        buyer=0,
        seller=0,
        sku=0,
        dest=0,
        qty=1,
        amount=20.0,
        is_fraud=False,
        stolen_card=False,
        card=case.card,
        verified=True,
        signals=0,
        cancel_reason=None,
        address_conflict=False,
        neglected=False,
        screen_draws=(),
        pay_draws=(),
        after_draws=draws,
    )
    o.state, o.paid, o.reserved = case.state, case.paid, False
    parts.book.register(o)
    env = ctx.env

    def act():
        yield env.timeout(ACT_H)
        case.action(parts, env, o)

    env.process(act())
    seen = []
    for hour, _ in case.checkpoints:
        env.run(until=hour)
        seen.append(parts.trust.trust[0])
    return seen, parts.trust.churned_at[0]


@pytest.mark.trace
@pytest.mark.parametrize("name", list(CASES))
def test_one_experience_moves_trust_by_its_own_amount(name):
    case = CASES[name]
    seen, churned = walk(case)
    assert seen == pytest.approx([t for _, t in case.checkpoints], abs=1e-12)
    assert math.isnan(churned)  # the churn draws (0.99) never say so


@pytest.mark.trace
def test_trust_gain_is_capped_at_one():
    # 0.99 + 0.03 caps at 1.0.
    seen, _ = walk(Case({"buyers.trust.initial": 0.99}, complete, [(10.5, 1.0)], state=State.DELIVERED))
    assert seen == [1.0]


@pytest.mark.trace
def test_trust_loss_floors_at_zero():
    # Losses of 0.5: 0.8 - 0.5 = 0.3 at the seller's cancellation (hour 10), then 0.3 - 0.5
    # floors at 0 when the short wallet refund lands (hour 11).
    big = {"buyers.trust.cancellation_loss": 0.5, "buyers.trust.refund_wrong_loss": 0.5}
    case = Case(
        {**big, "refunds.wrong_amount_rate": 1.0},
        cancel("pricing_error"),
        [(10.5, 0.3), (WALLET_H + 0.5, 0.0)],
        card=False,
    )
    seen, _ = walk(case)
    assert seen == pytest.approx([0.3, 0.0], abs=1e-12)


# ---------------------------------------------------------------- a whole run, by ledger

#: Every experience in one run; losses small enough that no buyer's trust reaches 0 or 1 (about
#: 9 orders per buyer, rarely over 20; an order costs at most 0.009 or gains 0.001, from 0.5),
#: so a buyer's final trust is initial + gain * good - sum of loss * count, whatever the order
#: of events.
LEDGER = {
    "horizon_days": 30,  # arrivals stop here; the clock runs on until everything is settled
    "buyers.population": 40,
    "buyers.cancel.change_of_mind": 0.1,  # buyer-asked cancellations of paid orders: no loss
    "sellers.neglect_share": 0.1,  # system cancellations (ship_deadline_missed) of paid orders
    # About a third of the carrier quotes exceed the cap: seller cancellations.
    "shipping.destinations.US.shipping_cost_usd": {"dist": "lognormal", "mean": 10.0, "sd": 10.0},
    "shipping.destinations.US.cost_cap_usd": 12.0,
    "refunds.wallet_share": 0.5,  # wallet refunds: 1 h, never late
    "refunds.card_delay_bdays": const(20.0, "days"),  # card refunds: always past the patience
    "refunds.wrong_amount_rate": 0.5,
    "platform.disputes.propensity.not_as_described": 0.2,  # all unfounded and rejected
    "platform.disputes.not_as_described_merit": 0.0,
    "platform.disputes.seller_accepts_unfounded": 0.0,
    "platform.disputes.partial_offer_share": 0.0,
    "platform.disputes.ruling.no_merit_win": 0.0,
    "platform.disputes.ruling.evidence_weight": 0.0,
    "platform.disputes.ruling.history_weight": 0.0,
    "platform.customer_service.agents": 50,
    "buyers.trust.initial": 0.5,
    "buyers.trust.good_order_gain": 0.001,
    "buyers.trust.cancellation_loss": 0.004,
    "buyers.trust.refund_late_loss": 0.002,
    "buyers.trust.refund_wrong_loss": 0.003,
    "buyers.trust.dispute_lost_loss": 0.005,
    "buyers.trust.churn_share": 0.0,
    "buyers.trust.refund_patience_bdays": 15.0,
}
SETTLED_H = 75 * 24.0  # 45 days after the last arrival: every refund, dispute and parcel done


@pytest.mark.property
@pytest.mark.parametrize("n", [7, 8, 9])
def test_every_buyers_trust_matches_the_ledger_of_their_orders(n):
    scn = quiet({**LEDGER, "seed": n})
    ctx = RunContext.fresh(scn, scn.seed)
    parts = build(ctx)
    start(ctx, parts)
    parts.parcels.horizon_h = SETTLED_H  # the clock runs past the horizon: the parcels are told
    ctx.env.run(until=SETTLED_H)
    parts.parcels.settle(SETTLED_H)  # confirmations due by now raise trust
    trust = np.array(parts.trust.trust)
    record = RunRecord(
        scenario=scn,
        seed=scn.seed,
        replication=0,
        rec=ctx.rec,
        calendar=ctx.calendar,
        traits=parts.traits,
        seller_accuracy=parts.inventory.seller_accuracy,
        standing=parts.standing,
        churned_at=as_numpy(parts.trust.churned_at),
        stock_counts=np.frombuffer(parts.inventory.counts, dtype=np.int64).copy(),
    )
    o = collect(record).orders
    assert (o["status"] != "open").all()
    refunded = o["refund_amount"].notna()
    assert o.loc[refunded, "refunded_at"].notna().all()  # every refund has landed
    # The README's rules, counted per order.
    cancelled = o["status"] == "cancelled"
    good = (o["status"] == "completed") & o["dispute_reason"].isna()
    not_asked = cancelled & refunded & o["cancel_initiator"].isin(["seller", "system"])
    late = o["refund_method"] == "original"  # 20 business days > 15 of patience, never expedited
    short = refunded & (o["refund_amount"] < o["amount"])
    lost = o["dispute_outcome"] == "rejected"
    for kind in (good, not_asked, late, short, lost, cancelled & refunded & ~not_asked):
        assert kind.sum() > 0  # each experience happens (the last: buyer-asked cancellations)
    t = LEDGER
    delta = (
        t["buyers.trust.good_order_gain"] * good
        - t["buyers.trust.cancellation_loss"] * not_asked
        - t["buyers.trust.refund_late_loss"] * late
        - t["buyers.trust.refund_wrong_loss"] * short
        - t["buyers.trust.dispute_lost_loss"] * lost
    )
    expected = np.full(scn.buyers.population, t["buyers.trust.initial"])
    np.add.at(expected, o["buyer_id"].to_numpy(), delta.to_numpy(dtype=float))
    assert expected.min() > 0.0 and expected.max() < 1.0  # no clipping: the ledger is exact
    assert trust == pytest.approx(expected, abs=1e-9)


# ---------------------------------------------------------------- churn as a witness


@pytest.mark.trace
def test_a_rejected_dispute_that_costs_all_trust_makes_the_buyer_leave_at_the_ruling():
    # Trust 0.8 (no gains) - 0.8 = 0 after a rejected dispute; the buyer then leaves with
    # probability churn_share * (1 - 0) = 1, at the ruling's hour. Nothing else costs trust.
    scn = quiet(
        {
            **NAD,
            "horizon_days": 60,
            "buyers.orders_per_hour": 0.1,
            "buyers.population": 60,
            "platform.customer_service.agents": 50,
            "platform.disputes.propensity.not_as_described": 0.3,
            "platform.disputes.not_as_described_merit": 0.0,
            "platform.disputes.ruling.no_merit_win": 0.0,
            "buyers.trust.initial": 0.8,
            "buyers.trust.good_order_gain": 0.0,
            "buyers.trust.dispute_lost_loss": 0.8,
            "buyers.trust.churn_share": 1.0,
        }
    )
    record = World(scn).run()
    churned_at = record.churned_at.copy()
    result = collect(record)
    o = result.orders
    rejected = o[o["dispute_outcome"] == "rejected"]
    assert len(rejected) >= 3
    assert (o["dispute_outcome"].dropna() == "rejected").all()
    ruled_h = (rejected["dispute_resolved_at"] - pd.Timestamp(scn.start)) / pd.Timedelta(hours=1)
    first_ruling = ruled_h.groupby(rejected["buyer_id"]).min().to_dict()
    for buyer in range(scn.buyers.population):
        if buyer in first_ruling:
            assert churned_at[buyer] == pytest.approx(first_ruling[buyer], abs=1e-6)
        else:
            assert math.isnan(churned_at[buyer])
    # The daily count of buyers churned (kept as they churn) is the churners by each day's end.
    days = result.timeseries["day"].to_numpy()
    by_day = [int((churned_at <= 24.0 * d).sum()) for d in days]
    assert result.timeseries["buyers_churned"].tolist() == by_day and by_day[-1] == len(first_ruling)
