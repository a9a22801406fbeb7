"""Disputes: what makes a buyer open one, and its three stages.

1. **Initial review**: an agent (``platform.customer_service.agents``, a :class:`Station`) looks at
   the case. Refund disputes (late or short cancellation refunds) involve no seller and are
   decided here: the pending refund is paid at once and any shortfall made up, or, if the
   refund has landed in full meanwhile, the claim is rejected.
2. **Negotiation** (at most ``negotiation_days``): the seller accepts the claim, or (goods
   disputes) offers a partial refund the buyer may take; otherwise the buyer escalates when
   the window closes.
3. **Platform intervention**: evidence gathering (``intervention_delay``), then an agent's
   decision from the claim's merit, the evidence quality and the seller's ruling record.

A claim is *founded* when the buyer is right: the seller's stated cancel reason hid the real
one, the parcel has still not arrived, the item really was not as described, the refund is
still pending or short. Outcomes are ``full_refund``, ``partial_refund`` or ``rejected``;
awards are paid through :class:`simcore.model.refunds.RefundDesk`. A dispute resolves at most once.
"""

from __future__ import annotations

import math

import simpy

from simcore.engine.calendar import Calendar
from simcore.scenario.distributions import Sampler
from simcore.model.vocabulary import (
    ACTIVITY,
    ACTOR,
    DISPUTE_OUTCOME,
    DISPUTE_REASON,
    DISPUTE_STAGES,
    INITIATOR_OF_REASON,
    REASON,
    REFUND_DISPUTE_REASONS,
    Order,
    State,
)
from simcore.model.parcels import Parcels
from simcore.model.recorder import Recorder
from simcore.model.refunds import RefundDesk
from simcore.scenario.schema import Scenario
from simcore.model.standing import SellerStanding
from simcore.engine.station import Station
from simcore.model.trust import BuyerTrust

# Indices into ``Order.after_draws``: uniforms drawn for every arrival at placement, so that
# the same arrival meets the same luck in what follows under every strategy.
# Each number makes one decision only, so that decisions stay independent.
LOST, NOT_DELIVERED, NOT_AS_DESCRIBED, CANCEL_DISPUTE, LATE_DISPUTE, SHORT_DISPUTE = range(6)
EVIDENCE, MERIT, ACCEPT, AGREE_AT, PARTIAL_OFFER, PARTIAL_ACCEPT, PARTIAL_SHARE, RULING = range(6, 14)
CHURN_CANCEL, CHURN_LATE, CHURN_SHORT, CHURN_DISPUTE, TRUST_BUY, AVOID = range(14, 20)
N_DRAWS = 20

_GOODS = frozenset({"not_delivered", "not_as_described"})
_REFUND = frozenset(REFUND_DISPUTE_REASONS)
_STAGE = {name: i for i, name in enumerate(DISPUTE_STAGES)}
_FULL, _PARTIAL, _REJECTED = (DISPUTE_OUTCOME[k] for k in ("full_refund", "partial_refund", "rejected"))


class DisputeDesk:
    """Opens disputes after trouble and runs them through their stages.

    Args:
        env: The environment.
        scn: The scenario (``platform.disputes``, ``platform.customer_service``, ``buyers.trust``).
        calendar: Business-day clock (refund patience).
        rec: The recorder.
        refunds: Pays awards and expedites pending refunds.
        trust: Buyer trust (hit by lost disputes and refund trouble).
        standing: Seller standing (hit by disputes the seller loses).
        parcels: Untroubled parcels (settled before trust falls).
        agents: The customer-service agents.
        dishonest: Per-seller flag: accepts claims less often.
        review_time, intervention_time, open_delay, intervention_delay: Duration samplers (hours).
    """

    def __init__(
        self,
        env: simpy.Environment,
        scn: Scenario,
        calendar: Calendar,
        rec: Recorder,
        refunds: RefundDesk,
        trust: BuyerTrust,
        standing: SellerStanding,
        parcels: Parcels,
        agents: Station,
        dishonest: list[bool],
        review_time: Sampler,
        intervention_time: Sampler,
        open_delay: Sampler,
        intervention_delay: Sampler,
    ):
        self.env = env
        self.cfg = scn.platform.disputes
        self.trust_cfg = scn.buyers.trust
        self.calendar = calendar
        self.rec = rec
        self.refunds = refunds
        self.trust = trust
        self.standing = standing
        self.parcels = parcels
        self.agents = agents
        self.dishonest = dishonest
        self.review_time = review_time
        self.intervention_time = intervention_time
        self.open_delay = open_delay
        self.intervention_delay = intervention_delay

    # ------------------------------------------------------------------ triggers

    def _lose_trust(self, o: Order, loss: float, u: float) -> None:
        """The buyer of ``o`` loses ``loss`` trust now (``u``: the churn draw). Parcels due by
        now are settled first: a confirmation that came earlier raised the trust first."""
        now = self.env.now
        self.parcels.settle(now)
        self.trust.hit(o.buyer, loss, u, now)

    def after_cancel(self, o: Order, reason: str, refund: tuple[float, float] | None) -> None:
        """React to the cancellation of ``o`` (``refund`` = (due hour, amount) if one was
        scheduled): trust falls for a paid order the buyer did not cancel, a suspicious seller
        cancellation may be disputed, a late or short refund is watched for."""
        if refund is None:
            return
        d, cfg, env = o.after_draws, self.cfg, self.env
        initiator = INITIATOR_OF_REASON[reason]
        if initiator != "buyer":
            self._lose_trust(o, self.trust_cfg.cancellation_loss, d[CHURN_CANCEL])
        if initiator == "seller":
            disguised = self.rec.orders["true_reason"][o.id] != REASON[reason]
            p = cfg.propensity.disguised_cancellation if disguised else cfg.propensity.seller_cancellation
            if d[CANCEL_DISPUTE] < p:
                env.process(self.open_later(o, "suspicious_cancellation", self.open_delay()))
        due, amount = refund
        patience = self.calendar.add_business_days(env.now, self.trust_cfg.refund_patience_bdays)
        if due > patience or amount < o.amount:
            env.process(self._watch_refund(o, due, amount, patience))

    def _watch_refund(self, o: Order, due: float, amount: float, patience: float):
        """Process: the buyer notices a refund that is late (at the patience) or short (when it
        lands), loses trust and may dispute it."""
        env, d, prop, tcfg = self.env, o.after_draws, self.cfg.propensity, self.trust_cfg
        if due > patience:
            yield env.timeout(patience - env.now)
            if o.refund_due is not None:
                self._lose_trust(o, tcfg.refund_late_loss, d[CHURN_LATE])
                # The patience itself is the buyer's delay: the dispute opens at once.
                if not o.disputed and d[LATE_DISPUTE] < prop.refund_late:
                    env.process(self.open_later(o, "refund_late", 0.0))
                    return
        if amount < o.amount:
            if o.refund_due is not None:
                yield env.timeout(max(o.refund_due - env.now, 0.0))
            if o.disputed:  # a dispute already covers the order (and would make up the shortfall)
                return
            self._lose_trust(o, tcfg.refund_wrong_loss, d[CHURN_SHORT])
            if d[SHORT_DISPUTE] < prop.refund_wrong_amount:
                env.process(self.open_later(o, "refund_wrong_amount", self.open_delay()))

    # ------------------------------------------------------------------ the dispute

    def open_later(self, o: Order, reason: str, delay_h: float):
        """Process: open a dispute of ``o`` for ``reason`` after ``delay_h`` hours and run it to
        its end (a no-op if the order already has a dispute)."""
        if delay_h > 0.0:
            yield self.env.timeout(delay_h)
        if o.disputed:
            return
        yield from self._run(o, reason)

    def _founded(self, o: Order, reason: str) -> bool:
        """Whether the buyer is right, as it stands now."""
        if reason == "suspicious_cancellation":
            cols = self.rec.orders
            return cols["true_reason"][o.id] != cols["cancel_reason"][o.id]
        if reason == "not_delivered":
            return o.state < State.DELIVERED
        if reason == "not_as_described":
            return o.after_draws[MERIT] < self.cfg.not_as_described_merit
        return o.refund_due is not None or self._shortfall(o) > 0.0  # refund disputes

    def _shortfall(self, o: Order) -> float:
        """USD a cancellation refund leaves unpaid (0 when none was scheduled)."""
        refunded = self.rec.orders["refund_amount"][o.id]
        return 0.0 if math.isnan(refunded) else round(o.amount - refunded, 2)

    def _run(self, o: Order, reason: str):
        env, rec, cfg, oid, d = self.env, self.rec, self.cfg, o.id, o.after_draws
        o.disputed = True
        goods = reason in _GOODS
        claim = o.amount if goods else (o.amount if o.refund_due is not None else self._shortfall(o))
        rec.set("dispute_reason", oid, DISPUTE_REASON[reason])
        rec.set("dispute_opened_at", oid, env.now)
        rec.set("dispute_claim_amount", oid, claim)
        rec.event(env.now, oid, ACTIVITY["dispute_opened"], ACTOR["buyer"])

        # 1. Initial review.
        yield from self.agents.serve(
            self.review_time(),
            lambda: rec.event(env.now, oid, ACTIVITY["dispute_review_started"], ACTOR["platform"]),
        )
        rec.event(env.now, oid, ACTIVITY["dispute_reviewed"], ACTOR["platform"])
        if reason in _REFUND:
            outcome = _FULL if self._founded(o, reason) else _REJECTED
            rec.event(env.now, oid, ACTIVITY["dispute_ruled"], ACTOR["platform"])
            self._resolve(o, reason, outcome, "review", claim)
            return

        # 2. Negotiation: the seller answers within the window, or the buyer escalates at its end.
        window = cfg.negotiation_days * 24.0
        yield env.timeout(d[AGREE_AT] * window)
        founded = self._founded(o, reason)
        accept = cfg.seller_accepts_founded if founded else cfg.seller_accepts_unfounded
        if self.dishonest[o.seller]:
            accept *= cfg.dishonest_accept_factor
        if d[ACCEPT] < accept:
            rec.event(env.now, oid, ACTIVITY["dispute_agreed"], ACTOR["seller"])
            self._resolve(o, reason, _FULL, "negotiation", claim)
            return
        if (
            goods
            and d[PARTIAL_OFFER] < cfg.partial_offer_share
            and d[PARTIAL_ACCEPT] < cfg.partial_accept_share
        ):
            rec.event(env.now, oid, ACTIVITY["dispute_agreed"], ACTOR["seller"])
            self._resolve(o, reason, _PARTIAL, "negotiation", claim)
            return
        yield env.timeout((1.0 - d[AGREE_AT]) * window)
        rec.set("dispute_escalated_at", oid, env.now)
        rec.event(env.now, oid, ACTIVITY["dispute_escalated"], ACTOR["buyer"])

        # 3. Platform intervention: evidence gathering, then an agent decides.
        yield env.timeout(self.intervention_delay())
        yield from self.agents.serve(self.intervention_time())
        r = cfg.ruling
        p_win = (
            (r.merit_win if self._founded(o, reason) else r.no_merit_win)
            + r.evidence_weight * (d[EVIDENCE] - 0.5)
            + r.history_weight * self.standing.ruling_share(o.seller)
        )
        if d[RULING] >= p_win:
            outcome = _REJECTED
        elif goods and d[EVIDENCE] < r.partial_below:
            outcome = _PARTIAL
        else:
            outcome = _FULL
        rec.event(env.now, oid, ACTIVITY["dispute_ruled"], ACTOR["platform"])
        self._resolve(o, reason, outcome, "intervention", claim)

    def _resolve(self, o: Order, reason: str, outcome: int, stage: str, claim: float) -> None:
        """Record the outcome and pay the award (the only place a dispute ends)."""
        env, rec, oid = self.env, self.rec, o.id
        if o.dispute_outcome:
            raise RuntimeError(f"order {oid}: dispute resolved twice")
        o.dispute_outcome = outcome
        rec.set("dispute_outcome", oid, outcome)
        rec.set("dispute_stage", oid, _STAGE[stage])
        rec.set("dispute_resolved_at", oid, env.now)
        if outcome == _REJECTED:
            self._lose_trust(o, self.trust_cfg.dispute_lost_loss, o.after_draws[CHURN_DISPUTE])
            return
        if reason in _GOODS:
            award = claim
            if outcome == _PARTIAL:
                share = self.cfg.partial_refund_share + 0.4 * (o.after_draws[PARTIAL_SHARE] - 0.5)
                # Strictly part of the claim, even after rounding to cents.
                award = min(max(round(claim * share, 2), 0.01), round(claim - 0.01, 2))
        else:
            # A cancelled order: the pending refund is paid now and any shortfall made up.
            self.refunds.expedite(o)
            award = self._shortfall(o)
        if award > 0.0:
            env.process(self.refunds.pay_dispute(o, award))
        if reason not in _REFUND:
            self.standing.dispute_lost(o.seller, env.now, ruled=stage == "intervention")
