"""The seed's pricing and dishonesty stories, and cancelling after shipment (issue 18, items 4-6):
each key moves what it claims, in the direction a domain expert expects.

- Pricing errors come from what erodes a margin between repricings (typos, supplier rises,
  exchange-rate drift), each cause recorded; none without a cause, since target margins are
  above cost and repricing restores them.
- A dishonest seller dodges any loss and covers it with ``out_of_stock``; any seller may ask the
  buyer to cancel (the buyer's cancellation, the truth kept); buyers dispute on what they see.
- A buyer who still wants out once the order shipped refuses or returns it; the return's
  shipping is paid per policy.

Each scenario is QUIET's (tests/conftest.py) with the path under test switched on; runs of one
seed share their random numbers, so comparisons between two settings are paired.
"""

from __future__ import annotations

import pandas as pd
import pytest

import simcore
from simcore.model.vocabulary import PRICING_CAUSE, REASONS_BY_INITIATOR
from simcore.model.world import World
from tests.conftest import const, quiet

pytestmark = pytest.mark.property

SELLER_REASONS = set(REASONS_BY_INITIATOR["seller"])

#: A busier QUIET: 20 sellers of 10 listings, ~5,800 orders over 60 days, stock plenty.
BUSY = {
    "horizon_days": 60,
    "buyers.orders_per_hour": 4.0,
    "buyers.population": 3000,
    "sellers.count": 20,
    "sellers.skus_per_seller": 10,
    "sellers.pricing.margin_sd": 0.06,
}
#: Margins eroded by one cause at a time, hard enough to cause dozens of pricing errors.
TYPOS = {"sellers.pricing.typos_per_listing_year": 20.0}
SUPPLIER = {
    "sellers.pricing.supplier_increases_per_year": 20.0,
    "sellers.pricing.supplier_increase_mean": 0.3,
}
FX = {"sellers.pricing.fx_daily_volatility": 0.05}


def run(overrides: dict) -> simcore.RunResult:
    return simcore.run(quiet({**BUSY, **overrides}))


def pricing_errors(res: simcore.RunResult) -> pd.DataFrame:
    """The orders whose true reason is a pricing error."""
    o = res.orders
    return o[o["true_reason"] == "pricing_error"]


# --------------------------------------------------------------------------- item 4: pricing


def test_no_listing_sells_below_cost_without_a_cause():
    # Target margins vary widely (sd 0.2 around 0.15: a normal draw would put a fifth of the
    # listings below cost for good); with nothing eroding them, no sale is ever at a loss.
    res = run({"sellers.pricing.margin_sd": 0.2})
    assert len(res.orders) > 5000
    assert pricing_errors(res).empty and res.orders["pricing_error_cause"].isna().all()


@pytest.mark.parametrize(
    ("cause", "overrides"), [("typo", TYPOS), ("supplier_cost", SUPPLIER), ("exchange_rate", FX)]
)
def test_each_cause_of_a_pricing_error_is_recorded(cause, overrides):
    errors = pricing_errors(run(overrides))
    assert len(errors) > 10, f"premise failed: {len(errors)} pricing errors from {cause}"
    assert set(errors["pricing_error_cause"].astype(str)) == {cause}


def test_repricing_restores_margins_so_more_frequent_repricing_means_fewer_losses():
    # Supplier rises erode margins until the seller reprices: repricing every 3 days leaves them
    # less time to bite than every 30. A seller who notices a loss reprices at once, so each rise
    # costs at most one sale per seller either way, and the gap is modest: every 3 days gave
    # 0.76-0.92 of every 30 days' pricing errors on seeds 1-5 (paired runs), never more.
    rare = pricing_errors(run({**SUPPLIER, "sellers.strategy.repricing_interval_days": 30}))
    often = pricing_errors(run({**SUPPLIER, "sellers.strategy.repricing_interval_days": 3}))
    assert len(rare) > 20
    assert len(often) < len(rare)


def test_a_repricing_restores_the_target_margin_whatever_eroded_it():
    w = World(quiet(BUSY))
    _, parts = w._running  # the world as built, before its clock runs
    costs, inv = parts.costs, parts.inventory
    seller, sku = 3, 3 * 10 + 2  # a listing of seller 3 (catalogs are blocks of 10)
    target = inv.true_margin[sku]
    assert target > 0.0 and costs.profit(sku, seller) == pytest.approx(target)
    costs.cost[seller] *= 1.5  # the supplier raised costs by half
    costs.rates[0] *= 0.9  # the listing currency lost 10%
    inv.typo(sku)
    assert costs.cause(sku, seller) == PRICING_CAUSE["typo"]
    assert costs.profit(sku, seller) < -0.6
    costs.reprice(seller)
    assert costs.profit(sku, seller) == pytest.approx(target)
    # Which erosion counts as the cause: the larger since the last repricing.
    costs.cost[seller] *= 1.2
    costs.rates[0] *= 0.95
    assert costs.cause(sku, seller) == PRICING_CAUSE["supplier_cost"]
    costs.rates[0] *= 0.8
    assert costs.cause(sku, seller) == PRICING_CAUSE["exchange_rate"]


# --------------------------------------------------------------------------- item 5: dishonesty


def test_a_dishonest_seller_dodges_any_loss_and_covers_it_with_out_of_stock():
    # Rises small enough that many sales land between a 3% loss (shipped by an honest seller) and
    # 0 (dodged by a dishonest one).
    mild = {
        "sellers.pricing.supplier_increases_per_year": 30.0,
        "sellers.pricing.supplier_increase_mean": 0.1,
    }
    honest = run({**mild, "sellers.dishonest_share": 0.0})
    dishonest = run({**mild, "sellers.dishonest_share": 1.0})
    h, d = pricing_errors(honest), pricing_errors(dishonest)
    assert len(h) > 10 and len(d) > 1.2 * len(h)
    assert (h["cancel_reason"] == "pricing_error").all()
    assert (d["cancel_reason"] == "out_of_stock").all()
    assert dishonest.kpis["disguised_cancellations"] > 0 == honest.kpis["disguised_cancellations"]


def test_a_seller_who_asks_the_buyer_to_cancel_has_it_counted_as_the_buyers():
    res = run(
        {
            **TYPOS,
            "sellers.ask_buyer_to_cancel_share": 1.0,
            # A buyer would dispute any seller cancellation: none does, as none is the seller's.
            "platform.disputes.propensity.seller_cancellation": 1.0,
            "platform.disputes.propensity.disguised_cancellation": 1.0,
        }
    )
    o = res.orders
    caused = o[o["true_reason"].isin(SELLER_REASONS)]
    assert len(caused) > 10
    assert (caused["cancel_reason"] == "change_of_mind").all()
    assert (caused["cancel_initiator"] == "buyer").all()
    assert res.sellers["seller_cancellations"].sum() == 0  # the platform holds none against them
    assert res.kpis["disguised_cancellations"] == len(caused)
    assert caused["dispute_reason"].isna().all()


def test_buyers_dispute_what_they_can_see_not_the_hidden_truth():
    # Dishonest sellers cover typo losses with out_of_stock and leave the listing's stock on
    # record: every buyer sees it still on sale (disguised_cancellation propensity 1). Honest
    # stock-outs correct the record (the listing shows nothing left): with the propensity of any
    # other seller cancellation at 0, none is disputed.
    res = run(
        {
            **TYPOS,
            "sellers.dishonest_share": 1.0,
            "sellers.initial_stock_mean": 3.0,  # real stock-outs too
            "sellers.inventory_accuracy": 0.3,
            "sellers.strategy.low_stock_alert": True,
            "platform.disputes.propensity.disguised_cancellation": 1.0,
            "platform.disputes.propensity.seller_cancellation": 0.0,
            "platform.disputes.open_delay": const(1.0),
        }
    )
    o = res.orders
    stated_oos = o["cancel_reason"] == "out_of_stock"
    covers = o[stated_oos & (o["true_reason"] == "pricing_error")]
    honest = o[stated_oos & (o["true_reason"] == "out_of_stock")]
    assert len(covers) > 10 and len(honest) > 10, (len(covers), len(honest))
    assert (covers["dispute_reason"] == "suspicious_cancellation").all()
    # An honest stock-out shows stock only when a multi-unit order found fewer units than it
    # wanted (QUIET baskets are single units): none is disputed.
    assert honest["dispute_reason"].isna().all()


# --------------------------------------------------------------------------- item 6: returns

#: Buyers ask to cancel a fifth of their orders, ~1.5 days after placing them on average:
#: about half of them after shipment (QUIET ships 26 h after placement); sellers refuse half the
#: requests made in time.
LATE = {
    "buyers.cancel.change_of_mind": 0.2,
    "buyers.cancel.request_time": {"dist": "exponential", "mean": 36.0, "unit": "hours"},
    "sellers.cancel_approval_share": 0.5,
    "sellers.cancel_response_time": const(30.0),
}


def test_a_buyer_who_wants_out_after_shipment_returns_it_and_the_policy_says_who_pays():
    kept = run({**LATE, "buyers.cancel.return_share": 0.0})
    assert kept.kpis["returns"] == 0 and (kept.orders["status"] != "returned").all()
    res = run({**LATE, "buyers.cancel.return_share": 1.0})
    o = res.orders
    back = o[o["status"] == "returned"]
    assert len(back) > 30
    # Refunded in full once back; shipped, and back after it.
    assert (back["refund_amount"] == back["amount"]).all()
    assert (back["returned_at"] > back["shipped_at"]).all()
    # Who pays: the seller who shipped despite a request made in time, else the buyer.
    asked = back["cancel_requested_at"].notna()
    assert asked.any() and (~asked).any()
    assert (back.loc[asked, "return_shipping_payer"] == "seller").all()
    assert (back.loc[~asked, "return_shipping_payer"] == "buyer").all()
    assert (back["return_shipping_usd"] > 0).all()
    # The policy is a lever: late changes of mind paid by the platform instead.
    free = run({**LATE, "buyers.cancel.return_share": 1.0, "platform.returns.late_request_payer": "platform"})
    paid = free.kpis["return_shipping_usd"]
    assert paid["platform"] > 0 and paid["buyer"] == 0
    assert free.kpis["returns"] == res.kpis["returns"]  # who pays changes nothing else


def test_a_buyer_who_would_confirm_first_keeps_the_parcel():
    # Requests long after delivery (5 days of transit, the buyer confirms a day after it): almost
    # every late buyer has confirmed by then and keeps the parcel; none is sent back after
    # completion.
    soon = run({**LATE, "buyers.cancel.return_share": 1.0})
    late = run({**LATE, "buyers.cancel.request_time": const(20.0, "days"), "buyers.cancel.return_share": 1.0})
    assert soon.kpis["returns"] > 30  # premise: buyers who ask in time send parcels back
    o = late.orders
    assert (o["status"] == "returned").sum() == 0
    # Kept parcels go the usual way: delivered, then confirmed (or still open at the horizon).
    shipped = o[o["shipped_at"].notna()]
    assert len(shipped) > 5000 and shipped["status"].isin(["completed", "open"]).all()
    assert (shipped.loc[shipped["status"] == "completed", "delivered_at"].notna()).all()
