"""The platform referee: prohibited-item checks, fraud screening with a manual review queue,
address conflicts, and the ship-by deadline rule (applied in the seller flow)."""

from __future__ import annotations

import math
from typing import NamedTuple

from simcore.engine.proc import Proc, Unwatched
from simcore.engine.station import Station, teams
from simcore.errors import ScenarioError
from simcore.model import draws
from simcore.model.context import RunContext
from simcore.model.inventory import Inventory
from simcore.model.order import Order
from simcore.model.vocabulary import ACTIVITY, ACTOR, SIGNALS
from simcore.policies.fraud import DECISIONS, DECLINE, PASS, REVIEW, fraud_decision
from simcore.policies.review_queue import TIMEOUT_ANSWERS, review_queue
from simcore.scenario.scale import copies
from simcore.scenario.schema.platform import FraudScreening


class Referee:
    """Screens paid orders before the seller may ship them.

    The risk score is ``sigmoid(z)`` with ``z = intercept + weights of the signals present +
    noise_sd * N(0, 1)``, over what the platform observes of the order (its ``signals`` mask,
    set at placement: :data:`simcore.model.vocabulary.SIGNALS`): an unusually large order, a
    device with ``velocity_limit`` or more orders in ``velocity_window_hours``, an unverified
    account, a card the network has flagged stolen, a young account, a shipping address other
    than the billing one, a device new to the account. Whether the order is fraud is not among
    them. The fraud decision (``platform.fraud.decision``, a policy:
    :mod:`simcore.policies.fraud`) turns the score into decline (cancelled), review (the order
    waits for an analyst, a :class:`Station`) or pass; by default scores at or above
    ``decline_threshold`` are declined and those at or above ``review_threshold`` reviewed.
    Outcomes come from the order's ``screen_draws`` (:mod:`simcore.model.draws`), and so do the
    analyst's review time and the buyer's time to fix a conflicting address.

    Args:
        ctx: The run context (``platform``).
        inventory: Listings (prohibited ones are delisted when caught).
    """

    def __init__(self, ctx: RunContext, *, inventory: Inventory):
        pf = ctx.scn.platform
        self.env = ctx.env
        self.cfg = pf
        self.rec = ctx.rec
        self.risk_col = ctx.rec.orders["risk_score"]  # written for every order screened
        self.review_col = ctx.rec.orders["fraud_review_started_at"]
        self.inv = inventory
        # One team of analysts per copy of the market (simcore.scenario.scale), by the seller's.
        # The review queue's discipline (simcore.policies.review_queue): first come first
        # served by default, else a priority queue, perhaps with a time limit.
        rq = review_queue(pf.fraud)
        self.prioritised = pf.fraud.review_queue.kind != "fifo"
        self.analysts = teams(
            ctx.env,
            ctx.rec.queue("fraud_review", pf.fraud.analysts),
            copies(ctx.scn.scale),
            priority=self.prioritised,
        )
        self.queue_priority = rq.priority
        self.time_limit: float | None = getattr(rq, "time_limit_hours", None)
        self.on_timeout: str = getattr(rq, "on_timeout", PASS)
        self.queue_kind = pf.fraud.review_queue.label
        if self.time_limit is not None and not (
            isinstance(self.time_limit, int | float) and self.time_limit > 0
        ):
            raise ScenarioError(
                f"platform.fraud.review_queue: kind {self.queue_kind} has time_limit_hours "
                f"{self.time_limit!r}; it must be None or a number of hours > 0"
            )
        if self.on_timeout not in TIMEOUT_ANSWERS:
            raise ScenarioError(
                f"platform.fraud.review_queue: kind {self.queue_kind} has on_timeout "
                f"{self.on_timeout!r}; it must be one of {', '.join(TIMEOUT_ANSWERS)}"
            )
        # Read for every order screened: bound here rather than read off the scenario (a pydantic
        # model's attribute costs ~30 ns, a plain object's ~10).
        f = pf.fraud
        self.fraud = f
        self.intercept, self.noise_sd = f.intercept, f.noise_sd
        self.weights = signal_weights(f)
        # The decision is the policy's (simcore.policies.fraud); the referee carries it out.
        self.decide = fraud_decision(f).decide
        self.decision_kind = f.decision.label
        self.relist_h = None if pf.prohibited.relist_days is None else pf.prohibited.relist_days * 24.0
        if self.relist_h is not None:
            self._start_in_steady_state(ctx)

    def _start_in_steady_state(self, ctx: RunContext) -> None:
        """Take down, at the start, the prohibited listings that would be down in the steady
        state of catch and relist, each until a uniform share of ``relist_days`` (stream
        ``referee.prohibited_start``), so that the prohibited-item share holds from day 0.

        A listing of ``r`` orders a day is caught after an exponential time of mean
        ``1 / (r x detection_rate)`` days and stays down ``relist_days`` (``d``): it is down
        with probability ``d / (1 / (r x detection_rate) + d)``, and then for a uniform part
        of ``d`` (an alternating renewal process). Orders that never reach the check (unpaid,
        cancelled first) make the true time to a catch a little longer (an approximation).
        """
        pr = ctx.scn.platform.prohibited
        inv, d = self.inv, pr.relist_days
        assert d is not None
        rng = ctx.generator("referee.prohibited_start")
        skus = [i for i, flag in enumerate(inv.prohibited) if flag]
        u = rng.random(len(skus))
        orders_a_day = inv.demand_share[skus] * ctx.scn.buyers.orders_per_hour * 24.0
        caught = orders_a_day * pr.detection_rate  # catches a day while listed
        down = caught * d / (1.0 + caught * d)  # d / (1 / caught + d)
        for sku, ui, pi in zip(skus, u.tolist(), down.tolist(), strict=True):
            if ui < pi:
                self.inv.delist(sku)
                Unwatched(self.env, self._relist(sku, ui / pi * self.relist_h))

    def _relist(self, sku: int, after: float) -> Proc[None]:
        """Process: the seller lists prohibited ``sku`` again ``after`` hours from now."""
        yield self.env.timeout(after)
        self.inv.relist(sku)

    def risk_score(self, o: Order) -> float:
        """The order's risk score in (0, 1)."""
        z = self.intercept + self.weights[o.signals] + self.noise_sd * o.screen_draws[draws.SCORE_NOISE]
        return 1.0 / (1.0 + math.exp(-z))

    def _priority(self, score: float, hour: float) -> float:
        """The review queue's priority of an order scored ``score`` entering it at ``hour``."""
        try:
            return float(self.queue_priority(score, hour))
        except Exception as exc:  # a researcher's policy failing is bad input, not a crash of ours
            raise ScenarioError(
                f"platform.fraud.review_queue: kind {self.queue_kind} raised "
                f"{type(exc).__name__}: {exc} (score {score:.6g})"
            ) from None

    def screen(self, o: Order) -> str | Waits | None:
        """What screening ``o`` decides at once: a system cancel reason, None when the order
        passes, or :class:`Waits` when it must wait (for an analyst's review, or for the buyer
        to fix a conflicting address): then :meth:`wait` is the rest of the screening.

        Most orders are decided at once: this is a plain call, and only those that wait pay
        for a process (a generator and its ``yield from``, ~1% of a run when every order made
        one).
        """
        d = o.screen_draws
        if self.inv.prohibited[o.sku] and d[draws.PROHIBITED] < self.cfg.prohibited.detection_rate:
            if not self.inv.delisted[o.sku]:  # taken down once, however many orders it caught
                self.inv.delist(o.sku)
                if self.relist_h is not None:
                    Unwatched(self.env, self._relist(o.sku, self.relist_h))
            return "prohibited_item"
        score = self.risk_score(o)
        self.risk_col[o.id] = score
        team = self.analysts[self.inv.seller_copy[o.seller]]
        try:  # free in Python 3.11 unless it raises
            queue = team.waiting if self.prioritised else len(team.queue)  # type: ignore[attr-defined]
            decision = self.decide(score, queue, self.env.now, o.amount, o.verified)
        except Exception as exc:  # a researcher's policy failing is bad input, not a crash of ours
            raise ScenarioError(
                f"platform.fraud.decision: kind {self.decision_kind} raised "
                f"{type(exc).__name__}: {exc} (score {score:.6g})"
            ) from None
        if decision == DECLINE:
            return "fraud_suspected"
        if decision == REVIEW:
            return Waits(team, score)
        if decision != PASS:
            raise ScenarioError(
                f"platform.fraud.decision: kind {self.decision_kind} answered {decision!r} "
                f"(score {score:.6g}); a fraud decision answers one of {', '.join(DECISIONS)}"
            )
        if o.address_conflict:
            return Waits(None, score)
        return None

    def wait(self, o: Order, waits: Waits) -> Proc[str | None]:
        """Process: the rest of screening ``o`` that :meth:`screen` found must wait: the
        review, if any, then the address conflict, if any. Returns None when the order passes,
        else the system cancel reason."""
        env, rec, cfg = self.env, self.rec, self.cfg
        d = o.screen_draws
        team = waits.team
        if team is not None:
            now = env.now
            f = self.fraud
            rec.event(now, o.id, ACTIVITY["fraud_review_started"], ACTOR["platform"])
            self.review_col[o.id] = now
            review = d[draws.REVIEW_TIME]
            # A priority queue asks the discipline; first come, first served asks nothing.
            prio = self._priority(waits.score, now) if self.prioritised else None
            turn = team.request() if prio is None else team.request(prio)  # type: ignore[call-arg]
            expired = False
            if turn is not None:
                if self.time_limit is None:
                    yield turn
                else:
                    yield turn | env.timeout(self.time_limit)
                    if not turn.triggered:  # waited too long: out of the queue, unreviewed
                        team.withdraw(turn)  # type: ignore[attr-defined]
                        if o.closed:  # the buyer's cancellation was approved meanwhile
                            return None
                        rec.event(env.now, o.id, ACTIVITY["fraud_review_expired"], ACTOR["platform"])
                        if self.on_timeout == DECLINE:
                            return "fraud_suspected"
                        expired = True
            if not expired:
                yield env.timeout(review)
                team.release()
                reject = f.review_sensitivity if o.is_fraud else f.review_false_positive_rate
                if d[draws.REVIEW] < reject:
                    return "fraud_suspected"
                if o.closed:  # the buyer's cancellation was approved during the review
                    return None
                rec.event(env.now, o.id, ACTIVITY["fraud_review_passed"], ACTOR["platform"])
        if o.address_conflict:
            a = cfg.address_conflict
            rec.event(env.now, o.id, ACTIVITY["address_flagged"], ACTOR["platform"])
            fixes = d[draws.ADDRESS_FIX] < a.fix_share
            took = d[draws.FIX_TIME]
            if not fixes or took > a.fix_window_hours:
                yield env.timeout(a.fix_window_hours)
                return "address_conflict"
            yield env.timeout(took)
            if o.closed:
                return None
            rec.event(env.now, o.id, ACTIVITY["address_fixed"], ACTOR["buyer"])
        return None


class Waits(NamedTuple):
    """Screening that must wait (:meth:`Referee.screen`): for a review by ``team``'s analysts
    (the order scored ``score``), or, with ``team`` None, only for the buyer to fix the
    address."""

    team: Station | None
    score: float


def signal_weights(f: FraudScreening) -> list[float]:
    """The log-odds each mask of signals adds to the score (index: the mask, bit i for
    ``SIGNALS[i]``): the sum of the weights of the signals present, one list lookup an order."""
    weight = [getattr(f, f"weight_{name}") for name in SIGNALS]
    return [sum(w for i, w in enumerate(weight) if mask >> i & 1) for mask in range(1 << len(SIGNALS))]
