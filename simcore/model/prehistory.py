"""The stock's prehistory: the days before hour 0, played from each seller's last stock count, so
that the world starts in the state its own dynamics hold.

A record's error at a random hour is what happened to it since the seller last counted the SKU:
mis-keyed picks and receipts, drift, unrecorded losses, and the corrections the seller made on
finding a shelf short. These interact with the stock's path. An overstated record is found only
once the shelf under it empties, and a reorder comes when the record reaches the reorder point,
not the shelf. No closed form gives their joint state; a start that draws each record's error on
its own (one error, or all of them stacked) starts the out-of-stock share 30% too low or 2.4 times
too high, and the warm-up then has to wait out a transient of several weeks.

So :func:`prehistory` plays the stock's dynamics with the run's own rates. Each SKU starts at its
seller's last count, ``age`` days before hour 0, with its record accurate and its stock where the
reorder policy holds it (:func:`steady_stock`). From there:

- Demand: orders at the scenario's mean rate, each of ``1 + Poisson(extra_items_mean)`` units
  with ``buyers.listing_tries`` candidate listings drawn by popularity. The
  order goes to the first candidate whose record shows enough units, or is lost.
- The seller's look: a shelf holding too few units corrects the record to the shelf and nothing
  is picked. Otherwise the units are picked, and the pick mis-keys the record with the seller's
  pick-error probability.
- Reorders: when a record is at or below its reorder point with nothing on order (after a pick, a
  correction, or the count itself), the seller orders its quantity. It arrives after a lead time,
  and the receipt mis-keys the record as a pick does.
- Unrecorded losses and record drift: Poisson processes at the run's rates, each picking a SKU in
  proportion to its own rate. A loss takes a unit off the shelf (if any); a drift error changes
  the record by a signed size.

Its draws come from the ``inventory.start`` stream, so the prehistory moves no other stream's
numbers.

Assumptions (docs/model.md, Section 5 and 7.10): every order reaches the seller's look the moment
it is placed. In the run about 8% of arrivals never do (payment, fraud, the buyer's trust,
cancellations) and the look comes hours later. The prehistory ignores buyers' trust, sellers'
suspensions, promotions and delisted listings. Measured over 96 seeds of the baseline, the
out-of-stock share is 1.20% of orders in days 0-10 and 1.17% in days 10-40, a difference within
the seeds' noise.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.engine.samplers import block_sampler
from simcore.scenario.distributions import DistSpec

_ORDER, _LOSS, _DRIFT = 0, 1, 2

#: Expected record errors after which a SKU's prehistory is cut short: it begins this many
#: errors' time before hour 0 (at most its count). Only records all but certain to be wrong are
#: cut (their share accurate under the reference counts is under 1/MAX_ERRORS, 2%): by then a record
#: has drifted up by ~MAX_ERRORS x (2 x phantom_share - 1) x record_error_mean units, and its
#: shelf has been found short and corrected many times over if it sells. Without the cut, a
#: scenario with records all wrong (accuracy 0: errors at 1e4 per count interval) would play
#: 80 million errors before hour 0 (two minutes); with it, at most 50 a SKU.
MAX_ERRORS = 50.0
#: Events a window of the prehistory holds on average (the loop's lists are made a window at a
#: time).
_WINDOW_EVENTS = 1 << 16


@dataclass(frozen=True)
class StockState:
    """Stock at hour 0.

    Attributes:
        physical: Units on the shelf, by SKU.
        recorded: Units on the seller's record, by SKU.
        in_transit: (SKU, units, hours from hour 0 until they arrive) of each replenishment then
            on its way.
    """

    physical: np.ndarray
    recorded: np.ndarray
    in_transit: list[tuple[int, int, float]]


@dataclass(frozen=True)
class StockRules:
    """What the prehistory plays: the catalog's demand and stock policy, and its errors.

    Attributes:
        units_per_day: Expected units sold a day, by SKU.
        point: Reorder point (units), by SKU.
        quantity: Reorder quantity (units), by SKU.
        lead: The replenishment lead-time distribution.
        popularity_cdf: Cumulative demand share over SKUs (a uniform picks a listing).
        orders_per_day: The mean order rate over the whole catalog (orders a day).
        extra_items_mean: An order's units are ``1 + Poisson(extra_items_mean)``.
        listing_tries: Candidate listings an order tries before it is lost.
        skus_per_seller: SKUs in each seller's block of consecutive ids.
        pick_p: Per seller: the probability that a pick or a receipt mis-keys the record.
        loss_per_day: Unrecorded losses a day, by SKU.
        drift_per_day: Record errors a day arising with time, by SKU.
        errors_per_day: All record errors a day (losses, drift, mis-keyed transactions), by SKU.
        mis_key: ``(u, p) -> signed units``: the error a transaction with uniform ``u`` makes at
            error probability ``p`` (0 when ``u >= p``).
        drift_sizes: ``k -> k`` signed record errors (units) for ``k`` drift events.
    """

    units_per_day: np.ndarray
    point: np.ndarray
    quantity: np.ndarray
    lead: DistSpec
    popularity_cdf: np.ndarray
    orders_per_day: float
    extra_items_mean: float
    listing_tries: int
    skus_per_seller: int
    pick_p: list[float]
    loss_per_day: np.ndarray
    drift_per_day: np.ndarray
    errors_per_day: np.ndarray
    mis_key: Callable[[float, float], int]
    drift_sizes: Callable[[int], np.ndarray]


def steady_stock(
    rng: np.random.Generator, rules: StockRules
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Stock as the (reorder point, quantity) policy holds it at a random hour, with accurate
    records: units on hand by SKU, and (SKU, units, hours until arrival) of the replenishments
    then in transit.

    Under continuous review, the stock position (on hand plus on order) is uniform on
    ``point + 1 .. point + quantity``; the last reorder was ``(point + quantity - position + U) /
    demand`` days ago (``U`` uniform: the share of its time at the current level already spent),
    and if that is under the lead time its units are still in transit. Lost sales while a shelf
    is empty are ignored here (the prehistory plays them).
    """
    point, quantity = rules.point, rules.quantity
    n = len(point)
    position = point + 1 + np.floor(rng.random(n) * quantity).astype(np.int64)
    lead_h = rules.lead.draw(rng, n) * rules.lead.factor_to("hours")
    demand = np.maximum(rules.units_per_day, 1e-300)  # no demand: never reordered
    since_h = (point + quantity - position + rng.random(n)) / demand * 24.0
    pending = since_h < lead_h
    on_hand = np.where(pending, np.maximum(position - quantity, 0), position)
    transit = [
        (sku, int(quantity[sku]), float(lead_h[sku] - since_h[sku]))
        for sku in np.flatnonzero(pending).tolist()
    ]
    return on_hand, transit


def prehistory(rng: np.random.Generator, rules: StockRules, age_days: np.ndarray) -> StockState:
    """Play the stock's dynamics from each SKU's last count (``age_days`` before hour 0, by SKU)
    to hour 0 (see the module's text) and return the stock then."""
    n = len(age_days)
    # A record with more than MAX_ERRORS expected since its count starts its prehistory later.
    with np.errstate(divide="ignore"):
        days = np.minimum(age_days, MAX_ERRORS / rules.errors_per_day)
    start = -24.0 * days
    start_h = start.tolist()
    on_hand, transit = steady_stock(rng, rules)
    phys = on_hand.astype(np.int64).tolist()
    rec = list(phys)
    point, quantity = rules.point.tolist(), rules.quantity.tolist()
    per, pick_p, mis_key = rules.skus_per_seller, rules.pick_p, rules.mis_key
    factor = rules.lead.factor_to("hours")
    lead_h = block_sampler(lambda k: rules.lead.draw(rng, k) * factor)
    receipt_u = block_sampler(rng.random)
    cdf, last = rules.popularity_cdf, n - 1
    # A buyer's second and third candidates, drawn as needed (most orders take their first).
    other = block_sampler(lambda k: np.minimum(np.searchsorted(cdf, rng.random(k)), last))

    on_order = bytearray(n)
    due: list[tuple[float, int]] = []  # (hour of arrival, SKU): a heap
    for sku, _, left_h in transit:
        on_order[sku] = 1
        due.append((start_h[sku] + left_h, sku))
    # The count that starts each SKU's prehistory reorders what it finds at or below the point.
    for sku in np.flatnonzero(on_hand <= rules.point).tolist():
        if not on_order[sku]:
            on_order[sku] = 1
            due.append((start_h[sku] + lead_h(), sku))
    heapq.heapify(due)

    for hours, kinds, positions, columns in _windows(_events(rng, rules, start)):
        qty, first, pick_u, losses_sku, drift_sku, drift_change = columns
        for t, kind, i in zip(hours, kinds, positions, strict=True):
            while due and due[0][0] <= t:
                _, sku = heapq.heappop(due)
                _receive(phys, rec, sku, quantity[sku], mis_key(receipt_u(), pick_p[sku // per]))
                on_order[sku] = 0
            if kind == _ORDER:
                q, sku, tries = qty[i], first[i], 1
                while rec[sku] < q and tries < rules.listing_tries:  # shows too few: try another
                    sku, tries = int(other()), tries + 1
                    if t < start_h[sku]:
                        break
                if t < start_h[sku] or rec[sku] < q:
                    continue  # a listing whose prehistory has not begun (not followed), or lost
                if phys[sku] < q:  # the seller finds the shelf short and corrects the record
                    rec[sku] = phys[sku]
                else:
                    phys[sku] -= q
                    r = rec[sku] - q + mis_key(pick_u[i], pick_p[sku // per])
                    rec[sku] = r if r > 0 else 0
                if not on_order[sku] and rec[sku] <= point[sku]:
                    on_order[sku] = 1
                    heapq.heappush(due, (t + lead_h(), sku))
            elif kind == _LOSS:
                sku = losses_sku[i]
                if phys[sku] > 0:
                    phys[sku] -= 1
            else:
                sku = drift_sku[i]
                r = rec[sku] + drift_change[i]
                rec[sku] = r if r > 0 else 0
    in_transit = []
    for hour, sku in sorted(due):
        if hour <= 0.0:
            _receive(phys, rec, sku, quantity[sku], mis_key(receipt_u(), pick_p[sku // per]))
        else:
            in_transit.append((sku, quantity[sku], hour))
    return StockState(np.asarray(phys, np.int64), np.asarray(rec, np.int64), in_transit)


def _receive(phys: list[int], rec: list[int], sku: int, units: int, error: int) -> None:
    """A replenishment of ``units`` arrives; its receipt is recorded with ``error``."""
    phys[sku] += units
    r = rec[sku] + units + error
    rec[sku] = r if r > 0 else 0


#: A kind of event: its hours in time order, and its values' columns in the same order.
_Kind = tuple[np.ndarray, list[np.ndarray]]


def _events(rng: np.random.Generator, rules: StockRules, start_h: np.ndarray) -> list[_Kind]:
    """The prehistory's orders, losses and drift, each SKU's from its hour ``start_h`` (negative)
    to hour 0: for orders, the columns are (units, first candidate, pick uniforms); for losses,
    (SKU,); for drift, (SKU, change).

    Orders are a Poisson process over the longest prehistory; those whose first candidate's
    prehistory has not begun are dropped (not followed).
    """
    last = len(start_h) - 1
    span_h = -float(start_h.min()) if len(start_h) else 0.0
    n = int(rng.poisson(rules.orders_per_day * span_h / 24.0))
    t_orders = -span_h + rng.random(n) * span_h
    qty = (1 + rng.poisson(rules.extra_items_mean, n)).astype(np.int32)
    first = np.minimum(np.searchsorted(rules.popularity_cdf, rng.random(n)), last).astype(np.int32)
    pick_u = rng.random(n)
    t_loss, loss_sku = _over_skus(rng, rules.loss_per_day, start_h)
    t_drift, drift_sku = _over_skus(rng, rules.drift_per_day, start_h)
    change = rules.drift_sizes(len(t_drift)).astype(np.int32)
    begun = t_orders >= start_h[first]
    return [
        _in_time_order(t_orders[begun], qty[begun], first[begun], pick_u[begun]),
        _in_time_order(t_loss, loss_sku),
        _in_time_order(t_drift, drift_sku, change),
    ]


def _over_skus(
    rng: np.random.Generator, rates_per_day: np.ndarray, start_h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(hours, SKUs) of independent Poisson processes, one a SKU at ``rates_per_day`` from its
    hour ``start_h`` (negative) to hour 0."""
    k = rng.poisson(rates_per_day * (-start_h / 24.0))
    sku = np.repeat(np.arange(len(k), dtype=np.int32), k)
    return start_h[sku] * rng.random(len(sku)), sku


def _in_time_order(hours: np.ndarray, *columns: np.ndarray) -> _Kind:
    order = np.argsort(hours, kind="stable")
    return hours[order], [col[order] for col in columns]


def _windows(
    kinds: list[_Kind],
) -> Iterator[tuple[list[float], list[int], list[int], list[list[Any]]]]:
    """The events of all kinds merged in time order, a window of time at a time (lists for the
    Python loop are made per window: made at once, a million-order world's would take ~1 GiB).

    Yields (hours, kinds, positions, columns): the n-th event of the window is of kind
    ``kinds[n]`` and is the ``positions[n]``-th of its kind in the window, whose values are read
    from ``columns``: the orders' three columns, the losses' one, then the drift's two.
    """
    total = sum(len(hours) for hours, _ in kinds)
    first = min((float(hours[0]) for hours, _ in kinds if len(hours)), default=0.0)
    edges = np.linspace(first, 0.0, 2 + total // _WINDOW_EVENTS)
    edges[-1] = np.inf
    cuts = [np.searchsorted(hours, edges) for hours, _ in kinds]
    for w in range(len(edges) - 1):
        spans = [(int(cut[w]), int(cut[w + 1])) for cut in cuts]
        hours = np.concatenate([h[lo:hi] for (h, _), (lo, hi) in zip(kinds, spans, strict=True)])
        kind = np.concatenate([np.full(hi - lo, k, np.int8) for k, (lo, hi) in enumerate(spans)])
        position = np.concatenate([np.arange(hi - lo) for lo, hi in spans])
        merged = np.argsort(hours, kind="stable")
        columns = [
            col[lo:hi].tolist() for (_, cols), (lo, hi) in zip(kinds, spans, strict=True) for col in cols
        ]
        yield hours[merged].tolist(), kind[merged].tolist(), position[merged].tolist(), columns
