"""Market scale (the top-level ``scale`` key): what it multiplies, how a scaled desk works as
teams, and the baseline at scale 4 measuring what it measures at scale 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from scipy import stats

from simcore.engine.monitor import QueueMonitor
from simcore.engine.station import teams
from simcore.errors import ScenarioError
from simcore.experiments.admission import expected_orders
from simcore.experiments.runner import run
from simcore.model.load import utilisation
from simcore.model.world import World
from simcore.scenario.scale import at_scale, copies
from tests.conftest import in_workers, many_kpis, shipped

# --------------------------------------------------------------------------- what it multiplies


def test_scale_multiplies_demand_buyers_sellers_and_staff_and_nothing_else():
    base = shipped("baseline")
    big = at_scale(base.model_copy(update={"scale": 4.0}))
    assert big.buyers.orders_per_hour == 4 * base.buyers.orders_per_hour
    assert big.buyers.population == 4 * base.buyers.population
    assert big.buyers.fraud.population == 4 * base.buyers.fraud.population
    assert big.sellers.count == 4 * base.sellers.count
    assert big.payment.gateway.servers == 4 * base.payment.gateway.servers
    assert big.platform.fraud.analysts == 4 * base.platform.fraud.analysts
    assert big.platform.customer_service.agents == 4 * base.platform.customer_service.agents
    # Everything else is a rate, a share or a duration: unchanged.
    changed = {"orders_per_hour", "population", "count", "servers", "analysts", "agents", "scale"}

    def leaves(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from leaves(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}", v

    a = dict(leaves(base.model_dump(mode="json")))
    b = dict(leaves(big.model_dump(mode="json")))
    differ = {k.rsplit(".", 1)[-1] for k in a if a[k] != b[k]}
    assert differ == changed
    assert at_scale(base) is base  # scale 1: the scenario itself


def test_counts_round_half_up_and_never_reach_zero():
    base = shipped("baseline", {"scale": 2.5})  # 1 analyst x 2.5 = 2.5: half up, 3 (not 2)
    assert at_scale(base).platform.fraud.analysts == 3
    tiny = at_scale(shipped("baseline", {"scale": 0.001}))
    assert tiny.platform.fraud.analysts == 1 and tiny.sellers.count == 1  # 400 x 0.001 = 0.4
    assert tiny.buyers.population == 25 and tiny.buyers.orders_per_hour == pytest.approx(0.0125)
    assert [copies(k) for k in (0.3, 1.0, 2.5, 4.0)] == [1, 1, 2, 4]


@pytest.mark.parametrize("bad", [0, -1, 1001, "big"])
def test_scale_out_of_range_is_refused_naming_the_key(bad):
    with pytest.raises(ScenarioError, match="scale"):
        shipped("baseline", {"scale": bad})


def test_the_memory_estimate_and_the_queue_prediction_follow_the_scale():
    base = shipped("baseline")
    assert expected_orders(base.model_copy(update={"scale": 3.0})) == pytest.approx(3 * expected_orders(base))
    # Scaled whole, every queue's load per server holds; demand alone overloads the analyst.
    assert utilisation(base.model_copy(update={"scale": 10.0})) == pytest.approx(utilisation(base))
    alone = utilisation(shipped("baseline", {"buyers.orders_per_hour": 125}))
    assert alone["fraud_review"] == pytest.approx(10 * utilisation(base)["fraud_review"])
    assert alone["fraud_review"] > 1


# --------------------------------------------------------------------------- teams


def test_teams_split_servers_and_one_monitor_holds_their_totals():
    env = simpy.Environment()
    mon = QueueMonitor(servers=5, t0=0.0)
    desk = teams(env, mon, 2)
    assert [t.servers for t in desk] == [3, 2]
    few = teams(env, QueueMonitor(1, 0.0), 4)  # no empty team: four copies share one server
    assert len(few) == 4 and len({id(t) for t in few}) == 1 and few[0].servers == 1

    def visit(team, hold):
        yield from team.serve(hold)

    for _ in range(4):  # team 0: 3 served at once, 1 waits; team 1: 2 served, none waits
        env.process(visit(desk[0], 1.0))
    for _ in range(2):
        env.process(visit(desk[1], 1.0))
    env.run(until=0.5)
    assert mon.queue_len == 1 and sum(t.busy for t in desk) == 5  # totals across the teams
    env.run(until=3.0)
    s = mon.summary(3.0)
    assert s["requests"] == 6 and s["mean_wait_hours"] == pytest.approx(1.0 / 6)
    # Busy: 5 servers for 1 h, then 1 for 1 h, over 3 h of 5 servers.
    assert s["utilization"] == pytest.approx(6.0 / 15.0)


def test_each_copy_of_the_market_holds_one_seller_of_each_rank():
    scn = shipped("baseline", {"scale": 3, "horizon_days": 2, "warmup_days": 0, "cooldown_days": 0})
    inv = World(scn)._running[1].inventory
    per = scn.sellers.skus_per_seller
    seller_weight = inv.demand_share.reshape(-1, per).sum(axis=1)
    copy_of = np.array(inv.seller_copy)
    assert np.bincount(copy_of).tolist() == [400, 400, 400]
    # Each copy's sellers have the scale-1 market's popularity, rank for rank.
    one = World(shipped("baseline", {"horizon_days": 2, "warmup_days": 0, "cooldown_days": 0}))
    base_weight = np.sort(one._running[1].inventory.demand_share.reshape(-1, per).sum(axis=1))
    for c in range(3):
        np.testing.assert_allclose(np.sort(seller_weight[copy_of == c]) * 3, base_weight, rtol=1e-9)


# --------------------------------------------------------------------------- the baseline at scale 4

#: The KPIs the issue names, from a run's kpis.json.
KPIS = {
    "cancellation_rate": lambda k: k["cancellation_rate"],
    "out_of_stock_share": lambda k: k["cancellation_rate_by_reason"]["out_of_stock"],
    "lost_sales_share_of_visits": lambda k: (
        k["lost_sales"] / (k["orders"] + k["lost_sales"] + k["orders_forgone"])
    ),
    "dispute_rate": lambda k: k["dispute_rate"],
    "fraud_review_mean_wait_hours": lambda k: k["queues"]["fraud_review"]["mean_wait_hours"],
}
REPLICATIONS = 5
#: 100 days, 60 of them measured (warm-up 10, cool-down 30): the same window at both scales,
#: so what the cool-down censors is censored alike.
WINDOW = {"horizon_days": 100, "warmup_days": 10, "cooldown_days": 30}


def _kpis(scale: float, replication: int) -> dict:
    scn = shipped("baseline", {"scale": scale, **WINDOW})
    return run(scn, replication=replication).kpis


@pytest.fixture(scope="module")
def by_scale():
    # Scale 4's runs (four times the work of scale 1's) first, so that the short ones fill in
    # at the end rather than leave a worker idle.
    jobs = [(s, r) for s in (4.0, 1.0) for r in range(REPLICATIONS)]
    out = in_workers(_kpis, *zip(*jobs, strict=True))
    return {4.0: out[:REPLICATIONS], 1.0: out[REPLICATIONS:]}


def test_scale_4_has_four_times_the_orders(by_scale):
    one = np.mean([k["orders"] for k in by_scale[1.0]])
    four = np.mean([k["orders"] for k in by_scale[4.0]])
    assert four / one == pytest.approx(4.0, rel=0.05)


@pytest.mark.parametrize("kpi", list(KPIS))
def test_scale_4_measures_what_scale_1_measures(by_scale, kpi):
    # Five replications a scale. Tolerance: the Welch 95% confidence interval of the difference
    # of means must hold 0, Bonferroni-adjusted over the five KPIs (each at 99%), so that the
    # five together fail by chance 5% of the time were the scales the same market. Measured:
    # differences of 0.5% (cancellations) to 5% (disputes) of the scale-1 means.
    a = np.array([KPIS[kpi](k) for k in by_scale[1.0]])
    b = np.array([KPIS[kpi](k) for k in by_scale[4.0]])
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = stats.t.ppf(1 - 0.05 / len(KPIS) / 2, dof) * math.sqrt(va + vb)
    assert abs(b.mean() - a.mean()) <= half, (kpi, a.mean(), b.mean(), half)
    assert a.mean() > 0  # the KPI is measured at all: not a vacuous match of zeros


def test_demand_alone_at_x4_is_not_the_same_market():
    # The contrast that makes the scale key needed (issue 16): demand x4 with scale-1 sellers and
    # staff queues the one analyst far longer (fixed seed: one run each suffices to show 5x).
    short = {**WINDOW, "horizon_days": 60, "cooldown_days": 10}
    wait, base = many_kpis(
        [shipped("baseline", {"buyers.orders_per_hour": 50, **short}), shipped("baseline", short)]
    )
    review = "fraud_review"
    assert wait["queues"][review]["mean_wait_hours"] > 5 * base["queues"][review]["mean_wait_hours"]


def test_a_scale_that_is_not_a_whole_number_predicts_its_busiest_team_and_says_so():
    from simcore.experiments.admission import scenario_warnings

    base = shipped("baseline")
    one = utilisation(base)["fraud_review"]
    # 1 analyst at 2.5: 3 analysts in teams of 2 and 1, each team half the demand: the one alone
    # carries 2.5 / 2 = 1.25 times the scale-1 load.
    assert utilisation(base.model_copy(update={"scale": 2.5}))["fraud_review"] == pytest.approx(1.25 * one)
    assert utilisation(base.model_copy(update={"scale": 3.0}))["fraud_review"] == pytest.approx(one)
    (note,) = scenario_warnings(base.model_copy(update={"scale": 2.5}))
    assert note.startswith("scale: 2.5 is not a whole number")
    assert scenario_warnings(base.model_copy(update={"scale": 3.0})) == []


def test_huge_counts_at_scale_do_not_crash_the_prediction():
    scn = shipped("baseline", {"scale": 2, "buyers.population": 10**400})
    assert at_scale(scn).buyers.population == 2 * 10**400
    assert utilisation(scn)["gateway"] == pytest.approx(utilisation(shipped("baseline"))["gateway"])
    big = shipped("baseline", {"buyers.fraud.amount_multiplier": 1e308})
    assert 0 < utilisation(big)["fraud_review"] < 1
