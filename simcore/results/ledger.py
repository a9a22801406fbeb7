"""Where each order's money went: the money ledger.

A buyer's money is taken when the order is paid (``paid_at``): its ``amount``. From then on it
ends, order by order, in named places::

    paid = seller_keeps + refunds + awards + chargebacks + held + platform_keeps

- ``seller_keeps``: a completed order's amount less the dispute awards on it, and less its
  chargeback when the seller is liable (``payment.chargebacks.liability``); 0 for any other
  order (a cancellation, a lost parcel's refund and a return leave the seller nothing).
- ``refunds``: what the platform refunds: a cancellation refund (``refund_amount``, short for
  a wrong amount), a lost parcel's refund under buyer protection, or a return's refund once the
  parcel is back, counted once scheduled.
- ``awards``: dispute awards (``dispute_refund_amount``), counted once scheduled.
- ``chargebacks``: the amount a cardholder charged back (``charged_back_at``): the whole of it.
- ``held``: an open paid order's amount less what has gone back already (the platform holds it
  until the order closes).
- ``platform_keeps``: on a cancelled order, the part of a short refund no dispute made up; less,
  when the platform is liable, the chargebacks it pays on orders it paid the seller for.

Each term follows its own rule, not the remainder, so that the identity is a check of the
model (tests/model/test_properties.py holds it over random scenarios). Chargeback fees and a
return's shipping are not the order's money: ``chargeback_fee`` says what each chargeback cost
its liable party on top (the orders frame says who paid a return's shipping, and how much).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The ledger's money columns, in the identity's order (``paid`` first).
TERMS = ("paid", "seller_keeps", "refunds", "awards", "chargebacks", "held", "platform_keeps")


def money_ledger(orders: pd.DataFrame, liability: str, fee_usd: float) -> pd.DataFrame:
    """One row per order (``order_id`` and :data:`TERMS` in USD, then ``chargeback_fee``).

    Args:
        orders: The orders frame (all its rows, or a selection).
        liability: Who bears chargebacks: ``"seller"`` or ``"platform"``.
        fee_usd: The fee of one chargeback (USD).
    """
    amount = orders["amount"].to_numpy(dtype=float)
    status = orders["status"].astype(str).to_numpy()
    completed, open_ = status == "completed", status == "open"
    paid = np.where(orders["paid_at"].notna().to_numpy(), amount, 0.0)
    refunds = orders["refund_amount"].fillna(0.0).to_numpy(dtype=float)
    awards = orders["dispute_refund_amount"].fillna(0.0).to_numpy(dtype=float)
    charged = orders["charged_back_at"].notna().to_numpy()
    chargebacks = np.where(charged, amount, 0.0)
    seller_liable = liability == "seller"
    seller_keeps = np.where(completed, amount - awards - (chargebacks if seller_liable else 0.0), 0.0)
    held = np.where(open_ & (paid > 0.0), amount - awards - chargebacks, 0.0)
    cancelled = status == "cancelled"
    # A short refund's shortfall, unless an award made it up (awards pay exactly what is missing).
    kept = np.where(cancelled & (paid > 0.0) & (awards == 0.0), paid - refunds, 0.0)
    platform_pays = np.where(completed & charged, chargebacks, 0.0) if not seller_liable else 0.0
    return pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy(),
            "paid": paid,
            "seller_keeps": seller_keeps,
            "refunds": refunds,
            "awards": awards,
            "chargebacks": chargebacks,
            "held": held,
            "platform_keeps": kept - platform_pays,
            "chargeback_fee": np.where(charged, fee_usd, 0.0),
        }
    )
