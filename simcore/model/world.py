"""One run's world: build it, run its clock, hand over what the run leaves.

The run has explicit steps: :class:`World` builds (the run context, then :func:`build` makes
the parts in dependency order and :func:`start` their background processes) ->
:meth:`World.run` advances the clock to the horizon -> it returns a :class:`RunRecord`, the
only thing the results layer reads, and lets go of everything else.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from simcore.engine.calendar import Calendar
from simcore.engine.clock import rounds
from simcore.engine.columns import as_numpy
from simcore.engine.monitor import QueueMonitor
from simcore.engine.proc import Proc
from simcore.engine.tuning import relaxed_gc
from simcore.model.arrivals import arrivals
from simcore.model.buyers import Population
from simcore.model.cancel_requests import CancelRequests
from simcore.model.chargebacks import ChargebackDesk
from simcore.model.context import RunContext
from simcore.model.demand import ArrivalRate
from simcore.model.disputes import DisputeDesk
from simcore.model.gateway import Gateway
from simcore.model.inventory import Inventory, Restocker
from simcore.model.lifecycle import Stages
from simcore.model.orderbook import OrderBook
from simcore.model.parcels import Parcels
from simcore.model.placement import OrderDesk
from simcore.model.pricing import Costs
from simcore.model.recorder import Recorder
from simcore.model.referee import Referee
from simcore.model.refunds import RefundDesk
from simcore.model.reputation import Reputation
from simcore.model.review import seller_review
from simcore.model.sellers import SellerDesk
from simcore.model.staffing import start_staffing
from simcore.model.standing import SellerStanding
from simcore.model.traits import SellerTraits
from simcore.model.trust import BuyerTrust
from simcore.model.vocabulary import QUEUES
from simcore.scenario.distributions import Exponential
from simcore.scenario.scale import at_scale
from simcore.scenario.schema import Scenario

_EXP1 = Exponential(dist="exponential", mean=1.0)


@dataclass(frozen=True, kw_only=True)
class Parts:
    """Everything a running world is made of (state and desks)."""

    #: Each seller's phase in its repricing and counting rounds, as shares of the intervals.
    reprice_phase: np.ndarray
    count_phase: np.ndarray
    inventory: Inventory
    costs: Costs
    traits: SellerTraits
    trust: BuyerTrust
    standing: SellerStanding
    parcels: Parcels
    reputation: Reputation
    restocker: Restocker
    refunds: RefundDesk
    disputes: DisputeDesk
    book: OrderBook
    stages: Stages
    placement: OrderDesk


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What a finished run leaves for collection (:func:`simcore.results.collect.collect`).

    Attributes:
        scenario: The scenario run.
        seed: The root seed used.
        replication: The replication number.
        rec: The recorder: orders, events, queues, daily snapshots.
        calendar: Hours to dates.
        traits: The sellers' traits.
        seller_accuracy: Each seller's long-run record accuracy under the reference counts.
        standing: The sellers' final ratings and their warnings and suspensions.
        churned_at: The hour each legitimate buyer churned (NaN if never), by buyer id.
        stock_counts: Full stock counts each seller made during the run, by seller id.
    """

    scenario: Scenario
    seed: int
    replication: int
    rec: Recorder
    calendar: Calendar
    traits: SellerTraits
    seller_accuracy: np.ndarray
    standing: SellerStanding
    churned_at: np.ndarray
    stock_counts: np.ndarray


def build(ctx: RunContext) -> Parts:
    """The world's parts, each built from the context, in dependency order.

    Stream: ``sellers.phases`` (each seller's phase in its repricing and counting rounds).
    """
    scn = ctx.scn
    # Each seller's phase in its repricing and counting rounds, as shares of their intervals
    # (the count's phase sets how old each record is at the start).
    phases = ctx.generator("sellers.phases")
    reprice_phase = phases.random(scn.sellers.count)
    count_phase = phases.random(scn.sellers.count)  # drawn whether sellers count or not: CRN
    inventory = Inventory(ctx, count_phase=count_phase)
    costs = Costs(ctx, inventory=inventory)
    population = Population(ctx)
    traits = SellerTraits.draw(ctx)
    trust = BuyerTrust(scn.buyers.trust, scn.buyers.population)
    standing = SellerStanding(scn.platform.seller_rating, scn.platform.penalties, scn.sellers.count)
    parcels = Parcels(ctx, trust=trust, standing=standing, horizon_h=ctx.scn.horizon_hours)
    reputation = Reputation(trust=trust, standing=standing, parcels=parcels)
    restocker = Restocker(ctx, inventory=inventory)
    refunds = RefundDesk(ctx)
    disputes = DisputeDesk(
        ctx,
        refunds=refunds,
        reputation=reputation,
        inventory=inventory,
        dishonest=traits.dishonest,
        copy_of=inventory.seller_copy,
    )
    book = OrderBook(ctx, inventory=inventory, refunds=refunds, reputation=reputation, disputes=disputes)
    sellers = SellerDesk(
        ctx,
        book=book,
        inventory=inventory,
        restocker=restocker,
        costs=costs,
        traits=traits,
        parcels=parcels,
        disputes=disputes,
    )
    stages = Stages(
        book=book,
        cancels=CancelRequests(ctx, book=book),
        gateway=Gateway(ctx, book=book, copy_of=inventory.seller_copy),
        chargebacks=ChargebackDesk(ctx, book=book),
        referee=Referee(ctx, inventory=inventory),
        sellers=sellers,
    )
    placement = OrderDesk(
        ctx,
        population=population,
        inventory=inventory,
        traits=traits,
        book=book,
        reputation=reputation,
        lifecycle=stages.lifecycle,
    )
    # The book cancels; placement takes a failed order's buyer back to the listing.
    book.after_payment_trouble = placement.order_again
    return Parts(
        reprice_phase=reprice_phase,
        count_phase=count_phase,
        inventory=inventory,
        costs=costs,
        traits=traits,
        trust=trust,
        standing=standing,
        parcels=parcels,
        reputation=reputation,
        restocker=restocker,
        refunds=refunds,
        disputes=disputes,
        book=book,
        stages=stages,
        placement=placement,
    )


def start(ctx: RunContext, parts: Parts) -> None:
    """Start the world's background processes: arrivals, unrecorded losses, the exchange rate,
    suppliers' cost rises and price typos, the sellers' repricing and stock counts, the
    platform's seller review, the daily snapshot.

    Streams: ``buyers.arrivals.gap`` and ``buyers.arrivals.thin`` (arrivals).
    """
    env, scn = ctx.env, ctx.scn
    strategy = scn.sellers.strategy
    inv, costs = parts.inventory, parts.costs
    # Started in this order, which orders their events at equal times: do not reorder.
    env.process(
        arrivals(
            env,
            ArrivalRate(scn, ctx.calendar),
            ctx.sampler(_EXP1, "buyers.arrivals.gap"),
            ctx.uniform("buyers.arrivals.thin"),
            scn.horizon_hours,
            parts.placement.place,
        )
    )
    inv.start_shrinkage(ctx)
    parts.restocker.start()
    env.process(costs.walk())
    env.process(costs.supplier_rises())
    env.process(costs.typos())
    reprice_h = strategy.repricing_interval_days * 24.0
    # Each seller re-prices (and counts stock) at its own phase, then every interval.
    reprice_at = (parts.reprice_phase * reprice_h).tolist()
    env.process(rounds(env, reprice_at, reprice_h, costs.reprice))
    if strategy.sync_interval_days is not None:
        sync_h = strategy.sync_interval_days * 24.0
        env.process(rounds(env, (parts.count_phase * sync_h).tolist(), sync_h, parts.restocker.count))
    interval_h = scn.platform.penalties.review_interval_days * 24.0
    env.process(seller_review(env, parts.standing, parts.book, interval_h))
    env.process(_daily(ctx, parts))
    # Last, so that the processes above keep their order at equal times.
    pay, pf, stages = scn.payment, scn.platform, parts.stages
    start_staffing(
        env,
        scn.start,
        scn.scale,
        [
            ("payment.gateway.staffing", stages.gateway.stations, pay.gateway.staffing, pay.gateway.servers),
            ("platform.fraud.staffing", stages.referee.analysts, pf.fraud.staffing, pf.fraud.analysts),
            (
                "platform.customer_service.staffing",
                parts.disputes.agents,
                pf.customer_service.staffing,
                pf.customer_service.agents,
            ),
        ],
    )
    end = scn.kpi_window_hours[1]
    if end < scn.horizon_hours:
        env.process(_close_queues(env, end, list(ctx.rec.queues.values())))


def _close_queues(env: simpy.Environment, end: float, monitors: list[QueueMonitor]) -> Proc[None]:
    """Process: end the queues' statistics with the KPI window, at hour ``end``: they describe
    the hours whose orders the KPIs count, not the cool-down's draining system."""
    yield env.timeout(end)
    for monitor in monitors:
        monitor.close(end)


def _daily(ctx: RunContext, parts: Parts) -> Proc[None]:
    """Process: end-of-day snapshots; the last one is taken by :meth:`World.run` at the horizon,
    since SimPy stops before processing events scheduled at exactly ``until``."""
    day = 0
    while True:
        yield ctx.env.timeout(24.0)
        day += 1
        snapshot(ctx, parts, day)


def snapshot(ctx: RunContext, parts: Parts, day: int) -> None:
    """Stock accuracy, queue lengths, sellers suspended, buyers churned and the exchange rate at
    the end of ``day``."""
    queues = ctx.rec.queues
    accuracy, weighted = parts.inventory.accuracy(ctx.env.now)
    ctx.rec.snapshot(
        day=day,
        inventory_accuracy=accuracy,
        inventory_accuracy_weighted=weighted,
        **{f"{name}_queue": queues[name].queue_len for name in QUEUES},
        sellers_suspended=parts.standing.suspended_count,
        buyers_churned=parts.trust.churned_count,
        fx_rate=parts.costs.rate,
    )


class World:
    """One simulation run of a scenario: built here, run once by :meth:`run`.

    Args:
        scn: The validated scenario, at its scale-1 values: the world runs it at ``scn.scale``
            (:func:`simcore.scenario.scale.at_scale`).
        seed: Root seed; ``scn.seed`` when None.
        replication: Replication number (replications of every strategy share streams).

    Attributes:
        streams: The run's named random streams (which names the build took).
    """

    def __init__(self, scn: Scenario, seed: int | None = None, replication: int = 0):
        self.scn = scn
        self.seed = scn.seed if seed is None else int(seed)
        self.replication = replication
        ctx = RunContext.fresh(at_scale(scn), self.seed, replication)
        self.streams = ctx.streams
        parts = build(ctx)
        start(ctx, parts)
        self._running: tuple[RunContext, Parts] | None = (ctx, parts)

    def run(self, progress: Callable[[float], None] | None = None) -> RunRecord:
        """Advance the clock to the horizon, calling ``progress(days_done)`` once per day, and
        return what the run leaves. Cyclic garbage collection is relaxed while the clock runs
        (:func:`simcore.engine.tuning.relaxed_gc`; the caller's settings are restored after).

        Raises:
            RuntimeError: the world has run already (a world runs once).
        """
        if self._running is None:
            raise RuntimeError("this world has run already; build a new World to run again")
        ctx, parts = self._running
        env, horizon = ctx.env, self.scn.horizon_hours
        with relaxed_gc():
            if progress is None:
                env.run(until=horizon)
            else:
                day = 0
                while day * 24.0 < horizon:
                    day += 1
                    env.run(until=min(day * 24.0, horizon))
                    progress(min(day, self.scn.horizon_days))
        # Parcels due before the horizon, which the clock has not reached for them.
        parts.parcels.settle(horizon, before=True)
        days_done = len(ctx.rec.daily.get("day", []))
        if days_done < int(np.ceil(self.scn.horizon_days)):
            snapshot(ctx, parts, days_done + 1)
        record = RunRecord(
            scenario=self.scn,
            seed=self.seed,
            replication=self.replication,
            rec=ctx.rec,
            calendar=ctx.calendar,
            traits=parts.traits,
            seller_accuracy=parts.inventory.seller_accuracy,
            standing=parts.standing,
            churned_at=as_numpy(parts.trust.churned_at),
            stock_counts=np.frombuffer(parts.inventory.counts, dtype=np.int64).copy(),
        )
        # Keep only what collection reads. The environment with the processes and orders still
        # in flight, the desks, and the stock and buyer tables go: a 30-day run ends with most
        # of its orders in flight, and at a million orders this is a third of the run's memory,
        # which the frames need next (benchmarks/bench_run.py).
        self._running = None
        del ctx, parts, env
        # Waiting processes and their events refer to each other: only the collector frees them.
        gc.collect()
        return record
