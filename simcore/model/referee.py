"""The platform referee: prohibited-item checks, fraud screening with a manual review queue,
address conflicts, and the ship-by deadline rule (applied in the seller flow)."""

from __future__ import annotations

import math

import simpy

from simcore.scenario.distributions import Sampler
from simcore.model.vocabulary import ACTIVITY, ACTOR, Order
from simcore.model.inventory import Inventory
from simcore.model.orderbook import OrderBook
from simcore.scenario.schema import Platform
from simcore.engine.station import Station


class Referee:
    """Screens paid orders before the seller may ship them.

    The risk score is ``sigmoid(z)`` with ``z = intercept + weights of the signals present +
    fraud_signal * is_fraud + noise_sd * N(0, 1)``. Signals: an unusually large order, a device
    with ``velocity_limit`` or more orders in ``velocity_window_hours``, an unverified account,
    a stolen card. Scores at or above ``decline_threshold`` are cancelled, those at or above
    ``review_threshold`` wait for an analyst (a :class:`Station`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        cfg: Platform,
        book: OrderBook,
        inv: Inventory,
        analysts: Station,
        review_time: Sampler,
        fix_time: Sampler,
    ):
        self.env = env
        self.cfg = cfg
        self.book = book
        self.rec = book.rec
        self.inv = inv
        self.analysts = analysts
        self.review_time = review_time
        self.fix_time = fix_time

    def risk_score(self, o: Order) -> float:
        f = self.cfg.fraud
        z = f.intercept + f.noise_sd * o.screen_draws[3]
        if o.amount > f.large_order_usd:
            z += f.weight_large_order
        if o.velocity_flag:
            z += f.weight_velocity
        if not o.verified:
            z += f.weight_unverified
        if o.stolen_card:
            z += f.weight_stolen_card
        if o.is_fraud:
            z += f.fraud_signal
        return 1.0 / (1.0 + math.exp(-z))

    def screen(self, o: Order):
        """Process: returns None when the order passes, else the system cancel reason."""
        env, rec, cfg = self.env, self.rec, self.cfg
        u_prohibited, u_review, u_fix, _ = o.screen_draws
        if self.inv.prohibited[o.sku] and u_prohibited < cfg.prohibited.detection_rate:
            self.inv.delisted[o.sku] = True
            return "prohibited_item"
        score = self.risk_score(o)
        rec.set("risk_score", o.id, score)
        f = cfg.fraud
        if score >= f.decline_threshold:
            return "fraud_suspected"
        if score >= f.review_threshold:
            rec.event(env.now, o.id, ACTIVITY["fraud_review_started"], ACTOR["platform"])
            review = self.review_time()
            turn = self.analysts.request()
            if turn is not None:
                yield turn
            yield env.timeout(review)
            self.analysts.release()
            reject = f.review_sensitivity if o.is_fraud else f.review_false_positive_rate
            if u_review < reject:
                return "fraud_suspected"
            if o.closed:  # the buyer's cancellation was approved during the review
                return None
            rec.event(env.now, o.id, ACTIVITY["fraud_review_passed"], ACTOR["platform"])
        if o.address_conflict:
            a = cfg.address_conflict
            rec.event(env.now, o.id, ACTIVITY["address_flagged"], ACTOR["platform"])
            fixes = u_fix < a.fix_share
            took = self.fix_time()
            if not fixes or took > a.fix_window_hours:
                yield env.timeout(a.fix_window_hours)
                return "address_conflict"
            yield env.timeout(took)
            if o.closed:
                return None
            rec.event(env.now, o.id, ACTIVITY["address_fixed"], ACTOR["buyer"])
        return None
