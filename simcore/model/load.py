"""Offered load of the model's queues, predicted from a scenario before it runs.

A station whose utilisation at the mean rate is 1 or more has a queue that grows without bound
(issue 16: the baseline at 10x demand with one fraud analyst waited 504 h on average), and its
KPIs then measure the run's length, not the market. ``simcore validate`` and ``simcore run``
warn about it (:func:`overloaded`).

Utilisation at the mean rate is rho = lambda x E[visits per order] x E[service] / servers, with
lambda = ``buyers.orders_per_hour`` (the arrival profile averages 1; promotions raise it for a
while, which a queue can absorb), both at the scenario's ``scale`` (each team of a scaled desk
serves its copy's share of the orders with its share of the servers: the same load per server).
It counts every arrival as an order reaching the desk, though a few are lost sales, forgone or
unpaid, so it errs high: baseline fraud review 0.28 predicted, 0.26 measured; gateway 0.054
and 0.053.

- **Gateway**: one visit per payment attempt. An attempt fails with p = 1 - (1 - incorrect
  details) (1 - unverified share x unverified declines) (1 - card share x issuer declines), for
  legitimate and fraudulent buyers by their shares, and a failure is retried with
  ``retry_probability`` up to ``max_retries`` times: E[attempts] = sum_j (p x retry)^j, j = 0..R.
  Approximate: a retry after an issuer decline is declined more often (``decline_persistence``).
- **Fraud review**: the share of orders whose risk score falls in [review, decline) thresholds,
  exact for the score of :class:`simcore.model.referee.Referee` over its signals, each drawn
  independently given fraud or not (large order from the lognormal price and 1 + Poisson
  items, unverified account, flagged stolen card, young account, address mismatch, new device),
  and the velocity flag: a legitimate buyer's own device never reaches a limit above 1 (buyers
  sharing a device, ``buyers_per_device`` > 1: the group's orders in the window, Poisson, which
  leaves out a new order right after a failed payment and errs low, 0.86x measured at 20); a fraud
  order is flagged when it is at least the ``velocity_limit``-th of its ring's burst and the
  burst's gaps before it fit in the window (the gaps' sum by a fixed-seed sample of 20,000:
  deterministic), ignoring the ring's earlier bursts (errs low). Only under the built-in
  ``threshold`` decision: a researcher's fraud decision (``platform.fraud.decision``) sends to
  review what it will, which no formula here knows, so the review desk is then not predicted.
- **Staffing over time** (a desk's ``staffing``): a ``schedule`` is judged by its mean headcount
  over the horizon (whether the queue can drain on average; it may still build in lean hours);
  a researcher's staffing class is not predicted.
- **Customer service** serves disputes, whose number comes out of the run (cancellations, lost
  parcels, late refunds): it is not predicted here; a run reports its measured utilisation.
"""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist

import numpy as np

from simcore.engine.station import team_sizes
from simcore.model.referee import signal_weights
from simcore.policies.staffing import staffing
from simcore.scenario.scale import at_scale, copies
from simcore.scenario.schema import Scenario
from simcore.scenario.schema.policy import PolicySpec

#: The large-order probability sums over basket sizes until the Poisson mass left is below this.
_TAIL = 1e-12


def utilisation(scn: Scenario) -> dict[str, float]:
    """Predicted utilisation of the gateway and the fraud-review desk at the mean arrival rate.

    Args:
        scn: The scenario at its scale-1 values (its ``scale`` is applied here).

    Returns:
        ``{"gateway": rho, "fraud_review": rho}``: offered load per server of the desk's busiest
        team (its smallest); no ``fraud_review`` under a researcher's fraud decision.
    """
    return _utilisation(at_scale(scn))


def _utilisation(market: Scenario) -> dict[str, float]:
    """:func:`utilisation` of a scenario already at its scale (:func:`at_scale`)."""
    lam = market.buyers.orders_per_hour
    p, pf = market.payment, market.platform
    n_copies = copies(market.scale)
    gateway = lam * _attempts(market) * p.gateway.service_time.mean_hours
    out = {"gateway": _busiest_team(gateway, p.gateway.servers, n_copies, p.gateway.staffing, market)}
    if pf.fraud.decision.kind == "threshold":  # a researcher's policy reviews what it will
        review = lam * _review_share(market) * pf.fraud.review_time.mean_hours
        out["fraud_review"] = _busiest_team(review, pf.fraud.analysts, n_copies, pf.fraud.staffing, market)
    return {desk: rho for desk, rho in out.items() if not math.isnan(rho)}


def _busiest_team(work: float, servers: int, n_copies: int, staff: PolicySpec, market: Scenario) -> float:
    """Utilisation of a desk's smallest team: each of its teams serves its copy's share of
    ``work`` (server-hours an hour) with its share of ``servers``
    (:func:`simcore.engine.station.team_sizes`). At a whole-number scale every team is the
    scale-1 desk; at another scale the teams differ (1 analyst at scale 2.5: teams of 2 and 1,
    the one alone at 1.25 times the scale-1 load). Under a staffing policy that is not constant,
    the desk's mean headcount over the horizon shared evenly: whether its queue can drain on
    average (it may still build in the lean hours)."""
    if ":" in staff.kind:  # a researcher's staffing: not predicted (it staffs as it will)
        return math.nan
    if staff.kind != "constant":
        mean = mean_headcount(staff, servers, market)
        return math.inf if mean <= 0.0 else work / mean
    sizes = team_sizes(servers, n_copies)
    return work / len(sizes) / min(sizes)


def mean_headcount(staff: PolicySpec, base: int, market: Scenario) -> float:
    """A desk's mean headcount over ``market``'s horizon, hour by hour, under staffing policy
    ``staff`` (``base``: the desk's count key at the market's scale)."""
    policy = staffing(staff, market.scale)
    hours = max(1, math.ceil(market.horizon_hours))
    total = 0
    for h in range(hours):
        total += policy.servers(market.start + dt.timedelta(days=h // 24), h % 24, base)
    return total / hours


def overloaded(scn: Scenario) -> list[str]:
    """A warning for each queue predicted to be at or over capacity (utilisation >= 1)."""
    market = at_scale(scn)
    keys = {
        "gateway": ("payment.gateway.servers", market.payment.gateway.servers),
        "fraud_review": ("platform.fraud.analysts", market.platform.fraud.analysts),
    }
    out = []
    for queue, rho in _utilisation(market).items():
        if rho >= 1.0:
            key, servers = keys[queue]
            at = f" at scale {scn.scale:g}" if scn.scale != 1.0 else ""
            out.append(
                f"{key}: queue {queue!r} is predicted at utilisation {rho:.3g} at the mean arrival "
                f"rate ({market.buyers.orders_per_hour:g} orders/hour{at}, {servers} server"
                f"{'s' * (servers != 1)}): at 1 or more its queue grows without bound and its waits "
                "measure the run's length; add servers or lower the demand"
            )
    return out


def _attempts(scn: Scenario) -> float:
    """Expected payment attempts per order (see the module's docstring)."""
    b, p = scn.buyers, scn.payment
    f = b.fraud_rate

    def fails(verified: float, card: float, issuer: float) -> float:
        ok = (1.0 - p.incorrect_details_rate) * (1.0 - (1.0 - verified) * p.unverified_decline_rate)
        return 1.0 - ok * (1.0 - card * issuer)

    stolen = b.fraud.stolen_card_share
    fraud_issuer = stolen * p.stolen_card_decline_rate + (1.0 - stolen) * p.issuer_decline_rate
    fail = (1.0 - f) * fails(b.verified_share, b.card_share, p.issuer_decline_rate) + f * fails(
        b.fraud.verified_share, b.fraud.card_share, fraud_issuer
    )
    q = fail * b.retry_probability
    return sum(q**j for j in range(p.max_retries + 1))


def _large_share(scn: Scenario, multiplier: float) -> float:
    """P(amount > large_order_usd) for an order of 1 + Poisson(extra_items_mean) items at a
    lognormal list price, times ``multiplier``."""
    b = scn.buyers
    price, limit = b.item_price_usd, scn.platform.fraud.large_order_usd
    sigma = math.sqrt(math.log1p((price.sd / price.mean) ** 2))
    mu = math.log(price.mean) - sigma**2 / 2.0
    mean, unit = b.extra_items_mean, NormalDist()
    total, left, k, pk = 0.0, 1.0, 0, math.exp(-mean)  # pk: P(k extra items), Poisson
    while left > _TAIL and pk > 0.0:
        cut = limit / ((1 + k) * multiplier)  # the price above which the order is large
        total += pk * (1.0 - unit.cdf((math.log(cut) - mu) / sigma)) if cut > 0.0 else pk
        left -= pk
        k += 1
        pk *= mean / k
    return total


def _legit_velocity_share(scn: Scenario) -> float:
    """Share of legitimate orders the velocity signal flags: with a device each, none (a limit
    of 1 flags all); with ``buyers_per_device`` k > 1, P(the group's orders in the window before
    this one >= limit - 1), Poisson with mean k x the per-buyer order rate x the window."""
    b, fr = scn.buyers, scn.platform.fraud
    k, limit = b.buyers_per_device, fr.velocity_limit
    if limit <= 1 or k == 1:
        return float(limit <= 1)
    mean = k * b.orders_per_hour * (1.0 - b.fraud_rate) / b.population * fr.velocity_window_hours
    below = sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(limit - 1))
    return max(0.0, 1.0 - below)


def _velocity_share(scn: Scenario) -> float:
    """Share of fraud orders the velocity signal flags (see the module's docstring)."""
    f, fr = scn.buyers.fraud, scn.platform.fraud
    limit = fr.velocity_limit
    if limit <= 1:
        return 1.0
    # P(B >= k) for B = 1 + Poisson(m - 1), k = 1, 2, ...: E[orders at or past the limit] / E[B].
    mean, below, past = f.burst_orders_mean - 1.0, 0.0, 0.0
    pk = math.exp(-mean)
    for j in range(2000):  # P(X = j); B >= k  <=>  X >= k - 1
        if j >= limit - 1:
            past += pk * (j - limit + 2)
        below += pk
        if 1.0 - below < _TAIL:
            break
        pk *= mean / (j + 1)
    gaps = f.burst_gap.draw(np.random.default_rng(0), 20_000 * (limit - 1)) * f.burst_gap.factor_to("hours")
    fits = float(np.mean(gaps.reshape(-1, limit - 1).sum(axis=1) < fr.velocity_window_hours))
    return fits * past / f.burst_orders_mean


def _review_share(scn: Scenario) -> float:
    """Share of orders whose risk score is in [review_threshold, decline_threshold)."""
    b, fr = scn.buyers, scn.platform.fraud
    lo, hi = _logit(fr.review_threshold), _logit(fr.decline_threshold)
    weights = signal_weights(fr)
    young_h = fr.new_account_days * 24.0

    def in_band(z: float) -> float:
        if fr.noise_sd == 0.0:
            return float(lo <= z < hi)
        unit = NormalDist()
        return unit.cdf((hi - z) / fr.noise_sd) - unit.cdf((lo - z) / fr.noise_sd)

    f, legit_velocity = b.fraud, _legit_velocity_share(scn)
    flagged = f.card_share * f.stolen_card_share * scn.payment.stolen_card_flagged_share
    groups = (  # (share of orders, P(signal) in SIGNALS' order)
        (
            1.0 - b.fraud_rate,
            (
                _large_share(scn, 1.0),
                legit_velocity,
                1.0 - b.verified_share,
                0.0,
                b.account_age.cdf_hours(young_h),
                b.address_mismatch_share,
                b.new_device_share,
            ),
        ),
        (
            b.fraud_rate,
            (
                _large_share(scn, f.amount_multiplier),
                _velocity_share(scn),
                1.0 - f.verified_share,
                flagged,
                f.account_age.cdf_hours(young_h),
                f.address_mismatch_share,
                f.new_device_share,
            ),
        ),
    )
    share = 0.0
    for weight, chances in groups:
        for mask, w in enumerate(weights):
            p = weight
            for i, c in enumerate(chances):
                p *= c if mask >> i & 1 else 1.0 - c
            if p > 0.0:
                share += p * in_band(fr.intercept + w)
    return share


def _logit(x: float) -> float:
    """Log-odds of ``x``; +-inf at 1 and 0 (a threshold no score reaches, or every one does)."""
    if x <= 0.0:
        return -math.inf
    if x >= 1.0:
        return math.inf
    return math.log(x / (1.0 - x))
