"""Compensation after a cancellation (``platform.compensation``): exactly the orders it reaches
get a coupon of exactly its value, the trust it gives back is taken off the cancellation's loss
(a coupon giving it all back is a run whose cancellations cost no trust, order for order), the
KPIs sum it, and a bad policy is an error at its key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore import ScenarioError
from simcore.model.vocabulary import REASONS_BY_INITIATOR
from simcore.scenario.schema.platform import _COMPENSATED
from tests.conftest import shipped

SAMPLE = "tests.policies.sample_policies"
SHORT = {"horizon_days": 60, "cooldown_days": 5}


def _run(compensation: dict | None = None, **overrides) -> simcore.RunResult:
    extra = {} if compensation is None else {"platform.compensation": compensation}
    return simcore.run(shipped("baseline", {**SHORT, **extra, **overrides}))


def _reached(o: pd.DataFrame) -> pd.Series:
    """The orders the policy is asked about: a legitimate buyer's paid order cancelled, stated
    and truly, by the seller or the system."""
    buyer_reasons = list(REASONS_BY_INITIATOR["buyer"])
    return (
        (o["status"] == "cancelled")
        & o["paid_at"].notna()
        & ~o["is_fraud"]
        & ~o["cancel_reason"].isin(buyer_reasons)
        & ~o["true_reason"].isin(buyer_reasons)
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, simcore.RunResult]:
    return {
        "none": _run(),
        "coupon": _run({"kind": "coupon", "params": {"usd": 2.0, "share": 0.05, "trust": 0.05}}),
        "stock_only": _run(
            {"kind": "coupon", "params": {"usd": 3.0, "reasons": ["out_of_stock", "ship_deadline_missed"]}}
        ),
    }


@pytest.mark.trace
def test_the_coupon_reaches_exactly_the_cancellations_it_answers_at_its_value(runs):
    o = runs["coupon"].orders
    reached = _reached(o)
    assert reached.sum() > 50
    got = o["coupon_usd"].notna()
    pd.testing.assert_series_equal(got, reached, check_names=False)
    expected = [round(2.0 + 0.05 * a, 2) for a in o.loc[reached, "amount"]]  # as the policy rounds
    np.testing.assert_array_equal(o.loc[reached, "coupon_usd"], expected)
    k = runs["coupon"].kpis
    lo, hi = runs["coupon"].scenario.kpi_window_hours
    window = reached & o["placed_hour"].between(lo, hi, inclusive="left")
    assert k["coupons"] == window.sum()
    assert k["compensation_usd"] == pytest.approx(o.loc[window, "coupon_usd"].sum(), abs=0.005)


@pytest.mark.trace
def test_a_coupon_for_some_reasons_answers_only_those(runs):
    o = runs["stock_only"].orders
    want = _reached(o) & o["cancel_reason"].isin(["out_of_stock", "ship_deadline_missed"])
    assert want.sum() > 20 and (_reached(o) & ~want).sum() > 20
    pd.testing.assert_series_equal(o["coupon_usd"].notna(), want, check_names=False)
    assert (o.loc[want, "coupon_usd"] == 3.0).all()


def test_none_is_the_default_and_changes_nothing(runs):
    explicit = _run({"kind": "none"})
    pd.testing.assert_frame_equal(runs["none"].orders, explicit.orders)
    assert runs["none"].orders["coupon_usd"].isna().all() and runs["none"].kpis["compensation_usd"] == 0.0


@pytest.mark.trace
def test_a_coupon_giving_back_all_the_trust_is_a_cancellation_that_costs_none():
    # Trust given back in full: the buyers' trust, churn and every later order as in a run where
    # a seller's or the system's cancellation costs no trust. (Sellers do not ask buyers to
    # cancel here: such a buyer loses trust without a coupon, the platform seeing the buyer's
    # own cancellation, and would keep it in the other run.)
    no_asking = {"sellers.ask_buyer_to_cancel_share": 0.0}
    full = _run({"kind": "coupon", "params": {"usd": 1.0, "trust": 1.0}}, **no_asking)
    free = _run(**no_asking, **{"buyers.trust.cancellation_loss": 0.0})
    assert full.orders["coupon_usd"].notna().sum() > 50
    pd.testing.assert_frame_equal(
        full.orders.drop(columns="coupon_usd"), free.orders.drop(columns="coupon_usd")
    )


def test_a_researchers_compensation_is_called_with_the_reason_and_amount():
    o = _run({"kind": f"{SAMPLE}:BigOrdersOnly"}).orders
    reached = _reached(o)
    big = reached & (o["amount"] > 50.0)
    assert big.sum() > 5
    pd.testing.assert_series_equal(o["coupon_usd"].notna(), big, check_names=False)
    np.testing.assert_array_equal(o.loc[big, "coupon_usd"], [round(0.1 * a, 2) for a in o.loc[big, "amount"]])


def test_the_compensated_reasons_are_the_models_seller_and_system_reasons():
    assert set(_COMPENSATED) == set(REASONS_BY_INITIATOR["seller"]) | set(REASONS_BY_INITIATOR["system"])


@pytest.mark.parametrize(
    ("compensation", "message"),
    [
        ({"kind": "coupon"}, "needs params.usd or params.share above 0"),
        ({"kind": "coupon", "params": {"usd": -1}}, "params.usd must be a number in [0, 1e+06]"),
        ({"kind": "coupon", "params": {"usd": 1, "trust": 1.5}}, "params.trust must be a number in [0, 1]"),
        (
            {"kind": "coupon", "params": {"usd": 1, "reasons": ["change_of_mind"]}},
            "not a seller's or the system's",
        ),
        ({"kind": "coupon", "params": {"usd": 1, "reasons": []}}, "non-empty list"),
        ({"kind": "none", "params": {"usd": 1}}, "takes no parameter usd"),
        ({"kind": f"{SAMPLE}:Shouting"}, "no method compensate"),
    ],
)
def test_a_bad_compensation_is_a_scenario_error_at_its_key(compensation, message):
    with pytest.raises(ScenarioError) as info:
        shipped("baseline", {"platform.compensation": compensation})
    assert "platform.compensation" in str(info.value) and message in str(info.value)


def test_a_policy_answering_a_negative_coupon_stops_the_run_with_its_key():
    with pytest.raises(
        ScenarioError, match=r"platform\.compensation: kind .*NegativeCoupon.* answered \(-1\.0"
    ):
        _run({"kind": f"{SAMPLE}:NegativeCoupon"})
