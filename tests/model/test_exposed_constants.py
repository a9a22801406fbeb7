"""Model choices that were constants, now scenario keys (issue 19, item 5): each moves what it
claims, in the direction a domain expert expects, and its default is the old constant (the
shipped scenarios' outputs are bit for bit those of the constants: benchmarks/fingerprint.py).

Runs are short (60 days, warm-up and cool-down 5) and share a seed, so two values of a key meet
the same arrivals (common random numbers): a difference is the key's, not luck's."""

from __future__ import annotations

import numpy as np
import pandas as pd

import simcore
from tests.conftest import in_workers, many_kpis, shipped

SHORT = {"horizon_days": 60, "warmup_days": 5, "cooldown_days": 5}


def _run(overrides: dict, name: str = "baseline") -> simcore.RunResult:
    return simcore.run(shipped(name, {**SHORT, **overrides}))


def _kpis(levels: list[dict], name: str = "baseline") -> list[dict]:
    """The KPIs of a SHORT run of ``name`` at each of ``levels`` (overrides), in worker processes."""
    return many_kpis(shipped(name, {**SHORT, **overrides}) for overrides in levels)


def test_defaults_are_the_old_constants():
    scn = shipped("baseline")
    assert scn.buyers.listing_tries == 3
    assert scn.sellers.pricing.typo_margin == -0.5
    assert scn.shipping.quote_quantity_exponent == 0.5
    assert scn.platform.disputes.partial_refund_spread == 0.2
    assert (scn.refunds.wrong_amount_paid_min, scn.refunds.wrong_amount_paid_max) == (0.5, 0.95)


def test_more_listing_tries_lose_fewer_sales():
    """A buyer who looks at more listings finds stock more often: lost sales fall, 1 -> 3 -> 6
    tries, on a market short of stock (poor_inventory)."""
    runs = _kpis([{"buyers.listing_tries": n} for n in (1, 3, 6)], "poor_inventory")
    lost = [k["lost_sales"] for k in runs]
    assert lost[0] > lost[1] > lost[2]
    assert lost[0] > 2 * lost[2]


def test_a_milder_typo_is_shipped_by_honest_sellers():
    """A typo selling 2% under cost is within honest sellers' loss tolerance (3%): only the
    dishonest dodge it, so typo pricing errors fall; one at half the cost is cancelled by all."""
    margins = (-0.5, -0.02)
    runs = _kpis(
        [{"sellers.pricing.typo_margin": m, "sellers.pricing.typos_per_listing_year": 2.0} for m in margins]
    )
    errs = {m: k["pricing_errors_by_cause"]["typo"] for m, k in zip(margins, runs, strict=True)}
    assert errs[-0.5] > 20
    assert errs[-0.02] < 0.5 * errs[-0.5]


def test_quotes_growing_with_the_basket_block_more_baskets():
    """With quotes in proportion to the items (exponent 1), more multi-item baskets pass a
    destination's cost cap than with one parcel's quote whatever the basket (exponent 0)."""
    base = {"buyers.extra_items_mean": 2.0}
    exponents = (0.0, 0.5, 1.0)
    runs = _kpis([{**base, "shipping.quote_quantity_exponent": e} for e in exponents])
    blocked = {
        e: k["cancellations_by_reason"]["shipping_restriction"] for e, k in zip(exponents, runs, strict=True)
    }
    assert blocked[0.0] < blocked[0.5] < blocked[1.0]


def _partial_shares(spread: float) -> pd.Series:
    """Each partial award's share of its claim in a SHORT poor_inventory run (in a worker)."""
    o = _run({"platform.disputes.partial_refund_spread": spread}, "poor_inventory").orders
    partial = o[(o["dispute_outcome"] == "partial_refund") & o["cancel_reason"].isna()]
    return partial["dispute_refund_amount"] / partial["dispute_claim_amount"]


def test_partial_awards_spread_as_the_key_says():
    """No spread: every partial award of goods is the mean share of the claim (to the cent);
    a spread of 0.2: shares spread over about +-0.2."""
    fixed, wide = in_workers(_partial_shares, [0.0, 0.2])
    assert len(fixed) > 10 and len(wide) > 10
    np.testing.assert_allclose(fixed, 0.5, atol=0.01)
    assert wide.min() < 0.4 and wide.max() > 0.6 and wide.between(0.29, 0.71).all()


def test_a_short_refund_pays_the_share_the_keys_give():
    """All cancellation refunds short (wrong_amount_rate 1) at a fixed 70%: each pays 70% of the
    amount, to the cent."""
    res = _run(
        {
            "refunds.wrong_amount_rate": 1.0,
            "refunds.wrong_amount_paid_min": 0.7,
            "refunds.wrong_amount_paid_max": 0.7,
        }
    )
    o = res.orders
    refunded = o[o["cancel_reason"].notna() & o["refund_amount"].notna()]
    assert len(refunded) > 100
    expected = [round(a * 0.7, 2) for a in refunded["amount"]]  # rounded as the model rounds (Python)
    assert refunded["refund_amount"].tolist() == expected
