"""Refunds of cancelled orders and of disputes: original method after business days, or wallet."""

from __future__ import annotations

import simpy

from simcore.engine.calendar import Calendar
from simcore.scenario.distributions import Sampler
from simcore.model.vocabulary import ACTIVITY, ACTOR, Order
from simcore.model.recorder import Recorder
from simcore.scenario.schema import Refunds

_ORIGINAL, _WALLET = 1, 2


class RefundDesk:
    """Schedules and pays refunds.

    Card payers get their money back on the card after ``card_delay_bdays`` business days unless
    they choose the wallet (``wallet_share``); wallet payers always get the wallet, within
    ``wallet_delay``. A ``wrong_amount_rate`` share of cancellation refunds is paid short
    (50-95% of the amount). Dispute refunds go the same way, for the amount awarded.
    """

    def __init__(
        self,
        env: simpy.Environment,
        cfg: Refunds,
        calendar: Calendar,
        rec: Recorder,
        card_bdays: Sampler,
        wallet_delay: Sampler,
        u: Sampler,
        award_card_bdays: Sampler,
        award_wallet_delay: Sampler,
        award_u: Sampler,
    ):
        self.env = env
        self.cfg = cfg
        self.calendar = calendar
        self.rec = rec
        self.card_bdays = card_bdays
        self.wallet_delay = wallet_delay
        self.u = u
        # Dispute awards draw from streams of their own, so that a strategy changing disputes
        # leaves the refunds of cancellations exactly as they were (common random numbers).
        self.award_card_bdays = award_card_bdays
        self.award_wallet_delay = award_wallet_delay
        self.award_u = award_u

    def _method(
        self, o: Order, u: Sampler, card_bdays: Sampler, wallet_delay: Sampler
    ) -> tuple[int, float, float]:
        """(method code, delay, due hour) of a refund of ``o`` starting now; the delay is in
        business days for the card, in days for the wallet."""
        now = self.env.now
        choose_wallet = u()  # drawn for every refund, used or not (CRN)
        if not o.card or choose_wallet < self.cfg.wallet_share:
            delay_h = wallet_delay()
            return _WALLET, delay_h / 24.0, now + delay_h
        bdays = card_bdays()
        return _ORIGINAL, bdays, self.calendar.add_business_days(now, bdays)

    def schedule(self, o: Order) -> tuple[float, float]:
        """Schedule the refund of cancelled ``o`` and start the process that pays it.

        Returns:
            (due hour, amount in USD): when the refund will land and how much it pays
            (short of ``o.amount`` for a ``wrong_amount_rate`` share).
        """
        env, rec, cfg, u = self.env, self.rec, self.cfg, self.u
        method, delay, due = self._method(o, u, self.card_bdays, self.wallet_delay)
        short, short_share = u(), u()  # drawn for every refund, used or not (CRN)
        amount = o.amount
        if short < cfg.wrong_amount_rate:
            amount = round(o.amount * (0.5 + 0.45 * short_share), 2)
        oid = o.id
        rec.set("refund_amount", oid, amount)
        rec.set("refund_method", oid, method)
        rec.set("refund_delay_bdays", oid, delay)
        rec.event(env.now, oid, ACTIVITY["refund_scheduled"], ACTOR["platform"])
        o.refund_due = due
        env.process(self._land(o, due))
        return due, amount

    def _land(self, o: Order, due: float):
        yield self.env.timeout(due - self.env.now)
        if o.refund_due is None:  # a dispute had it paid early
            return
        o.refund_due = None
        self.rec.set("refunded_at", o.id, self.env.now)
        self.rec.event(self.env.now, o.id, ACTIVITY["refund_paid"], ACTOR["platform"])

    def expedite(self, o: Order) -> bool:
        """Pay ``o``'s pending cancellation refund now (a dispute ruled it overdue).

        The recorded delay becomes the actual one. Returns False if nothing was pending.
        """
        if o.refund_due is None:
            return False
        now, rec, oid = self.env.now, self.rec, o.id
        start = rec.orders["cancelled_at"][oid]
        o.refund_due = None
        if rec.orders["refund_method"][oid] == _ORIGINAL:
            delay = self.calendar.business_days_between(start, now)
        else:
            delay = (now - start) / 24.0
        rec.set("refund_delay_bdays", oid, delay)
        rec.set("refunded_at", oid, now)
        rec.event(now, oid, ACTIVITY["refund_paid"], ACTOR["platform"])
        return True

    def pay_dispute(self, o: Order, amount: float):
        """Process: pay ``amount`` USD awarded by a dispute, by the same methods and delays."""
        env, rec, oid = self.env, self.rec, o.id
        method, delay, due = self._method(o, self.award_u, self.award_card_bdays, self.award_wallet_delay)
        rec.set("dispute_refund_amount", oid, amount)
        rec.set("dispute_refund_method", oid, method)
        rec.set("dispute_refund_delay_bdays", oid, delay)
        rec.event(env.now, oid, ACTIVITY["dispute_refund_scheduled"], ACTOR["platform"])
        yield env.timeout(due - env.now)
        rec.set("dispute_refunded_at", oid, env.now)
        rec.event(env.now, oid, ACTIVITY["dispute_refund_paid"], ACTOR["platform"])
