"""Tier 1: the order state machine's guard (simcore/model/order.py, simcore/model/orderbook.py).

The oracle is the README's state machine ("The model"), written out below as a literal table
of the legal moves: it is not read from ``simcore.model.vocabulary.TRANSITIONS``, so a table
that gained or lost a move would fail here.
"""

from __future__ import annotations

import re

import pytest

from simcore.model.context import RunContext
from simcore.model.draws import AFTER_WIDTH
from simcore.model.order import Order
from simcore.model.vocabulary import ACTIVITIES, ACTORS, State
from simcore.model.world import build
from tests.conftest import quiet, seed

pytestmark = pytest.mark.trace

#: The README: placed -> paying -> [verifying] -> screening -> awaiting_shipment -> shipped ->
#: delivered -> completed; cancelled from any state before shipment; a lost parcel goes from
#: shipped to refunded when the delivery guarantee expires; a parcel refused at delivery or sent
#: back after it is returned once it is back. Nothing leaves completed, cancelled, refunded or
#: returned.
LEGAL: frozenset[tuple[str, str]] = frozenset(
    {
        ("PLACED", "PAYING"),
        ("PLACED", "CANCELLED"),
        ("PAYING", "VERIFYING"),
        ("PAYING", "SCREENING"),
        ("PAYING", "CANCELLED"),
        ("VERIFYING", "SCREENING"),
        ("VERIFYING", "CANCELLED"),
        ("SCREENING", "AWAITING_SHIPMENT"),
        ("SCREENING", "CANCELLED"),
        ("AWAITING_SHIPMENT", "SHIPPED"),
        ("AWAITING_SHIPMENT", "CANCELLED"),
        ("SHIPPED", "DELIVERED"),
        ("SHIPPED", "REFUNDED"),
        ("SHIPPED", "RETURNED"),
        ("DELIVERED", "COMPLETED"),
        ("DELIVERED", "RETURNED"),
    }
)
STATES = (
    "PLACED",
    "PAYING",
    "VERIFYING",
    "SCREENING",
    "AWAITING_SHIPMENT",
    "SHIPPED",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
    "REFUNDED",
    "RETURNED",
)
#: The states an order can be cancelled from (README: "cancelled from any state before shipment").
BEFORE_SHIPMENT = {"PLACED", "PAYING", "VERIFYING", "SCREENING", "AWAITING_SHIPMENT"}
PAIRS = [(a, b) for a in STATES for b in STATES]


def make_order(oid: int = 42, buyer: int = 0, seller: int = 0) -> Order:
    """A card-paid, untroubled order (its draws never trigger anything)."""
    return Order(
        id=oid,
        buyer=buyer,
        seller=seller,
        sku=0,
        dest=0,
        qty=1,
        amount=20.0,
        is_fraud=False,
        stolen_card=False,
        card=True,
        verified=True,
        signals=0,
        cancel_reason=None,
        address_conflict=False,
        neglected=False,
        screen_draws=(0.99,) * 4,
        pay_draws=(0.99,) * 6,
        after_draws=(0.99,) * AFTER_WIDTH,
    )


def test_the_state_names_are_the_readme_states():
    # Guards the tables below: a new state must be placed in LEGAL by hand.
    assert tuple(s.name for s in State) == STATES


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_advance_accepts_exactly_the_legal_moves(src, dst):
    o = make_order()
    o.state = State[src]
    if (src, dst) in LEGAL:
        o.advance(State[dst])
        assert o.state == State[dst]
        assert o.closed == (dst in ("COMPLETED", "CANCELLED", "REFUNDED", "RETURNED"))
    else:
        msg = f"order 42: illegal transition {src} -> {dst}"
        with pytest.raises(RuntimeError, match=f"^{re.escape(msg)}$"):
            o.advance(State[dst])
        assert o.state == State[src] and not o.closed  # the guard changed nothing


def test_a_whole_life_of_legal_moves_ends_closed():
    o = make_order()
    path = ["PAYING", "VERIFYING", "SCREENING", "AWAITING_SHIPMENT", "SHIPPED", "DELIVERED", "COMPLETED"]
    for name in path:
        assert not o.closed
        o.advance(State[name])
    assert o.state == State.COMPLETED and o.closed
    with pytest.raises(RuntimeError, match=r"order 42: illegal transition COMPLETED -> CANCELLED"):
        o.advance(State.CANCELLED)


@pytest.fixture
def desk():
    """A run's context and its parts, built but not started (no arrivals, nothing scheduled)."""
    ctx = RunContext.fresh(quiet(), seed(7))
    return ctx, build(ctx)


def registered(ctx: RunContext, book, state: str) -> Order:
    """An order with a recorder row, registered with the book and put in ``state``."""
    oid = ctx.rec.new_order(0, 0, 0, 0, 0, 1, 20.0, ctx.env.now, False, False, True, 0, 0)
    o = make_order(oid)
    book.register(o)
    o.state = State[state]
    return o


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_order_book_step_refuses_an_illegal_step_and_records_a_legal_one(desk, src, dst):
    ctx, parts = desk
    rec = ctx.rec
    o = registered(ctx, parts.book, src)
    events = len(rec.ev_time)
    if (src, dst) in LEGAL:
        now = parts.book.step(o, State[dst], "shipped", "seller", "shipped_at")
        assert (o.state, o.closed, now) == (
            State[dst],
            dst in ("COMPLETED", "CANCELLED", "REFUNDED", "RETURNED"),
            0.0,
        )
        assert len(rec.ev_time) == events + 1
        assert ACTIVITIES[rec.ev_activity[-1]] == "shipped" and ACTORS[rec.ev_actor[-1]] == "seller"
        assert rec.orders["shipped_at"][o.id] == 0.0
    else:
        msg = f"order {o.id}: illegal transition {src} -> {dst}"
        with pytest.raises(RuntimeError, match=f"^{re.escape(msg)}$"):
            parts.book.step(o, State[dst], "shipped", "seller", "shipped_at")
        # Nothing logged, stamped or moved.
        assert len(rec.ev_time) == events
        assert rec.orders["shipped_at"][o.id] != rec.orders["shipped_at"][o.id]  # still NaN
        assert o.state == State[src]


@pytest.mark.parametrize("state", STATES)
def test_cancel_only_before_shipment_and_never_twice(desk, state):
    ctx, parts = desk
    o = registered(ctx, parts.book, state)
    if state == "CANCELLED":
        parts.book.open[o.seller].pop(o.id)  # a cancelled order has left the open orders
    cancelled = parts.book.cancel(o, "payment_failed")
    assert cancelled == (state in BEFORE_SHIPMENT)
    assert o.state == (State.CANCELLED if cancelled else State[state])
    if cancelled:
        assert o.closed and o.id not in parts.book.open[o.seller]
        assert parts.book.cancel(o, "payment_failed") is False  # nothing is cancelled twice
