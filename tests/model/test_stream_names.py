"""The random streams a run takes, by name, held fixed (tier 3).

Common random numbers rest on names: a stream's numbers come from the root seed, the replication
and the name alone. Moving code must not rename a stream, take one twice, or take a new one
silently; if a change means to, it changes this list in the same commit, and every run's
numbers change with it.
"""

from __future__ import annotations

import pytest

from simcore.model.world import World
from tests.conftest import quiet

pytestmark = pytest.mark.property

#: Every stream a run takes, in the order the world's build takes them. Written out: this list
#: is the oracle, not the code.
STREAMS = [
    "sellers.phases",
    "inventory.build",
    "inventory.prices",
    "sellers.record_accuracy",
    "inventory.start",
    "fx.walk",
    "sellers.supplier_costs",
    "sellers.typos",
    "buyers.population",
    "sellers.traits",
    "inventory.count_restock_lead_time",
    "inventory.receipt_errors",
    # Prohibited listings down at the start (the catch-and-relist cycle's steady state).
    "referee.prohibited_start",
    # An arrival's own draws (simcore.model.draws): its rows' streams, column group by group.
    "orders.sku",
    "orders.risk_noise",
    "orders.choices",
    "referee.review_time",
    "buyers.address_fix_time",
    "orders.extra_items",
    "orders.payment",
    "gateway.service_time",
    "buyers.retry_delay",
    "buyers.verification_time",
    "orders.aftermath",
    "buyers.cancel_request_time",
    "sellers.cancel_response_time",
    "sellers.first_look_time",
    "sellers.handling_time",
    "inventory.restock_lead_time",
    "disputes.not_delivered_wait",
    "buyers.confirm_time",
    "refunds.card_bdays",
    "refunds.wallet_delay",
    "disputes.award_card_bdays",
    "disputes.award_wallet_delay",
    "disputes.open_delay",
    "disputes.review_time",
    "disputes.intervention_delay",
    "disputes.intervention_time",
    "payment.chargeback_delay",
    "payment.bank_hold_bdays",
    "buyers.payment_failure_reorder_time",
    "returns.transit_time",
    "disputes.refund_late_open_delay",
    "shipping.quotes",
    "shipping.transit.US",
    # The payment row of a new order after a failed one, keyed by the arrival's id.
    "orders.repayment",
    # A fraud ring's follow-up orders, keyed by the burst's arrival id.
    "orders.ring_burst",
    "buyers.arrivals.gap",
    "buyers.arrivals.thin",
    "inventory.shrinkage.gap",
    "inventory.shrinkage.pick",
    "inventory.drift.gap",
    "inventory.drift.pick",
    "inventory.drift.error",
]


def test_a_run_takes_exactly_these_streams():
    assert list(World(quiet()).streams.names) == STREAMS


def test_each_destination_has_its_transit_stream():
    two = {
        "shipping.destinations.EU": {
            "weight": 1.0,
            "shipping_cost_usd": {"dist": "lognormal", "mean": 2.0, "sd": 0.5},
            "cost_cap_usd": 50.0,
            "transit_time": {"dist": "constant", "value": 9.0, "unit": "days"},
        }
    }
    names = World(quiet(two)).streams.names
    assert [n for n in names if n.startswith("shipping.transit.")] == [
        "shipping.transit.US",
        "shipping.transit.EU",
    ]
    assert set(names) - {"shipping.transit.EU"} == set(STREAMS)


def test_the_streams_do_not_depend_on_the_strategy():
    # Whatever the levers, a run takes the same streams: a strategy changes what the numbers
    # decide, never which numbers there are.
    levers = {
        "sellers.strategy.sync_interval_days": None,
        "sellers.strategy.low_stock_alert": True,
        "platform.fraud.analysts": 3,
        "payment.max_retries": 3,
        "buyers.cancel.double_check": True,
    }
    assert list(World(quiet(levers)).streams.names) == STREAMS
