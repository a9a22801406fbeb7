"""Listing visibility (``platform.listing_visibility``): matched arrival by arrival, a hidden
listing is passed over exactly as the buyer would pass one out of stock, and nothing else
changes; hiding what cannot be shipped ends the blocked routes' cancellations; errors."""

from __future__ import annotations

import pandas as pd
import pytest

import simcore
from simcore import ScenarioError
from tests.conftest import quiet

SAMPLE = "tests.policies.sample_policies"
#: Plenty of stock that never runs short (1000 a listing, 20 sellers), three destinations, four
#: routes in ten blocked: a buyer takes the first listing of those drawn that is shown to them.
ROUTES = {
    "horizon_days": 10,
    "buyers.orders_per_hour": 2.0,
    "sellers.count": 20,
    "shipping.blocked_route_share": 0.4,
    "shipping.destinations": {
        name: {
            "weight": 1.0,
            "shipping_cost_usd": {"dist": "lognormal", "mean": 1.0, "sd": 0.01},
            "cost_cap_usd": 100.0,
            "transit_time": {"dist": "constant", "value": 5.0, "unit": "days"},
        }
        for name in ("US", "FR", "BR")
    },
}


def _run(kind: str | None) -> simcore.RunResult:
    extra = {} if kind is None else {"platform.listing_visibility": {"kind": kind}}
    return simcore.run(quiet({**ROUTES, **extra}))


@pytest.fixture(scope="module")
def runs() -> dict[str, simcore.RunResult]:
    return {kind: _run(kind) for kind in ("show_all", "hide_unshippable")}


@pytest.mark.trace
def test_hiding_what_cannot_be_shipped_moves_exactly_the_orders_on_blocked_routes(runs):
    shown, hidden = (runs[k].orders.set_index("arrival_id") for k in ("show_all", "hide_unshippable"))
    # Under show_all the blocked routes' orders are cancelled shipping_restriction (quotes never
    # reach the cap here, so every such cancellation is a blocked route).
    on_blocked = shown["cancel_reason"] == "shipping_restriction"
    assert on_blocked.sum() > 30 and (~on_blocked).sum() > 200
    # Under hide_unshippable none is: each of those buyers went on to the next listing shown.
    assert (hidden["cancel_reason"] != "shipping_restriction").all()
    moved = shown.index[on_blocked]
    kept = shown.index[~on_blocked]
    # Every arrival that did not land on a blocked route is the same order, column for column
    # (the same buyer, listing, draws and outcome): hiding changed only the orders it reached.
    cols = [
        "buyer_id",
        "seller_id",
        "sku_id",
        "amount",
        "status",
        "cancel_reason",
        "placed_at",
        "completed_at",
    ]
    pd.testing.assert_frame_equal(shown.loc[kept, cols], hidden.loc[kept, cols])
    # Each moved arrival landed on another seller, one that ships to the buyer (no restriction),
    # or became a lost sale (every listing drawn hidden).
    landed = moved.intersection(hidden.index)
    assert len(landed) > 0.5 * len(moved)  # with 40% of routes blocked, 2 more listings drawn
    assert (hidden.loc[landed, "seller_id"] != shown.loc[landed, "seller_id"]).all()
    lost = runs["hide_unshippable"].lost_visits["arrival_id"]
    assert set(moved.difference(hidden.index)) <= set(lost) and len(moved) > len(landed)


def test_show_all_is_the_default_and_changes_nothing(runs):
    pd.testing.assert_frame_equal(_run(None).orders, runs["show_all"].orders)


@pytest.mark.trace
def test_a_researchers_visibility_hides_what_it_says():
    res = simcore.run(
        quiet(
            {
                **ROUTES,
                "shipping.blocked_route_share": 0.0,
                "platform.listing_visibility": {"kind": f"{SAMPLE}:HideFromFirstDestination"},
            }
        )
    )
    o = res.orders
    first = o["destination"] == "US"
    assert first.sum() > 50
    assert (o.loc[first, "seller_id"] >= 10).all()  # sellers 0-9 hidden from US buyers
    assert (o.loc[~first, "seller_id"] < 10).any()


@pytest.mark.parametrize(
    ("visibility", "message"),
    [
        ({"kind": "hide_all"}, "not a built-in kind"),
        ({"kind": "show_all", "params": {"x": 1}}, "takes no parameter x"),
        ({"kind": f"{SAMPLE}:Shouting"}, "no method hidden"),
    ],
)
def test_a_bad_visibility_is_a_scenario_error_at_its_key(visibility, message):
    with pytest.raises(ScenarioError) as info:
        quiet({"platform.listing_visibility": visibility})
    assert "platform.listing_visibility" in str(info.value) and message in str(info.value)


def test_a_policy_answering_the_wrong_shape_stops_the_run_with_its_key():
    with pytest.raises(
        ScenarioError, match=r"platform\.listing_visibility: kind .*WrongShape.* shape \(20,\)"
    ):
        simcore.run(quiet({**ROUTES, "platform.listing_visibility": {"kind": f"{SAMPLE}:WrongShape"}}))
