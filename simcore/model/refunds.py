"""Money going back to buyers: refunds of cancelled orders, of lost parcels and of disputes
(original method after business days, or wallet), and the bank's release of a card payment's
hold when the order is cancelled before the payment was taken."""

from __future__ import annotations

from dataclasses import dataclass

from simcore.engine.proc import Proc, Unwatched
from simcore.model.context import RunContext
from simcore.model.draws import (
    AWARD_CARD_BDAYS,
    AWARD_CHOOSES_WALLET,
    AWARD_WALLET_TIME,
    BANK_HOLD_BDAYS,
    REFUND_CARD_BDAYS,
    REFUND_CHOOSES_WALLET,
    REFUND_SHORT,
    REFUND_SHORT_SHARE,
    REFUND_WALLET_TIME,
)
from simcore.model.order import Order
from simcore.model.vocabulary import ACTIVITY, ACTOR, REFUND_ORIGINAL, REFUND_WALLET


@dataclass(frozen=True)
class _Payer:
    """Where one kind of refund finds its draws in ``Order.after_draws``: the card payer
    choosing the wallet (a uniform), the card delay (business days), the wallet delay (hours)."""

    wallet: int
    card_bdays: int
    wallet_hours: int


_CANCELLATIONS = _Payer(REFUND_CHOOSES_WALLET, REFUND_CARD_BDAYS, REFUND_WALLET_TIME)
_AWARDS = _Payer(AWARD_CHOOSES_WALLET, AWARD_CARD_BDAYS, AWARD_WALLET_TIME)


class RefundDesk:
    """Schedules and pays refunds.

    Card payers get their money back on the card after ``card_delay_bdays`` business days unless
    they choose the wallet (``wallet_share``); wallet payers always get the wallet, within
    ``wallet_delay``. A ``wrong_amount_rate`` share of cancellation refunds is paid short
    (50-95% of the amount). A lost parcel's refund (buyer protection) and dispute awards go the
    same way, for the amount owed.

    Every decision and delay comes with the order (``Order.after_draws``,
    :mod:`simcore.model.draws`), a cancellation refund's apart from an award's.

    Args:
        ctx: The run context (``refunds``).
    """

    def __init__(self, ctx: RunContext):
        self.env = ctx.env
        self.cfg = ctx.scn.refunds
        # A short refund pays a uniform share of the amount in [wrong_amount_paid_min, _max].
        self.short_low = self.cfg.wrong_amount_paid_min
        self.short_width = self.cfg.wrong_amount_paid_max - self.cfg.wrong_amount_paid_min
        self.calendar = ctx.calendar
        self.rec = ctx.rec

    def _method(self, o: Order, payer: _Payer) -> tuple[int, float, float]:
        """(method code, delay, due hour) of a refund of ``o`` starting now; the delay is in
        business days for the card, in days for the wallet."""
        now, d = self.env.now, o.after_draws
        if not o.card or d[payer.wallet] < self.cfg.wallet_share:
            delay_h = d[payer.wallet_hours]
            return REFUND_WALLET, delay_h / 24.0, now + delay_h
        bdays = d[payer.card_bdays]
        return REFUND_ORIGINAL, bdays, self.calendar.add_business_days(now, bdays)

    def schedule(self, o: Order) -> tuple[float, float]:
        """Schedule the refund of cancelled ``o`` and start the process that pays it.

        Returns:
            (due hour, amount in USD): when the refund will land and how much it pays
            (short of ``o.amount`` for a ``wrong_amount_rate`` share).
        """
        d = o.after_draws
        amount = o.amount
        if d[REFUND_SHORT] < self.cfg.wrong_amount_rate:
            amount = round(o.amount * (self.short_low + self.short_width * d[REFUND_SHORT_SHARE]), 2)
        return self._refund(o, amount)

    def refund_lost(self, o: Order, amount: float) -> None:
        """Refund ``amount`` USD of ``o``, whose parcel is lost for good (buyer protection): what
        the dispute awards have not paid. The order was not cancelled, so it takes the draws a
        cancellation refund would have (never short)."""
        self._refund(o, amount)

    def refund_return(self, o: Order) -> None:
        """Refund ``o`` in full: the parcel the buyer refused or sent back is back. The order was
        not cancelled, so it takes the draws a cancellation refund would have (never short)."""
        self._refund(o, o.amount)

    def _refund(self, o: Order, amount: float) -> tuple[float, float]:
        """Record and start the refund of ``amount`` USD of ``o``; returns (due hour, amount)."""
        env, rec = self.env, self.rec
        method, delay, due = self._method(o, _CANCELLATIONS)
        oid = o.id
        rec.set("refund_amount", oid, amount)
        rec.set("refund_method", oid, method)
        rec.set("refund_delay_bdays", oid, delay)
        rec.event(env.now, oid, ACTIVITY["refund_scheduled"], ACTOR["platform"])
        o.refund_due = due
        Unwatched(env, self._land(o, due))
        return due, amount

    def release_hold(self, o: Order) -> None:
        """``o``, a card payment authorised and cancelled before it was taken: the bank releases
        the hold on the buyer's funds after the order's ``bank_hold_release_bdays``."""
        bdays = o.after_draws[BANK_HOLD_BDAYS]
        self.rec.set("bank_hold_release_bdays", o.id, bdays)
        Unwatched(self.env, self._release(o.id, self.calendar.add_business_days(self.env.now, bdays)))

    def _release(self, oid: int, due: float) -> Proc[None]:
        yield self.env.timeout(due - self.env.now)
        self.rec.event(self.env.now, oid, ACTIVITY["bank_hold_released"], ACTOR["gateway"])

    def _land(self, o: Order, due: float) -> Proc[None]:
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
        if rec.orders["refund_method"][oid] == REFUND_ORIGINAL:
            delay = self.calendar.business_days_between(start, now)
        else:
            delay = (now - start) / 24.0
        rec.set("refund_delay_bdays", oid, delay)
        rec.set("refunded_at", oid, now)
        rec.event(now, oid, ACTIVITY["refund_paid"], ACTOR["platform"])
        return True

    def pay_dispute(self, o: Order, amount: float) -> None:
        """Schedule ``amount`` USD awarded by a dispute, by the same methods and delays (recorded
        now: what is owed on the order counts it from now), and start the process that pays it."""
        env, rec, oid = self.env, self.rec, o.id
        method, delay, due = self._method(o, _AWARDS)
        o.awarded = amount
        rec.set("dispute_refund_amount", oid, amount)
        rec.set("dispute_refund_method", oid, method)
        rec.set("dispute_refund_delay_bdays", oid, delay)
        rec.event(env.now, oid, ACTIVITY["dispute_refund_scheduled"], ACTOR["platform"])
        Unwatched(env, self._land_award(o, due))

    def _land_award(self, o: Order, due: float) -> Proc[None]:
        env, rec, oid = self.env, self.rec, o.id
        yield env.timeout(due - env.now)
        rec.set("dispute_refunded_at", oid, env.now)
        rec.event(env.now, oid, ACTIVITY["dispute_refund_paid"], ACTOR["platform"])
