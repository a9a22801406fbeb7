"""A bare-SimPy skeleton of simcore's order lifecycle: the yardstick for the model's speed.

:func:`run_skeleton` runs, on plain SimPy, the same sequence of SimPy events an order goes
through in :mod:`simcore.model.world` (``lifecycle``), with the scenario's own rates, staff and mean
times, and nothing else. What it mirrors, step by step (each step its own SimPy event, as in the
model; ``scn.`` omitted):

- arrivals: a Poisson process at the flat mean rate ``buyers.orders_per_hour`` until
  ``horizon_hours`` (the model thins a daily and weekly profile around the same mean); each
  order is a process of its own (``env.process``, as ``OrderDesk.place`` starts ``lifecycle``);
- buyer cancel request (``buyers.cancel`` change_of_mind + better_deal + wrong_item): a process
  waiting ``request_time``, then cancelling the order if it has not shipped (``buyers.cancel_request``);
- gateway (``gateway.Gateway.pay``): a request on a ``Resource`` of ``payment.gateway.servers``,
  held for ``service_time``; declined with ``payment.issuer_decline_rate``, retried after
  ``buyers.retry_delay`` with ``buyers.retry_probability`` up to ``payment.max_retries`` times,
  else cancelled (payment failed);
- verification (``Gateway.verify``): ``payment.verification.share`` of the orders wait
  ``buyers.verification_time``; those who abandon (``buyers.verification_abandon_share``) or take
  longer than ``window_hours`` wait the window and are cancelled;
- fraud review (``referee.Referee.screen``): :data:`REVIEW_SHARE` of the paid orders queue for a
  ``Resource`` of ``platform.fraud.analysts`` for ``review_time``; ``review_false_positive_rate``
  of them are cancelled;
- seller (``sellers.SellerDesk.fulfil``): ``sellers.first_look_time``, then a stock check on a
  SKU picked uniformly from ``count * skus_per_seller`` (initial stock Poisson
  ``initial_stock_mean`` + 1, 12 when null, as ``Inventory``'s start-only state): none left ->
  cancelled out of stock; else one unit is taken, and at ``strategy.reorder_point`` (the model's
  floor) a restock process adds ``reorder_quantity``
  after ``restock_lead_time`` (``inventory.Restocker``); then ``handling_time``, and shipment;
- delivery (``SellerDesk._deliver``): the destinations' weight-averaged mean ``transit_time``,
  then the buyer's ``confirm_time``, and the order is completed;
- refund (``refunds.RefundDesk``): a cancelled paid order starts a process that waits the
  refund delay, then counts the refund paid. The delay's mean is the mix of wallet
  (``refunds.wallet_share``, ``wallet_delay``) and card (``card_delay_bdays``, business days
  stretched to calendar days by 7/5).

Every wait is exponential with the spec's mean (``.mean_hours``): the skeleton is about event
structure, not distributions. Every random number is drawn with numpy before the clock starts
(arrival gaps until the horizon, then one value per order and quantity; decisions as
pre-computed 0/1 bytes), and the run keeps only per-order state (open, shipped, closed; paid)
and a few int counters.

Left out: recording of any kind (event log, order columns, queue monitors, daily snapshots),
the arrival profile, fraudsters and their risk scores, outright fraud declines, prohibited
items, address conflicts, the seller's answer to a cancel request, price, route and quote
checks, the ship-by deadline and neglect, per-seller traits, popularity skew and stock records
apart from physical stock, shrinkage, stock counts, repricing and the exchange rate, lost
parcels, disputes, customer service, trust, seller ratings and penalties, chargebacks, bank
holds, returns, new orders after failed payments, the fraud signals and rings' bursts, sellers'
and carriers' daily capacity, holidays, the policy layer's decisions, and the background
processes behind them.
"""

from __future__ import annotations

import gc
import time
from array import array

import numpy as np
import simpy

from simcore.scenario.schema import Scenario

#: Share of paid orders the model sends to manual fraud review: measured on the baseline
#: (scenarios/baseline.yaml, seed 20261111, 2026-11-26): 4.71% of the 43,987 placed orders had
#: ``fraud_review_started`` and 96.7% were paid, so 4.9% of the paid ones.
REVIEW_SHARE = 0.049
#: Calendar days per business day, to turn the card refund delay into hours.
_CALENDAR_PER_BUSINESS_DAY = 7.0 / 5.0


def _times(rng: np.random.Generator, mean_h: float, n: int) -> array:
    """``n`` exponential waits of mean ``mean_h`` hours, as an ``array('d')`` (8 bytes each;
    indexing it gives a Python float, as a list would, without a list's 32 bytes a value)."""
    return array("d", (rng.exponential(1.0, n) * mean_h).tobytes())


def _flags(rng: np.random.Generator, p: float, n: int) -> bytes:
    """``n`` pre-drawn decisions, each 1 with probability ``p`` (indexing gives 0 or 1)."""
    return (rng.random(n) < p).tobytes()


def _arrival_gaps(rng: np.random.Generator, rate_per_h: float, horizon_h: float) -> np.ndarray:
    """Gaps between the Poisson arrivals that fall before ``horizon_h``."""
    expected = rate_per_h * horizon_h
    size = int(expected * 1.1 + 10.0 * np.sqrt(expected) + 100)
    gaps = rng.exponential(1.0 / rate_per_h, size)
    while gaps.sum() < horizon_h:  # practically never; keeps the count exact if it happens
        gaps = np.concatenate([gaps, rng.exponential(1.0 / rate_per_h, size)])
    n = int(np.searchsorted(np.cumsum(gaps), horizon_h))
    return gaps[:n]


def run_skeleton(scn: Scenario, seed: int = 1) -> dict:
    """Run the bare-SimPy skeleton of ``scn``'s order lifecycle to ``scn.horizon_hours``.

    The cyclic garbage collector is relaxed during the run exactly as ``simcore.model.world.Model.run``
    does, so the two are compared on equal terms, and restored after.

    Args:
        scn: A loaded scenario (``simcore.load_scenario``); its rates, staff and mean times are used.
        seed: Seed of the numpy generator the randomness is pre-drawn from.

    Returns:
        ``orders`` placed, ``wall_s`` (seconds of ``env.run``; pre-drawing is ``draw_s``),
        ``simpy_events`` scheduled, ``cancelled``, ``completed``, and the counters ``refunds_paid``,
        ``payment_failed``, ``reviewed``, ``out_of_stock`` and ``restocks``.
    """
    t_draw = time.perf_counter()
    from simcore.scenario.scale import at_scale

    scn = at_scale(scn)  # the market at its scale (one pooled desk per station here, not teams)
    b, s, p, pf = scn.buyers, scn.sellers, scn.payment, scn.platform
    rng = np.random.default_rng(seed)
    gaps = array("d", _arrival_gaps(rng, b.orders_per_hour, scn.horizon_hours).tobytes())
    n = len(gaps)
    tries = p.max_retries + 1  # attempts per order; attempt a of order i is at i * tries + a

    c = b.cancel
    cancels = _flags(rng, c.change_of_mind + c.better_deal + c.wrong_item, n)
    request_time = _times(rng, c.request_time.mean_hours, n)
    service = _times(rng, p.gateway.service_time.mean_hours, n * tries)
    declined = _flags(rng, p.issuer_decline_rate, n * tries)
    retries = _flags(rng, b.retry_probability, n * tries)
    retry_delay = _times(rng, b.retry_delay.mean_hours, n * tries)
    verifies = _flags(rng, p.verification.share, n)
    abandons = _flags(rng, b.verification_abandon_share, n)
    verify_time = _times(rng, b.verification_time.mean_hours, n)
    reviewed = _flags(rng, REVIEW_SHARE, n)
    review_time = _times(rng, pf.fraud.review_time.mean_hours, n)
    rejected = _flags(rng, pf.fraud.review_false_positive_rate, n)
    first_look = _times(rng, s.first_look_time.mean_hours, n)
    n_skus = s.count * s.skus_per_seller
    sku_of = array("q", rng.integers(0, n_skus, n, dtype=np.int64).tobytes())
    handling = _times(rng, s.handling_time.mean_hours, n)
    # A restock is started by an order's stock check, at most one per order: indexed by order.
    lead_time = _times(rng, s.strategy.restock_lead_time.mean_hours, n)
    dests = scn.shipping.destinations.values()
    transit_mean = sum(d.weight * d.transit_time.mean_hours for d in dests) / sum(d.weight for d in dests)
    transit = _times(rng, transit_mean, n)
    confirm = _times(rng, b.confirm_time.mean_hours, n)
    r = scn.refunds
    refund_mean = r.wallet_share * r.wallet_delay.mean_hours + (1.0 - r.wallet_share) * (
        r.card_delay_bdays.mean_hours * _CALENDAR_PER_BUSINESS_DAY
    )
    refund_delay = _times(rng, refund_mean, n)
    # The skeleton keeps Poisson shelves (12 units when the scenario starts in steady state).
    stock = (rng.poisson(s.initial_stock_mean or 12.0, n_skus) + 1).tolist()
    on_order = bytearray(n_skus)
    draw_s = time.perf_counter() - t_draw

    env = simpy.Environment()
    gateway = simpy.Resource(env, p.gateway.servers)
    analysts = simpy.Resource(env, pf.fraud.analysts)
    window = p.verification.window_hours
    max_retries = p.max_retries
    reorder_point = s.strategy.reorder_point if s.strategy.low_stock_alert else 0
    reorder_qty = s.strategy.reorder_quantity
    # Per-order state, not history: 0 open, 1 shipped (no longer cancellable), 2 closed.
    state = bytearray(n)
    paid = bytearray(n)
    n_cancelled = n_completed = n_refunds = n_payment_failed = n_reviewed = n_out_of_stock = 0
    n_restocks = 0

    def refund(i: int):
        nonlocal n_refunds
        yield env.timeout(refund_delay[i])
        n_refunds += 1

    def cancel(i: int) -> None:
        nonlocal n_cancelled
        if state[i]:  # shipped or already closed
            return
        state[i] = 2
        n_cancelled += 1
        if paid[i]:
            env.process(refund(i))

    def restock(sku: int, i: int):
        nonlocal n_restocks
        on_order[sku] = 1
        yield env.timeout(lead_time[i])
        stock[sku] += reorder_qty
        on_order[sku] = 0
        n_restocks += 1

    def cancel_request(i: int):
        yield env.timeout(request_time[i])
        cancel(i)

    def order(i: int):
        nonlocal n_completed, n_payment_failed, n_reviewed, n_out_of_stock
        if cancels[i]:
            env.process(cancel_request(i))
        # Gateway: queue, service, decline and retry.
        k = i * tries
        attempt = 0
        while True:
            req = gateway.request()
            yield req
            yield env.timeout(service[k + attempt])
            gateway.release(req)
            if state[i]:
                return
            if not declined[k + attempt]:
                break
            if attempt >= max_retries or not retries[k + attempt]:
                n_payment_failed += 1
                cancel(i)
                return
            yield env.timeout(retry_delay[k + attempt])
            if state[i]:
                return
            attempt += 1
        # Verification.
        if verifies[i]:
            took = verify_time[i]
            if abandons[i] or took > window:
                yield env.timeout(window)
                cancel(i)
                return
            yield env.timeout(took)
            if state[i]:
                return
        paid[i] = 1
        # Fraud review.
        if reviewed[i]:
            n_reviewed += 1
            req = analysts.request()
            yield req
            yield env.timeout(review_time[i])
            analysts.release(req)
            if rejected[i]:
                cancel(i)
                return
            if state[i]:
                return
        # Seller: first look, stock check, handling.
        yield env.timeout(first_look[i])
        if state[i]:
            return
        sku = sku_of[i]
        if stock[sku] <= 0:
            n_out_of_stock += 1
            cancel(i)
            return
        stock[sku] -= 1
        if stock[sku] <= reorder_point and not on_order[sku]:
            env.process(restock(sku, i))
        yield env.timeout(handling[i])
        if state[i]:
            stock[sku] += 1  # picked but never shipped: back on the shelf
            return
        state[i] = 1
        # Delivery and confirmation.
        yield env.timeout(transit[i])
        yield env.timeout(confirm[i])
        state[i] = 2
        n_completed += 1

    def arrivals():
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(order(i))

    env.process(arrivals())
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)  # as simcore.model.world._relaxed_gc
    try:
        t0 = time.perf_counter()
        env.run(until=scn.horizon_hours)
        wall = time.perf_counter() - t0
    finally:
        gc.set_threshold(*old)
    # SimPy numbers every scheduled event from the private counter Environment._eid
    # (itertools.count, SimPy 4); its next value is the number of events scheduled so far.
    events = next(env._eid)
    return {
        "orders": n,
        "wall_s": wall,
        "draw_s": draw_s,
        "simpy_events": events,
        "cancelled": n_cancelled,
        "completed": n_completed,
        "refunds_paid": n_refunds,
        "payment_failed": n_payment_failed,
        "reviewed": n_reviewed,
        "out_of_stock": n_out_of_stock,
        "restocks": n_restocks,
    }
