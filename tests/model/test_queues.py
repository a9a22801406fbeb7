"""The gateway and fraud-review queues against M/M/c theory (Erlang C), over replications.

In the QUIET scenario with a flat profile, ``payment.max_retries: 0`` and every decline rate 0,
each order makes exactly one gateway request, so with exponential service the gateway is an
M/M/c queue fed by Poisson arrivals. The fraud review queue is fed by a Bernoulli thinning
(probability ``P_REVIEW``) of the gateway's departures, which are Poisson in steady state
(Burke's theorem), so it is M/M/c too.

Each statistical test compares the theoretical value with a confidence interval around the mean
of ``REPLICATIONS`` independent replications: |mean - theory| <= 3 SE + ``SLACK`` * theory. The
slack covers the finite-horizon bias (the queue starts empty before warm-up; requests still
queued at the horizon are not counted).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from conftest import quiet
from scipy import stats

import simcore

REPLICATIONS = 8
HORIZON_DAYS = 9.0
WARMUP_DAYS = 1.0
WINDOW_HOURS = (HORIZON_DAYS - WARMUP_DAYS) * 24.0
Z = 3.0
SLACK = 0.02

# ------------------------------------------------------------------------------------ theory


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``a = lambda/mu``."""
    if not 0 < a < c:
        raise ValueError(f"unstable or empty queue (a={a}, c={c})")
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)


def mmc(lam: float, mu: float, c: int) -> dict[str, float]:
    """Steady-state M/M/c figures in hours, keyed like ``kpis["queues"][name]``."""
    prob_wait = erlang_c(c, lam / mu)
    drain = c * mu - lam  # P(Wq > t) = prob_wait * exp(-drain * t)
    wq = prob_wait / drain
    return {
        "mean_wait_hours": wq,
        "p90_wait_hours": max(0.0, math.log(prob_wait / 0.1) / drain),
        "mean_queue_length": lam * wq,
        "utilization": lam / (c * mu),
    }


def _erlang_c_via_b(c: int, a: float) -> float:
    """Erlang C from the Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), an independent route."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def test_erlang_c_reference_values():
    """The oracle itself: closed forms for c = 1 (C = rho) and c = 2 (C = 2 rho^2 / (1 + rho))."""
    assert erlang_c(1, 0.75) == pytest.approx(0.75)
    rho = 0.75
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))
    for c, a in [(3, 2.25), (5, 3.1), (12, 10.0)]:
        assert erlang_c(c, a) == pytest.approx(_erlang_c_via_b(c, a), rel=1e-12)
    assert mmc(60.0, 80.0, 1)["mean_wait_hours"] == pytest.approx(0.75 / (80 - 60))  # rho / (mu - lambda)
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)


# ------------------------------------------------------------------------------------ scenarios

#: Stock large enough that no arrival is lost for want of a listing.
PLENTY = {"sellers.initial_stock_mean": 1e6}


def exp_minutes(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean, "unit": "minutes"}


def gateway_overrides(lam: float, servers: int, service_minutes: float) -> dict[str, Any]:
    return {
        **PLENTY,
        "buyers.orders_per_hour": lam,
        "payment.gateway.servers": servers,
        "payment.gateway.service_time": exp_minutes(service_minutes),
        "horizon_days": HORIZON_DAYS,
        "warmup_days": WARMUP_DAYS,
    }


# Fraud screening: only the noise term moves the score, so an order is reviewed when
# sigmoid(intercept + noise_sd * Z) >= review_threshold, i.e. Z >= (logit(t) - intercept) / sd.
INTERCEPT, NOISE_SD, REVIEW_THRESHOLD = 0.3, 1.2, 0.6
P_REVIEW = float(stats.norm.sf((math.log(REVIEW_THRESHOLD / (1 - REVIEW_THRESHOLD)) - INTERCEPT) / NOISE_SD))
REVIEW_MINUTES = 3.2
FRAUD_ONLY_NOISE = {
    "platform.fraud.intercept": INTERCEPT,
    "platform.fraud.noise_sd": NOISE_SD,
    "platform.fraud.review_threshold": REVIEW_THRESHOLD,
    "platform.fraud.decline_threshold": 1.0,
    "platform.fraud.review_false_positive_rate": 0.0,
    "platform.fraud.large_order_usd": 1e12,
    "platform.fraud.weight_velocity": 0.0,
    "platform.fraud.weight_unverified": 0.0,
    "platform.fraud.analysts": 2,
    "platform.fraud.review_time": exp_minutes(REVIEW_MINUTES),
}

#: Run sets, each replicated REPLICATIONS times. Loads are chosen for rho ~ 0.75.
RUN_SETS: dict[str, dict[str, Any]] = {
    "mm1": gateway_overrides(60.0, 1, 0.75),  # mu 80/h, rho 0.75
    "mm3": gateway_overrides(90.0, 3, 1.5),  # mu 40/h, rho 0.75
    # Gateway M/M/1 at rho 0.5 feeding review M/M/2 at rho = 60 * p / (2 * 60 / 3.2) ~ 0.74.
    "review": gateway_overrides(60.0, 1, 0.5) | FRAUD_ONLY_NOISE,
}


@functools.cache
def replications(run_set: str) -> tuple[dict[str, Any], ...]:
    """KPIs and a few counts of each replication of ``run_set`` (run once per session)."""
    scn = quiet(RUN_SETS[run_set])
    out = []
    for r in range(REPLICATIONS):
        result = simcore.run(scn, replication=r)
        orders, events = result.orders, result.events
        placed = orders["placed_hour"].to_numpy()
        # Orders placed late may still be queued at the horizon: leave the last 2 hours out.
        counted = orders[(placed >= WARMUP_DAYS * 24) & (placed < HORIZON_DAYS * 24 - 2)]
        reviewed_ids = events.loc[events["activity"] == "fraud_review_started", "order_id"]
        reviewed = counted["order_id"].isin(reviewed_ids)
        out.append(
            {
                "kpis": result.kpis,
                "counted": len(counted),
                "reviewed": int(reviewed.sum()),
                "score_says_review": bool(((counted["risk_score"] >= REVIEW_THRESHOLD) == reviewed).all()),
                "max_attempts": int(orders["payment_attempts"].max()),
            }
        )
    return tuple(out)


@dataclass(frozen=True)
class QueueCase:
    run_set: str
    queue: str
    lam: float  # arrivals per hour
    mu: float  # services per hour per server
    servers: int

    def theory(self) -> dict[str, float]:
        return mmc(self.lam, self.mu, self.servers)

    def values(self, kpi: str) -> np.ndarray:
        return np.array([r["kpis"]["queues"][self.queue][kpi] for r in replications(self.run_set)])


CASES = {
    "gateway-M/M/1": QueueCase("mm1", "gateway", 60.0, 80.0, 1),
    "gateway-M/M/3": QueueCase("mm3", "gateway", 90.0, 40.0, 3),
    "gateway-M/M/1-rho0.5": QueueCase("review", "gateway", 60.0, 120.0, 1),
    "fraud_review-M/M/2": QueueCase("review", "fraud_review", 60.0 * P_REVIEW, 60.0 / REVIEW_MINUTES, 2),
}
KPIS = ("mean_wait_hours", "p90_wait_hours", "mean_queue_length", "utilization")


# ------------------------------------------------------------------------------------ tests


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_runs_are_mmc_queues(case):
    """The premises of the comparison: nothing lost, one payment attempt per order, Poisson
    arrivals at the intended rate."""
    c = CASES[case]
    reps = replications(c.run_set)
    assert all(r["kpis"]["lost_sales"] == 0 for r in reps)
    assert all(r["max_attempts"] == 1 for r in reps)
    requests = c.values("requests")
    expected = c.lam * WINDOW_HOURS
    # Poisson count per replication; pooled over replications.
    assert abs(requests.mean() - expected) < 4 * math.sqrt(expected / len(requests)), (requests, expected)


@pytest.mark.slow
@pytest.mark.parametrize("kpi", KPIS)
@pytest.mark.parametrize("case", list(CASES))
def test_queue_matches_erlang_c(case, kpi):
    c = CASES[case]
    x = c.values(kpi)
    theory = c.theory()[kpi]
    mean, se = x.mean(), x.std(ddof=1) / math.sqrt(x.size)
    assert abs(mean - theory) <= Z * se + SLACK * theory, (
        f"{case} {kpi}: simulated {mean:.5f} +- {se:.5f} (SE, {x.size} reps) vs theory {theory:.5f}"
    )


@pytest.mark.slow
def test_reviewed_share_matches_threshold_probability():
    reps = replications("review")
    assert all(r["score_says_review"] for r in reps), "review decision disagrees with risk_score"
    n = sum(r["counted"] for r in reps)
    share = sum(r["reviewed"] for r in reps) / n
    assert abs(share - P_REVIEW) < 4 * math.sqrt(P_REVIEW * (1 - P_REVIEW) / n), (share, P_REVIEW)


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_littles_law_per_run(case):
    """Time-average queue length = observed arrival rate x mean wait, run by run (sample-path
    Little's law; only edge effects at warm-up end and horizon separate the two)."""
    c = CASES[case]
    for r in replications(c.run_set):
        q = r["kpis"]["queues"][c.queue]
        arrival_rate = q["requests"] / WINDOW_HOURS
        assert q["mean_queue_length"] == pytest.approx(arrival_rate * q["mean_wait_hours"], rel=0.02)


@pytest.mark.slow
def test_fewer_servers_mean_longer_waits():
    """Same arrivals and services (one replication, common random numbers), 2, 3 and 4 servers:
    Erlang C gives mean waits 0.032, 0.0039 and 0.00075 hours (ratios ~8 and ~5)."""
    waits, utils = {}, {}
    for servers in (2, 3, 4):
        overrides = gateway_overrides(60.0, servers, 1.5) | {"horizon_days": 5.0, "warmup_days": 0.5}
        q = simcore.run(quiet(overrides), replication=0).kpis["queues"]["gateway"]
        waits[servers], utils[servers] = q["mean_wait_hours"], q["utilization"]
    assert waits[2] > 3 * waits[3] > 0
    assert waits[3] > 2 * waits[4] > 0
    # The same work spread over more servers: utilization ~ 1/servers.
    assert utils[2] * 2 == pytest.approx(utils[3] * 3, rel=0.02)
    assert utils[3] * 3 == pytest.approx(utils[4] * 4, rel=0.02)
