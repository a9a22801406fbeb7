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

Fraudsters open no disputes (an assumption: a dispute would put the account in front of an
agent, and a stolen card's refund would go to its holder, not to them).
"""

from __future__ import annotations

import math

from simcore.engine.proc import Proc, Unwatched
from simcore.engine.station import teams
from simcore.errors import ScenarioError
from simcore.model.context import RunContext
from simcore.model.draws import (
    ACCEPT,
    AGREE_AT,
    CANCEL_DISPUTE,
    CHURN_CANCEL,
    CHURN_DISPUTE,
    CHURN_LATE,
    CHURN_SHORT,
    DISPUTE_REVIEW_TIME,
    EVIDENCE,
    INTERVENTION_DELAY,
    INTERVENTION_TIME,
    LATE_DISPUTE,
    LATE_OPEN_DELAY,
    MERIT,
    OPEN_DELAY,
    PARTIAL_ACCEPT,
    PARTIAL_OFFER,
    PARTIAL_SHARE,
    RULING,
    SHORT_DISPUTE,
    SHORT_OPEN_DELAY,
)
from simcore.model.inventory import Inventory
from simcore.model.order import Order
from simcore.model.refunds import RefundDesk
from simcore.model.reputation import Reputation
from simcore.model.vocabulary import (
    ACTIVITY,
    ACTOR,
    DISPUTE_OUTCOME,
    DISPUTE_REASON,
    DISPUTE_STAGES,
    INITIATOR_OF_REASON,
    REASONS,
    REFUND_DISPUTE_REASONS,
    State,
)
from simcore.policies.compensation import compensation
from simcore.scenario.scale import copies

_GOODS = frozenset({"not_delivered", "not_as_described"})
_REFUND = frozenset(REFUND_DISPUTE_REASONS)
_STAGE = {name: i for i, name in enumerate(DISPUTE_STAGES)}
_FULL, _PARTIAL, _REJECTED = (DISPUTE_OUTCOME[k] for k in ("full_refund", "partial_refund", "rejected"))


class DisputeDesk:
    """Opens disputes after trouble and runs them through their stages.

    Every decision and every duration comes from the order's own draws (``Order.after_draws``,
    :mod:`simcore.model.draws`): the delay from trouble to dispute, the agents' review and
    decision times, the evidence gathering.

    Args:
        ctx: The run context (``platform.disputes``, ``platform.customer_service``,
            ``buyers.trust``).
        refunds: Pays awards and expedites pending refunds.
        reputation: Buyer trust (hit by lost disputes and refund trouble) and seller standing
            (hit by disputes the seller loses).
        inventory: The listings (whether one a seller said was out of stock still shows stock).
        dishonest: Per-seller flag: accepts claims less often.
    """

    def __init__(
        self,
        ctx: RunContext,
        *,
        refunds: RefundDesk,
        reputation: Reputation,
        inventory: Inventory,
        dishonest: list[bool],
        copy_of: list[int],
    ):
        scn = ctx.scn
        cs = scn.platform.customer_service
        self.env = ctx.env
        self.cfg = scn.platform.disputes
        self.trust_cfg = scn.buyers.trust
        self.patience_bdays = scn.refund_patience_bdays  # set, or the platform's promise
        self.calendar = ctx.calendar
        self.rec = ctx.rec
        self.refunds = refunds
        self.reputation = reputation
        self.inv = inventory
        self.dishonest = dishonest
        # One team of agents per copy of the market (simcore.scenario.scale), by the seller's.
        self.agents = teams(ctx.env, ctx.rec.queue("customer_service", cs.agents), copies(scn.scale))
        self.copy_of = copy_of
        # Compensation after a cancellation (simcore.policies.compensation): None when none.
        spec = scn.platform.compensation
        policy = compensation(spec)
        self.compensation = None if getattr(policy, "none", False) else policy.compensate
        self.compensation_kind = spec.label

    # ------------------------------------------------------------------ triggers

    def _lose_trust(self, o: Order, loss: float, u: float) -> None:
        """The buyer of ``o`` loses ``loss`` trust now (``u``: the churn draw)."""
        self.reputation.hit_buyer(o.buyer, loss, u, self.env.now)

    def after_cancel(self, o: Order, reason: str, refund: tuple[float, float] | None) -> None:
        """React to the cancellation of ``o`` for stated ``reason`` (``refund`` = (due hour,
        amount) if one was scheduled): trust falls for a paid order the buyer did not really
        want cancelled (a seller who asked the buyer to cancel let them down all the same), a
        seller cancellation may be disputed, the more likely when the listing said to be out of
        stock still shows stock (what a buyer can see of a cover story), a late or short refund
        is watched for."""
        if refund is None or o.is_fraud:  # a fraudster has no trust, and disputes nothing
            return
        d, cfg, env = o.after_draws, self.cfg, self.env
        true = REASONS[self.rec.orders["true_reason"][o.id]]
        if INITIATOR_OF_REASON[true] != "buyer":
            loss = self.trust_cfg.cancellation_loss
            # Compensation answers what the platform sees: a seller asking the buyer to cancel
            # lets the buyer down, but the platform sees the buyer's own cancellation.
            if self.compensation is not None and INITIATOR_OF_REASON[reason] != "buyer":
                loss = self._compensate(o, reason, loss)
            self._lose_trust(o, loss, d[CHURN_CANCEL])
        if INITIATOR_OF_REASON[reason] == "seller":
            still_on_sale = reason == "out_of_stock" and self.inv.shows_stock(o.sku, env.now)
            p = cfg.propensity.disguised_cancellation if still_on_sale else cfg.propensity.seller_cancellation
            if d[CANCEL_DISPUTE] < p:
                Unwatched(env, self.open_later(o, "suspicious_cancellation", d[OPEN_DELAY]))
        due, amount = refund
        patience = self.calendar.add_business_days(env.now, self.patience_bdays)
        if due > patience or amount < o.amount:
            Unwatched(env, self._watch_refund(o, due, amount, patience))

    def _compensate(self, o: Order, reason: str, loss: float) -> float:
        """Ask the compensation policy about ``o``, cancelled for stated ``reason``: record the
        coupon, and return the trust the buyer still loses of ``loss``."""
        assert self.compensation is not None
        try:
            usd, back = self.compensation(reason, o.amount)
            usd, back = float(usd), float(back)
        except Exception as exc:  # a researcher's policy failing is bad input, not a crash of ours
            raise ScenarioError(
                f"platform.compensation: kind {self.compensation_kind} raised {type(exc).__name__}: "
                f"{exc} (reason {reason!r}, amount {o.amount})"
            ) from None
        if not (0.0 <= usd < math.inf and 0.0 <= back <= 1.0):
            raise ScenarioError(
                f"platform.compensation: kind {self.compensation_kind} answered ({usd!r}, {back!r}) "
                f"for reason {reason!r}, amount {o.amount}; it answers (coupon USD >= 0, trust in [0, 1])"
            )
        if usd > 0.0:
            self.rec.set("coupon_usd", o.id, usd)
            return max(loss - back, 0.0)
        return loss

    def _watch_refund(self, o: Order, due: float, amount: float, patience: float) -> Proc[None]:
        """Process: the buyer notices a refund that is late (at the patience) or short (when it
        lands), loses trust and may dispute it."""
        env, d, prop, tcfg = self.env, o.after_draws, self.cfg.propensity, self.trust_cfg
        if due > patience:
            yield env.timeout(patience - env.now)
            if o.refund_due is not None:
                self._lose_trust(o, tcfg.refund_late_loss, d[CHURN_LATE])
                # The patience is the buyer's delay; platform.disputes.refund_late_open_delay
                # (0 by default) any more.
                if not o.disputed and d[LATE_DISPUTE] < prop.refund_late:
                    Unwatched(env, self.open_later(o, "refund_late", d[LATE_OPEN_DELAY]))
                    return
        if amount < o.amount:
            if o.refund_due is not None:
                yield env.timeout(max(o.refund_due - env.now, 0.0))
            if o.disputed:  # a dispute already covers the order (and would make up the shortfall)
                return
            self._lose_trust(o, tcfg.refund_wrong_loss, d[CHURN_SHORT])
            if d[SHORT_DISPUTE] < prop.refund_wrong_amount:
                Unwatched(env, self.open_later(o, "refund_wrong_amount", d[SHORT_OPEN_DELAY]))

    # ------------------------------------------------------------------ the dispute

    def open_later(self, o: Order, reason: str, delay_h: float) -> Proc[None]:
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

    def _run(self, o: Order, reason: str) -> Proc[None]:
        env, rec, cfg, oid, d = self.env, self.rec, self.cfg, o.id, o.after_draws
        o.disputed = True
        goods = reason in _GOODS
        claim = o.amount if goods else (o.amount if o.refund_due is not None else self._shortfall(o))
        rec.set("dispute_reason", oid, DISPUTE_REASON[reason])
        rec.set("dispute_opened_at", oid, env.now)
        rec.set("dispute_claim_amount", oid, claim)
        rec.event(env.now, oid, ACTIVITY["dispute_opened"], ACTOR["buyer"])

        # 1. Initial review.
        agents = self.agents[self.copy_of[o.seller]]
        yield from agents.serve(
            d[DISPUTE_REVIEW_TIME],
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
        yield env.timeout(d[INTERVENTION_DELAY])
        yield from agents.serve(d[INTERVENTION_TIME])
        r = cfg.ruling
        p_win = (
            (r.merit_win if self._founded(o, reason) else r.no_merit_win)
            + r.evidence_weight * (d[EVIDENCE] - 0.5)
            + r.history_weight * self.reputation.ruling_share(o.seller)
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
                spread = 2 * self.cfg.partial_refund_spread  # the draw's U[0, 1) onto +-the spread
                share = self.cfg.partial_refund_share + spread * (o.after_draws[PARTIAL_SHARE] - 0.5)
                # Strictly part of the claim, even after rounding to cents.
                award = min(max(round(claim * share, 2), 0.01), round(claim - 0.01, 2))
        else:
            # A cancelled order: the pending refund is paid now and any shortfall made up.
            self.refunds.expedite(o)
            award = self._shortfall(o)
        if award > 0.0:
            self.refunds.pay_dispute(o, award)
        if reason not in _REFUND:
            self.reputation.dispute_lost(o.seller, env.now, ruled=stage == "intervention")
