"""The platform referee: prohibited-item checks, fraud screening with a manual review queue,
address conflicts, and the ship-by deadline rule (applied in the seller flow)."""

from __future__ import annotations

import math

from simcore.engine.proc import Proc
from simcore.engine.station import teams
from simcore.errors import ScenarioError
from simcore.model import draws
from simcore.model.context import RunContext
from simcore.model.inventory import Inventory
from simcore.model.order import Order
from simcore.model.vocabulary import ACTIVITY, ACTOR
from simcore.policies.fraud import DECISIONS, DECLINE, PASS, REVIEW, fraud_decision
from simcore.scenario.scale import copies


class Referee:
    """Screens paid orders before the seller may ship them.

    The risk score is ``sigmoid(z)`` with ``z = intercept + weights of the signals present +
    fraud_signal * is_fraud + noise_sd * N(0, 1)``. Signals: an unusually large order, a device
    with ``velocity_limit`` or more orders in ``velocity_window_hours``, an unverified account,
    a stolen card. The fraud decision (``platform.fraud.decision``, a policy:
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
        self.analysts = teams(
            ctx.env, ctx.rec.queue("fraud_review", pf.fraud.analysts), copies(ctx.scn.scale)
        )
        # Read for every order screened: bound here rather than read off the scenario (a pydantic
        # model's attribute costs ~30 ns, a plain object's ~10).
        f = pf.fraud
        self.fraud = f
        self.intercept, self.noise_sd, self.large_order_usd = f.intercept, f.noise_sd, f.large_order_usd
        # The decision is the policy's (simcore.policies.fraud); the referee carries it out.
        self.decide = fraud_decision(f).decide
        where = f" (imported from {f.decision.search_path})" if f.decision.search_path else ""
        self.decision_kind = f"{f.decision.kind!r}{where}"

    def risk_score(self, o: Order) -> float:
        """The order's risk score in (0, 1)."""
        f = self.fraud
        z = self.intercept + self.noise_sd * o.screen_draws[draws.SCORE_NOISE]
        if o.amount > self.large_order_usd:
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

    def screen(self, o: Order) -> Proc[str | None]:
        """Process: returns None when the order passes, else the system cancel reason."""
        env, rec, cfg = self.env, self.rec, self.cfg
        d = o.screen_draws
        u_prohibited, u_review, u_fix = d[draws.PROHIBITED], d[draws.REVIEW], d[draws.ADDRESS_FIX]
        if self.inv.prohibited[o.sku] and u_prohibited < cfg.prohibited.detection_rate:
            self.inv.delist(o.sku)
            return "prohibited_item"
        score = self.risk_score(o)
        self.risk_col[o.id] = score
        f = self.fraud
        now = env.now
        team = self.analysts[self.inv.seller_copy[o.seller]]
        try:  # free in Python 3.11 unless it raises
            decision = self.decide(score, len(team.queue), now, o.amount, o.verified)
        except Exception as exc:  # a researcher's policy failing is bad input, not a crash of ours
            raise ScenarioError(
                f"platform.fraud.decision: kind {self.decision_kind} raised "
                f"{type(exc).__name__}: {exc} (score {score:.6g})"
            ) from None
        if decision == DECLINE:
            return "fraud_suspected"
        if decision == REVIEW:
            rec.event(now, o.id, ACTIVITY["fraud_review_started"], ACTOR["platform"])
            self.review_col[o.id] = now
            review = d[draws.REVIEW_TIME]
            turn = team.request()
            if turn is not None:
                yield turn
            yield env.timeout(review)
            team.release()
            reject = f.review_sensitivity if o.is_fraud else f.review_false_positive_rate
            if u_review < reject:
                return "fraud_suspected"
            if o.closed:  # the buyer's cancellation was approved during the review
                return None
            rec.event(env.now, o.id, ACTIVITY["fraud_review_passed"], ACTOR["platform"])
        elif decision != PASS:
            raise ScenarioError(
                f"platform.fraud.decision: kind {self.decision_kind} answered {decision!r} "
                f"(score {score:.6g}); a fraud decision answers one of {', '.join(DECISIONS)}"
            )
        if o.address_conflict:
            a = cfg.address_conflict
            rec.event(env.now, o.id, ACTIVITY["address_flagged"], ACTOR["platform"])
            fixes = u_fix < a.fix_share
            took = d[draws.FIX_TIME]
            if not fixes or took > a.fix_window_hours:
                yield env.timeout(a.fix_window_hours)
                return "address_conflict"
            yield env.timeout(took)
            if o.closed:
                return None
            rec.event(env.now, o.id, ACTIVITY["address_fixed"], ACTOR["buyer"])
        return None
