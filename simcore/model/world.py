"""Wiring one run: build the world, run the clock, hand the recorder over for collection.

The run has explicit steps: :meth:`Model.__init__` builds (streams, population, catalogs,
resources, processes) -> :meth:`Model.run` advances the clock -> :func:`simcore.results.collect.collect`
turns the recorder into frames and KPIs.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import simpy

from simcore.engine.tuning import hold_mmap_threshold
from simcore.model.placement import LISTING_TRIES, N_CHOICES, OrderDesk, Population, arrivals, cancel_request
from simcore.engine.calendar import ArrivalRate, Calendar
from simcore.engine.clock import rounds
from simcore.model.disputes import N_DRAWS, DisputeDesk
from simcore.scenario.distributions import Exponential, Sampler, block_sampler, row_sampler
from simcore.model.vocabulary import Order, State
from simcore.model.gateway import Gateway, draws_per_order
from simcore.model.inventory import Fx, Inventory, Restocker, fx_walk, reprice, stock_count
from simcore.model.orderbook import OrderBook
from simcore.model.parcels import Parcels
from simcore.model.recorder import Recorder
from simcore.model.referee import Referee
from simcore.model.refunds import RefundDesk
from simcore.scenario.schema import Scenario
from simcore.model.sellers import SellerDesk
from simcore.model.standing import SellerStanding, seller_review
from simcore.engine.station import Station
from simcore.engine.streams import Streams
from simcore.model.trust import BuyerTrust

_EXP1 = Exponential(dist="exponential", mean=1.0)


@contextmanager
def _relaxed_gc() -> Iterator[None]:
    """Run with rare cyclic garbage collections, restoring the caller's settings after.

    A run keeps tens of thousands of suspended generators alive; the default thresholds make
    Python rescan them over and over and cost ~35% of the run time at 140k orders, while the
    model creates almost no reference cycles (benchmarks/bench_run.py).
    """
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)


class Model:
    """One simulation run of a scenario.

    Args:
        scn: The validated scenario.
        seed: Root seed; ``scn.seed`` when None.
        replication: Replication number (replications of every strategy share streams).
    """

    def __init__(self, scn: Scenario, seed: int | None = None, replication: int = 0):
        hold_mmap_threshold()  # before the world's large temporaries (simcore.engine.tuning)
        self.scn = scn
        self.seed = scn.seed if seed is None else int(seed)
        self.replication = replication
        st = Streams(self.seed, replication)
        self.env = env = simpy.Environment()
        self.calendar = Calendar(scn.start)
        self.rec = rec = Recorder(warmup_hours=scn.warmup_days * 24.0)
        b, s, p, pf = scn.buyers, scn.sellers, scn.payment, scn.platform
        dests = list(scn.shipping.destinations.values())
        self.destination_names = list(scn.shipping.destinations)

        def smp(spec, name: str) -> Sampler:
            return spec.sampler(st.generator(name))

        # ---- world state
        self.inv = inv = Inventory(
            s,
            st.generator("inventory.build"),
            st.generator("inventory.prices"),
            b.item_price_usd,
            pf.prohibited.listing_share,
            st.generator("sellers.record_accuracy"),
        )
        self.fx = fx = Fx(s.count)
        pop = Population(scn, st.generator("buyers.population"))
        traits = st.generator("sellers.traits")
        blocked = (traits.random((s.count, len(dests))) < scn.shipping.blocked_route_share).tolist()
        dishonest = (traits.random(s.count) < s.dishonest_share).tolist()
        # Sellers differ: some are slow, a few unreliable (they neglect orders).
        unreliable = traits.random(s.count) < s.unreliable_share
        self.dishonest, self.unreliable = dishonest, unreliable.tolist()
        neglect_p = (s.neglect_share + np.where(unreliable, s.unreliable_neglect_share, 0.0)).tolist()
        sigma = np.sqrt(np.log1p(s.handling_speed_sd**2))
        speed = traits.lognormal(-(sigma**2) / 2.0, sigma, s.count).tolist()

        # ---- desks (behaviour + their named streams)
        restocker = Restocker(env, inv, s, smp(s.strategy.restock_lead_time, "inventory.restock_lead_time"))
        refunds = RefundDesk(
            env,
            scn.refunds,
            self.calendar,
            rec,
            scn.refunds.card_delay_bdays.sampler(st.generator("refunds.card_bdays"), unit="days"),
            smp(scn.refunds.wallet_delay, "refunds.wallet_delay"),
            st.uniform("refunds.decisions"),
            scn.refunds.card_delay_bdays.sampler(st.generator("disputes.award_card_bdays"), unit="days"),
            smp(scn.refunds.wallet_delay, "disputes.award_wallet_delay"),
            st.uniform("disputes.award_decisions"),
        )
        # Queues are reported in the order they are created: the order's path through them.
        gateway = Station(env, rec.queue("gateway", p.gateway.servers))
        analysts = Station(env, rec.queue("fraud_review", pf.fraud.analysts))
        self.trust = trust = BuyerTrust(b.trust, b.population)
        self.standing = standing = SellerStanding(pf.seller_rating, pf.penalties, s.count)
        confirm = smp(b.confirm_time, "buyers.confirm_time")
        self.parcels = parcels = Parcels(rec, confirm, trust, standing)
        cs = pf.customer_service
        self.agents = agents = Station(env, rec.queue("customer_service", cs.agents))
        disputes = DisputeDesk(
            env,
            scn,
            self.calendar,
            rec,
            refunds,
            trust,
            standing,
            parcels,
            agents,
            dishonest,
            smp(cs.review_time, "disputes.review_time"),
            smp(cs.intervention_time, "disputes.intervention_time"),
            smp(pf.disputes.open_delay, "disputes.open_delay"),
            smp(pf.disputes.intervention_delay, "disputes.intervention_delay"),
        )
        self.book = book = OrderBook(env, rec, inv, restocker, refunds, trust, standing, parcels, disputes)
        self.gateway = gateway = Gateway(
            env,
            p,
            b,
            book,
            gateway,
            smp(p.gateway.service_time, "gateway.service_time"),
            smp(b.retry_delay, "buyers.retry_delay"),
            smp(b.verification_time, "buyers.verification_time"),
        )
        self.referee = referee = Referee(
            env,
            pf,
            book,
            inv,
            analysts,
            smp(pf.fraud.review_time, "referee.review_time"),
            smp(pf.address_conflict.fix_time, "buyers.address_fix_time"),
        )
        value_rng = st.generator("shipping.quotes")
        sellers = SellerDesk(
            env,
            scn,
            book,
            inv,
            restocker,
            fx,
            blocked,
            dishonest,
            speed,
            smp(s.first_look_time, "sellers.first_look_time"),
            smp(s.handling_time, "sellers.handling_time"),
            [block_sampler(lambda n, d=d: d.shipping_cost_usd.draw(value_rng, n)) for d in dests],
            [
                smp(d.transit_time, f"shipping.transit.{name}")
                for name, d in scn.shipping.destinations.items()
            ],
            confirm,
            parcels,
            disputes,
        )
        req_time = smp(b.cancel.request_time, "buyers.cancel_request_time")
        resp_time = smp(s.cancel_response_time, "sellers.cancel_response_time")
        approve = st.uniform("sellers.cancel_approval")
        auto_h = pf.cancel_auto_approve_hours

        def lifecycle(o: Order):
            """One order from payment to its end (see the module docs of each desk)."""
            if o.cancel_reason is not None:
                env.process(
                    cancel_request(
                        env, o, book, req_time(), resp_time(), approve() < s.cancel_approval_share, auto_h
                    )
                )
            ok = yield from gateway.pay(o)
            if o.closed:
                return
            if not ok:
                book.cancel(o, "payment_failed")
                return
            if gateway.needs_verification(o) and not (yield from gateway.verify(o)):
                return
            o.paid = True
            o.pay_draws = None  # payment is over: free what the order carries for it
            book.step(o, State.SCREENING, "paid", "gateway", "paid_at")
            reason = yield from referee.screen(o)
            o.screen_draws = None
            if o.closed:
                return
            if reason is not None:
                book.cancel(o, reason)
                return
            book.clear(o)
            yield from sellers.fulfil(o)

        popularity_cdf = inv.popularity_cdf
        sku_rng = st.generator("orders.sku")
        items_rng = st.generator("orders.extra_items")
        self.desk = OrderDesk(
            env,
            scn,
            rec,
            pop,
            inv,
            row_sampler(
                lambda n: np.minimum(np.searchsorted(popularity_cdf, sku_rng.random(n)), inv.n_skus - 1),
                LISTING_TRIES,
            ),
            row_sampler(st.generator("orders.choices").random, N_CHOICES),
            block_sampler(lambda n: items_rng.poisson(b.extra_items_mean, n)),
            neglect_p,
            block_sampler(st.generator("orders.risk_noise").standard_normal),
            row_sampler(st.generator("orders.payment").random, draws_per_order(p)),
            row_sampler(st.generator("orders.aftermath").random, N_DRAWS),
            book,
            trust,
            standing,
            parcels,
            lifecycle,
        )

        # ---- background processes
        rate = ArrivalRate(scn, self.calendar)
        env.process(
            arrivals(
                env,
                rate,
                _EXP1.sampler(st.generator("buyers.arrivals.gap")),
                st.uniform("buyers.arrivals.thin"),
                scn.horizon_hours,
                self.desk,
            )
        )
        inv.start_shrinkage(
            s.shrinkage_per_sku_day,
            _EXP1.sampler(st.generator("inventory.shrinkage.gap")),
            st.uniform("inventory.shrinkage.pick"),
        )
        env.process(
            fx_walk(
                env, fx, s.pricing.fx_daily_volatility, block_sampler(st.generator("fx.walk").standard_normal)
            )
        )
        phases = st.generator("sellers.phases")
        reprice_h = s.strategy.repricing_interval_days * 24.0
        sync_h = None if s.strategy.sync_interval_days is None else s.strategy.sync_interval_days * 24.0
        reprice_phase = phases.random(s.count) * reprice_h
        sync_phase = phases.random(s.count) * (sync_h or 1.0)
        # Each seller re-prices (and counts stock) at its own phase, then every interval.
        env.process(rounds(env, reprice_phase.tolist(), reprice_h, lambda seller: reprice(fx, inv, seller)))
        if sync_h is not None:
            env.process(
                rounds(env, sync_phase.tolist(), sync_h, lambda seller: stock_count(inv, seller, env.now))
            )
        env.process(seller_review(env, standing, book, pf.penalties.review_interval_days * 24.0))
        env.process(self._daily())

    def _daily(self):
        """End-of-day snapshots; the last one is taken by :meth:`run` at the horizon, since
        SimPy stops before processing events scheduled at exactly ``until``."""
        day = 0
        while True:
            yield self.env.timeout(24.0)
            day += 1
            self._snapshot(day)

    def _snapshot(self, day: int) -> None:
        """Stock accuracy, queue lengths and the exchange rate at the end of ``day``."""
        self.rec.snapshot(
            day=day,
            inventory_accuracy=self.inv.accuracy(self.env.now),
            gateway_queue=len(self.gateway.station.queue),
            fraud_review_queue=len(self.referee.analysts.queue),
            customer_service_queue=len(self.agents.queue),
            sellers_suspended=self.standing.suspended_count,
            buyers_churned=int(np.count_nonzero(~np.isnan(np.frombuffer(self.trust.churned_at)))),
            fx_rate=self.fx.rate,
        )

    def run(self, progress: Callable[[float], None] | None = None) -> None:
        """Advance the clock to the horizon, calling ``progress(days_done)`` once per day, then
        finish (:meth:`_finish`). A model runs once.

        Raises:
            RuntimeError: the model has run already.
        """
        if self.env is None:
            raise RuntimeError("this model has run already; build a new Model to run again")
        horizon = self.scn.horizon_hours
        with _relaxed_gc():
            if progress is None:
                self.env.run(until=horizon)
            else:
                day = 0
                while day * 24.0 < horizon:
                    day += 1
                    self.env.run(until=min(day * 24.0, horizon))
                    progress(min(day, self.scn.horizon_days))
        # Parcels due before the horizon, which the clock has not reached for them.
        self.parcels.settle(horizon, before=True)
        days_done = len(self.rec.daily.get("day", []))
        if days_done < int(np.ceil(self.scn.horizon_days)):
            self._snapshot(days_done + 1)
        self._finish()

    def _finish(self) -> None:
        """Let go of what only the running clock needed: the environment with the processes
        and orders still in flight, the desks, and the stock and buyer tables. A 30-day run
        ends with most of its orders in flight, and at a million orders this is a third of
        the run's memory, which the frames need next (benchmarks/bench_run.py). Collection
        reads the recorder, the calendar, standing, trust and the sellers' traits, all kept."""
        self.seller_accuracy = self.inv.seller_accuracy
        for name in ("env", "inv", "fx", "gateway", "referee", "desk", "book", "agents", "parcels"):
            setattr(self, name, None)
        # Waiting processes and their events refer to each other: only the collector frees them.
        gc.collect()
