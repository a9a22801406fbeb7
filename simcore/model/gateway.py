"""The payment gateway: authorisation attempts through a queue, failures, retries, verification."""

from __future__ import annotations

from simcore.engine.proc import Proc
from simcore.engine.station import teams
from simcore.model.context import RunContext
from simcore.model.draws import PER_ATTEMPT, RETRY, PayLayout
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.vocabulary import ACTIVITY, ACTOR, DECLINE_CAUSE, State
from simcore.scenario.scale import copies

_INCORRECT = DECLINE_CAUSE["incorrect_details"]
_UNVERIFIED = DECLINE_CAUSE["unverified_account"]
_ISSUER = DECLINE_CAUSE["issuer_decline"]
# Bound once, as every payment records them (an enum class's attribute costs ~70 ns: orderbook).
_VERIFYING = State.VERIFYING
_AUTHORIZED, _DECLINED = ACTIVITY["payment_authorized"], ACTIVITY["payment_declined"]
_GATEWAY = ACTOR["gateway"]


class Gateway:
    """Authorises payments at a :class:`Station` with ``payment.gateway.servers`` slots.

    Each attempt queues for a slot and holds it for ``service_time``. An attempt fails on
    mistyped details, on an unverified account, or on an issuer decline (stolen cards are
    declined more often; a retry after a decline is declined again with
    ``decline_persistence``, since insufficient funds rarely fix themselves within minutes).
    The buyer retries with ``buyers.retry_probability`` up to ``max_retries`` times.

    The random numbers of every decision and every duration (each attempt's service time, each
    retry's delay, the verification time) come with the order (``Order.pay_draws``, laid out by
    :class:`simcore.model.draws.PayLayout`), drawn when it arrived.

    Args:
        ctx: The run context (``payment``, ``buyers``).
        book: The order book.
    """

    def __init__(self, ctx: RunContext, *, book: OrderBook, copy_of: list[int]):
        scn = ctx.scn
        p, b = scn.payment, scn.buyers
        self.env = ctx.env
        self.cfg = p
        self.buyers = b
        self.fraud = b.fraud
        self.book = book
        self.rec = ctx.rec
        # The columns every attempt writes, bound once rather than looked up by name per write.
        self.attempts_col = ctx.rec.orders["payment_attempts"]
        self.decline_col = ctx.rec.orders["payment_decline_cause"]
        # One team of servers per copy of the market (simcore.scenario.scale), by the seller's.
        self.stations = teams(ctx.env, ctx.rec.queue("gateway", p.gateway.servers), copies(scn.scale))
        self.copy_of = copy_of
        self.at = PayLayout.of(p.max_retries)
        # Read at every attempt: bound here rather than read off the scenario (a pydantic model's
        # attribute costs ~30 ns, a plain object's ~10).
        self.incorrect_details_rate = p.incorrect_details_rate
        self.unverified_decline_rate = p.unverified_decline_rate
        self.issuer_decline_rate = p.issuer_decline_rate

    def _attempt_fails(self, o: Order, attempt: int, previous: int) -> int:
        """Decline cause of attempt number ``attempt`` (0-based; 0 = authorised)."""
        first = PER_ATTEMPT * attempt  # this attempt's DETAILS, ACCOUNT, ISSUER draws
        u_details, u_account, u_issuer = o.pay_draws[first : first + 3]
        if u_details < self.incorrect_details_rate:
            return _INCORRECT
        if not o.verified and u_account < self.unverified_decline_rate:
            return _UNVERIFIED
        if o.card:
            if previous == _ISSUER:
                p = self.cfg.decline_persistence
            elif o.stolen_card:
                p = self.cfg.stolen_card_decline_rate
            else:
                p = self.issuer_decline_rate
            if u_issuer < p:
                return _ISSUER
        return 0

    def pay(self, o: Order) -> Proc[bool]:
        """Process: authorise ``o``. Returns True once authorised, False when the buyer gives up
        or runs out of retries (or the order was cancelled meanwhile)."""
        env, rec, book = self.env, self.rec, self.book
        station = self.stations[self.copy_of[o.seller]]
        book.paying(o)
        cause = 0
        attempts = 0
        d, at = o.pay_draws, self.at
        while True:
            service = d[at.service + attempts]
            attempts += 1
            turn = station.request()
            if turn is not None:
                yield turn
            yield env.timeout(service)
            station.release()
            cause = self._attempt_fails(o, attempts - 1, cause)
            self.attempts_col[o.id] = attempts
            if o.closed:
                return False
            if cause == 0:
                o.authorised = True
                rec.event(env.now, o.id, _AUTHORIZED, _GATEWAY)
                return True
            self.decline_col[o.id] = cause
            rec.event(env.now, o.id, _DECLINED, _GATEWAY)
            if (
                attempts > self.cfg.max_retries
                or d[PER_ATTEMPT * (attempts - 1) + RETRY] >= self.buyers.retry_probability
            ):
                return False
            yield env.timeout(d[at.retry_delay + attempts - 1])
            if o.closed:
                return False

    def needs_verification(self, o: Order) -> bool:
        """Whether this card payment is sent to the extra verification step."""
        v = self.cfg.verification
        x = o.pay_draws[self.at.verify]
        if not o.card:
            return False
        if o.stolen_card:
            return x < v.stolen_card_share
        return x < (v.share if o.verified else v.unverified_share)

    def verify(self, o: Order) -> Proc[bool]:
        """Process: the buyer completes verification within ``window_hours`` or the order is
        cancelled (``verification_timeout``). Returns True when verified."""
        env, book = self.env, self.book
        book.step(o, _VERIFYING, "verification_requested", "gateway")
        window = self.cfg.verification.window_hours
        abandon = (
            self.fraud.verification_abandon_share if o.is_fraud else self.buyers.verification_abandon_share
        )
        gives_up = o.pay_draws[self.at.abandon] < abandon
        took = o.pay_draws[self.at.verify_time]
        if gives_up or took > window:
            yield env.timeout(window)
            if not o.closed:
                book.cancel(o, "verification_timeout")
            return False
        yield env.timeout(took)
        if o.closed:
            return False
        self.rec.event(env.now, o.id, ACTIVITY["verification_completed"], ACTOR["buyer"])
        return True
