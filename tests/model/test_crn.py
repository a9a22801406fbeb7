"""Common random numbers, arrival by arrival (tier 2): a lever changes only the orders it reaches.

Every random quantity of an arrival (decisions and durations) comes from its own draws
(simcore.model.draws), so two strategies run with one seed and replication meet the same luck
on every arrival. Measured by matching runs on ``arrival_id`` (analysis.match_runs) and by the
variance a paired comparison saves over independent replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore
from analysis import match_runs
from analysis.sweeps import crn_factor
from simcore.experiments.runner import run
from tests.conftest import quiet, shipped

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def analysts(baseline_result) -> tuple[simcore.RunResult, simcore.RunResult]:
    """The shipped baseline (seed 20261111) with one fraud analyst (the session's run), and with
    two."""
    return baseline_result, run(shipped("baseline", {"platform.fraud.analysts": 2}))


def test_a_second_analyst_changes_only_the_orders_it_reaches(analysts):
    # A second analyst cuts the review wait (0.22 h to 0.02 h) and nothing else: orders never
    # reviewed meet exactly what they met, and outcomes move only where a shorter wait lets a
    # reviewed order ship before its deadline or before a cancel request lands, or, through a
    # listing's stock, which unreviewed order of that listing finds it short. Measured on 7
    # December: 22,849 of the window's 22,853 arrivals keep their outcome and reason (two pairs
    # of one listing each swapped which found it out of stock), and 20,230 of the 20,237
    # never-reviewed shipped orders their ship time; before the durations were the arrival's
    # own, 97.8% and 21% (the figures). The floors are the issue's.
    a, b = analysts
    m = match_runs(a, b)
    lo, hi = a.scenario.kpi_window_hours
    window = m[(m["arrived_hour"] >= lo) & (m["arrived_hour"] < hi)]
    assert len(window) > 20_000
    kept = ~(window["outcome_changed"] | window["reason_changed"])
    assert kept.mean() >= 0.995

    def reviewed(run):  # any order of the visit (a new one after a failed payment included)
        o = run.orders
        return o["fraud_review_started_at"].notna().groupby(o["arrival_id"]).any().reindex(window.index)

    never = (
        window["outcome_a"].eq("completed")
        & window["shipped_at_a"].notna()
        & ~reviewed(a).astype(bool)
        & ~reviewed(b).astype(bool)
    )
    same_ship = (window["shipped_at_a"] - window["shipped_at_b"]).abs() < pd.Timedelta(seconds=1)
    assert never.sum() > 15_000
    assert same_ship[never].mean() >= 0.95


def test_identical_arms_stay_bit_identical():
    # An arm that sets levers to the values they already have is the same run, bit for bit.
    base = quiet()
    same = quiet(
        {
            "platform.fraud.analysts": base.platform.fraud.analysts,
            "sellers.strategy.sync_interval_days": base.sellers.strategy.sync_interval_days,
        }
    )
    a, b = run(base), run(same)
    for frame in ("orders", "events", "timeseries", "sellers", "lost_visits"):
        pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame), check_exact=True)
    assert a.kpis == b.kpis


#: The comparison the issue names: the baseline against weekly counts (frequent_sync).
KPIS = {
    "cancellation_rate": lambda k: k["cancellation_rate"],
    "cancellations_by_reason.out_of_stock": lambda k: k["cancellations_by_reason"]["out_of_stock"],
    "seller_revenue_lost": lambda k: k["seller_revenue_lost"],
    "refund_delay_bdays.mean": lambda k: k["refund_delay_bdays"]["mean"],
}


@pytest.fixture(scope="module")
def sync_pair(shipped_kpis) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each KPI over 10 replications of the baseline and of frequent_sync (one seed): the 20 runs
    in worker processes, the baseline's shared with the session (test_baseline)."""
    both = shipped_kpis([(name, r) for name in ("baseline", "frequent_sync") for r in range(10)])
    a, b = both[:10], both[10:]
    return {
        name: (np.array([get(k) for k in a]), np.array([get(k) for k in b])) for name, get in KPIS.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("kpi", ["cancellation_rate", "seller_revenue_lost", "refund_delay_bdays.mean"])
def test_common_random_numbers_at_least_halve_the_variance_of_a_comparison(sync_pair, kpi):
    # Measured at writing (10 replications, seed 20261111): 7.9, 6.7 and 3.8 (2.7, 6.7 and 10.7
    # before the money issue added returns, lost parcels' refunds and new orders after failed
    # payments; before the durations were the arrival's own: 2.2, 5.2 and 3.4). The factor is a
    # ratio of sample variances over 10 replications, noisy by about a factor of 2 either way
    # (analysis.sweeps.crn_factor); the floor of 2 is the issue's. The seed is the shipped one
    # (moved only by SIMCORE_TEST_SEED): the refund delay's 3.8 sits close enough to the floor
    # that another seed may land under it.
    a, b = sync_pair[kpi]
    assert crn_factor(b, a) >= 2.0


@pytest.mark.slow
def test_out_of_stock_comparison_is_as_sharp_as_any_pairing_allows(sync_pair):
    # Weekly counts remove nearly every out-of-stock cancellation (10 a run against 238), so the
    # difference varies as the baseline's own count does, whatever the pairing: by Cauchy-Schwarz
    # var(A - B) >= (sd_A - sd_B)^2, so the factor is at most (s_A^2 + s_B^2) / (s_A - s_B)^2,
    # 1.6-2.1 here (measured; reached only if the arms' counts moved in lockstep, which counts
    # that one arm removes cannot). Common random numbers cannot halve this variance; the test
    # holds that the bound is what limits it (under 2.5: no pairing could do much better) and
    # that they do not make it worse than independent replications would (factor >= 0.5, the
    # noise of a variance ratio over 10 replications).
    a, b = sync_pair["cancellations_by_reason.out_of_stock"]
    sa, sb = a.std(ddof=1), b.std(ddof=1)
    bound = (sa**2 + sb**2) / (sa - sb) ** 2
    assert b.mean() < 0.1 * a.mean()
    assert bound < 2.5
    assert crn_factor(b, a) >= 0.5
