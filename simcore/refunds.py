"""Refunds of paid-then-cancelled orders: original method after business days, or wallet."""

from __future__ import annotations

import simpy

from simcore.calendar import Calendar
from simcore.distributions import Sampler
from simcore.entities import ACTIVITY, ACTOR, Order
from simcore.recorder import Recorder
from simcore.schema import Refunds

_ORIGINAL, _WALLET = 1, 2


class RefundDesk:
    """Schedules and pays refunds.

    Card payers get their money back on the card after ``card_delay_bdays`` business days unless
    they choose the wallet (``wallet_share``); wallet payers always get the wallet, within
    ``wallet_delay``. A ``wrong_amount_rate`` share is paid short (50-95% of the amount).
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
    ):
        self.env = env
        self.cfg = cfg
        self.calendar = calendar
        self.rec = rec
        self.card_bdays = card_bdays
        self.wallet_delay = wallet_delay
        self.u = u

    def refund(self, o: Order):
        """Process: record the scheduled refund now, record it paid when it lands."""
        env, rec, cfg, u = self.env, self.rec, self.cfg, self.u
        now = env.now
        choose_wallet, short, short_share = u(), u(), u()  # fixed draws per refund (CRN)
        if not o.card or choose_wallet < cfg.wallet_share:
            method = _WALLET
            delay_h = self.wallet_delay()
            bdays = delay_h / 24.0
            due = now + delay_h
        else:
            method = _ORIGINAL
            bdays = self.card_bdays()
            due = self.calendar.add_business_days(now, bdays)
        amount = o.amount
        if short < cfg.wrong_amount_rate:
            amount = round(o.amount * (0.5 + 0.45 * short_share), 2)
        oid = o.id
        rec.set("refund_amount", oid, amount)
        rec.set("refund_method", oid, method)
        rec.set("refund_delay_bdays", oid, bdays)
        rec.event(now, oid, ACTIVITY["refund_scheduled"], ACTOR["platform"])
        yield env.timeout(due - now)
        rec.set("refunded_at", oid, env.now)
        rec.event(env.now, oid, ACTIVITY["refund_paid"], ACTOR["platform"])
