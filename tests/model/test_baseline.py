"""The shipped baseline lands in the public bands it is calibrated to (README: Calibration)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simcore.model.vocabulary import REASONS_BY_INITIATOR
from tests.conftest import SCENARIOS


@pytest.mark.slow
@pytest.mark.statistical
def test_volume(baseline_result):
    assert baseline_result.kpis["orders"] >= 20_000


@pytest.mark.slow
@pytest.mark.statistical
def test_overall_cancellation_rate_3_to_10_percent(shipped_kpis):
    # The band holds the baseline's expected rate, so the test holds the mean of three
    # replications: one replication's rate has sd ~0.66 points around ~8.8% (measured over nine
    # seeds at writing: 7.97-10.17%), so a single run passes 10% about once in 25 seeds; the mean
    # of three (sd ~0.38) about once in 1,000. (Replication 0 is baseline_result; all three are
    # shared with test_crn.)
    rates = [k["cancellation_rate"] for k in shipped_kpis(("baseline", rep) for rep in (0, 1, 2))]
    assert 0.03 <= float(np.mean(rates)) <= 0.10, rates


@pytest.mark.slow
@pytest.mark.statistical
def test_seller_cancellations_below_2_5_percent(baseline_result):
    assert baseline_result.kpis["cancellation_rate_by_initiator"]["seller"] < 0.025
    # So are the ones the sellers caused, those they asked buyers to cancel included (1.65% at
    # writing, against 1.26% stated).
    o, (lo, hi) = baseline_result.orders, baseline_result.scenario.kpi_window_hours
    w = o[(o["placed_hour"] >= lo) & (o["placed_hour"] < hi)]
    assert w["true_reason"].isin(REASONS_BY_INITIATOR["seller"]).mean() < 0.025


@pytest.mark.slow
@pytest.mark.statistical
def test_chargebacks_stay_under_the_card_networks_early_warning_line(baseline_result):
    # Visa's early-warning line is 0.65% of chargebacks to sales (CALIBRATION); the baseline's
    # screen lets ~11% of its 1.2% fraud ship, 0.14% of card payments at writing.
    assert 0.0 < baseline_result.kpis["chargeback_rate"] < 0.0065


@pytest.mark.slow
@pytest.mark.statistical
def test_bank_holds_are_released_in_7_to_10_working_days(baseline_result):
    hold = baseline_result.kpis["bank_hold_release_bdays"]
    assert hold["n"] > 50 and 7.0 <= hold["p50"] <= 10.0 and hold["p90"] <= 10.0


@pytest.mark.slow
@pytest.mark.statistical
def test_the_money_and_the_stories_of_the_seed_are_material(baseline_result):
    # Each story of the seed shows in the baseline's window (at writing: 66 lost parcels, 70
    # returns, 99 disguised cancellations, pricing errors from typos 15 and supplier costs 23).
    k = baseline_result.kpis
    assert k["lost_parcels"] > 20 and k["returns"] > 20 and k["chargebacks"] > 5
    assert k["disguised_cancellations"] > 0.001 * k["orders"]
    causes = k["pricing_errors_by_cause"]
    assert causes["typo"] > 0 and causes["supplier_cost"] > 0
    assert k["seller_revenue_unpaid"] > 0 and k["fraud_loss_usd"] > 0 and k["false_decline_usd"] > 0


@pytest.mark.slow
@pytest.mark.statistical
def test_payment_failure_rate_2_to_5_percent(baseline_result):
    assert 0.02 <= baseline_result.kpis["payment_failure_rate"] <= 0.05


@pytest.mark.slow
@pytest.mark.statistical
def test_fraud_screen_cancellations_1_to_3_percent(baseline_result):
    assert 0.01 <= baseline_result.kpis["cancellation_rate_by_reason"]["fraud_suspected"] <= 0.03


@pytest.mark.slow
@pytest.mark.statistical
def test_every_stage_stops_some_fraud_and_the_stages_add_up(baseline_result):
    # The gateway stops most (stolen cards declined), then the referee's rules, then analysts.
    # Measured at writing: 51.0%, 26.1% and 11.5% of 261 fraudulent orders (88.5% in all).
    k = baseline_result.kpis
    stages = k["fraud_caught_share_by_stage"]
    assert all(share > 0 for share in stages.values()), stages
    assert sum(stages.values()) == pytest.approx(k["fraud_caught_share"])


@pytest.mark.slow
@pytest.mark.statistical
def test_false_declines_0_3_to_3_percent(baseline_result):
    assert 0.003 <= baseline_result.kpis["false_decline_rate"] <= 0.03


@pytest.mark.slow
@pytest.mark.statistical
def test_majority_of_fraud_declines_are_legitimate_orders(baseline_result):
    o = baseline_result.orders
    declined = o[o["cancel_reason"] == "fraud_suspected"]
    assert 0.4 <= (~declined["is_fraud"]).mean() <= 0.8


@pytest.mark.slow
@pytest.mark.statistical
def test_out_of_stock_is_top_seller_reason(baseline_result):
    by = baseline_result.kpis["cancellations_by_reason"]
    seller = {r: by[r] for r in REASONS_BY_INITIATOR["seller"]}
    assert max(seller, key=seller.get) == "out_of_stock"


@pytest.mark.slow
@pytest.mark.statistical
def test_median_card_refund_delay_3_to_20_business_days(baseline_result):
    p50 = baseline_result.kpis["refund_delay_bdays_by_method"]["original"]["p50"]
    assert 3 <= p50 <= 20


@pytest.mark.slow
@pytest.mark.statistical
def test_measured_record_accuracy_near_source(baseline_result):
    # DeHoratius & Raman: 65% of SKU records inaccurate.
    assert 0.25 <= baseline_result.kpis["inventory_record_accuracy"] <= 0.45


@pytest.mark.slow
@pytest.mark.statistical
def test_every_cancel_reason_occurs(baseline_result):
    by = baseline_result.kpis["cancellations_by_reason"]
    assert all(n > 0 for n in by.values()), by


@pytest.mark.slow
@pytest.mark.statistical
def test_disputes_about_one_percent_of_orders(baseline_result):
    # About 1% of purchases generate a problem (Rule 2017); band 0.5-2%.
    assert 0.005 <= baseline_result.kpis["dispute_rate"] <= 0.02


@pytest.mark.slow
@pytest.mark.statistical
def test_every_dispute_outcome_occurs_and_the_seller_wins_30_to_55_percent(baseline_result):
    # Merchant win rates when contesting disputes: 30-54% (industry reports).
    out = baseline_result.kpis["dispute_outcomes"]
    assert out["full_refund"] > 0 and out["partial_refund"] > 0
    assert 0.30 <= out["rejected"] <= 0.55
    assert sum(out.values()) == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.statistical
def test_every_dispute_reason_occurs(baseline_result):
    by = baseline_result.kpis["disputes_by_reason"]
    assert all(n > 0 for n in by.values()), by


@pytest.mark.slow
@pytest.mark.statistical
def test_disputes_resolve_within_the_two_seven_day_stages(baseline_result):
    # ~7 days of negotiation, then the platform decides within ~7 days.
    o = baseline_result.orders
    done = o[o["dispute_resolved_at"].notna()]
    days = (done["dispute_resolved_at"] - done["dispute_opened_at"]).dt.total_seconds() / 86400
    assert days.max() <= 16
    escalated = done[done["dispute_escalated_at"].notna()]
    negotiation = (
        escalated["dispute_escalated_at"] - escalated["dispute_opened_at"]
    ).dt.total_seconds() / 86400
    assert negotiation.min() >= 6.9 and negotiation.max() <= 8.5
    assert baseline_result.kpis["disputes_unresolved"] <= 0.05 * len(o[o["dispute_opened_at"].notna()])


@pytest.mark.slow
@pytest.mark.statistical
def test_wallet_refunds_are_faster_than_card_refunds(baseline_result):
    by = baseline_result.kpis["refund_delay_bdays_by_method"]
    assert by["wallet"]["p90"] < 1 < 3 <= by["original"]["p50"] <= 20


@pytest.mark.slow
@pytest.mark.statistical
def test_seller_penalties_and_churn_happen_but_stay_rare(baseline_result):
    k = baseline_result.kpis
    # Sellers first suspended while the KPIs' orders were placed: a count to the horizon grows
    # with the run's length (41 of 400 over the 186-day run, 40 over 180 days), this does not.
    scn = baseline_result.scenario
    start = pd.Timestamp(scn.start)
    lo, hi = (start + pd.Timedelta(hours=h) for h in scn.kpi_window_hours)
    first = baseline_result.sellers["first_suspended_at"]
    suspended = ((first >= lo) & (first < hi)).sum()
    assert k["seller_suspensions"] >= 1 and 1 <= suspended <= 0.1 * scn.sellers.count
    assert 0 < k["buyer_churn_rate"] < 0.05
    assert 0.3 < k["repeat_purchase_rate"] < 0.95


@pytest.mark.parametrize(
    ("key", "expected"),
    [("payment.verification.window_hours", 24), ("platform.cancel_auto_approve_hours", 48)],
)
def test_policy_constants(key, expected):
    data = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())
    node = data
    for part in key.split("."):
        node = node[part]
    assert node == expected


def test_ship_by_within_3_to_10_days():
    data = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text())
    assert 3 <= data["platform"]["ship_by_days"] <= 10


def test_every_calibrated_number_cites_a_source():
    text = (SCENARIOS / "baseline.yaml").read_text()
    for ref in range(1, 14):
        assert f"[{ref}]" in text.split("# Sources")[0], f"source [{ref}] is never cited"
        assert f"# [{ref}]" in text, f"source [{ref}] is not listed"
