"""Each money and payment-trouble key moves what it claims, in the direction and by the size
its description says: chargebacks (share, delay, window, liability, fee), buyer protection for
lost parcels, trust lost after payment trouble, the bank hold's release, a new order after a
failed payment, and the completed GMV and fraud-cost KPIs built on them.

The scenarios are QUIET (tests/conftest.py) with the one path under test switched on. Oracles
are the orders frame and the event log read by rules written out here (a chargeback lands
``delay`` after the payment; a bank hold counts Monday-Friday hours), or twin runs of one seed
that differ in one key (common random numbers). Statistical checks state their tolerance and
why. The last test (marked ``slow``) sweeps the fraud screen's decline threshold over
replications and finds the cost's minimum inside the range.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import simcore
from tests.conftest import const, quiet
from tests.model.test_aftermath import hours, kpi_window

#: Money columns are cents; float sums of a few hundred of them stay far inside this.
EPS = 1e-6
#: The frames' timestamp resolution (1 ms) in hours, for times compared across the frames.
MS_H = 0.001 / 3600.0
PAYMENT_TROUBLE = ("payment_failed", "verification_timeout")


def exp_days(mean: float) -> dict:
    return {"dist": "exponential", "mean": mean, "unit": "days"}


def uniform_days(low: float, high: float) -> dict:
    return {"dist": "uniform", "low": low, "high": high, "unit": "days"}


def in_window(res: simcore.RunResult) -> pd.DataFrame:
    """The orders the KPIs count (placed inside the KPI window, by the README's rule)."""
    lo, hi = kpi_window(res.scenario)
    o = res.orders
    return o[(o["placed_hour"] >= lo) & (o["placed_hour"] < hi)]


def binomial_band(p: np.ndarray, k: float = 4.0) -> tuple[float, float]:
    """(low, high) for the count of independent events of probabilities ``p``: the mean plus or
    minus ``k`` standard deviations."""
    mean, sd = float(p.sum()), float(np.sqrt((p * (1.0 - p)).sum()))
    return mean - k * sd, mean + k * sd


# --------------------------------------------------------------------------- chargebacks

#: Fraud that the screen lets through (QUIET's screen passes everything) and that the gateway
#: never declines, so every fraudulent order is paid, by card (fraudsters pay by card), and
#: ships 26 h later (QUIET: screening at once, first look 2 h, handling 1 day).
FRAUD: dict = {"buyers.fraud_rate": 0.2, "buyers.card_share": 0.5, "horizon_days": 45}
SHIP_AFTER_PAID_H = 26.0


def fraud_run(**overrides) -> simcore.RunResult:
    return simcore.run(quiet({**FRAUD, **overrides}))


def test_no_chargeback_without_share():
    # The same seed with share 1 charges dozens back (the premise that share 0 hides some).
    none = fraud_run(**{"payment.chargebacks.share": 0.0, "payment.chargebacks.delay": exp_days(3.0)})
    some = fraud_run(**{"payment.chargebacks.share": 1.0, "payment.chargebacks.delay": exp_days(3.0)})
    assert some.kpis["chargebacks"] > 20
    o = none.orders
    assert o["charged_back_at"].isna().all()
    assert not (none.events["activity"] == "charged_back").any()
    k = none.kpis
    assert k["chargebacks"] == 0 and k["chargebacks_usd"] == 0.0 and k["chargeback_rate"] == 0.0
    assert k["fraud_loss_usd"] == 0.0
    # No cardholder reports a charge either, so no fraudulent order is stopped before it ships.
    assert (o["cancel_reason"] == "fraud_suspected").sum() == 0
    assert (some.orders["cancel_reason"] == "fraud_suspected").sum() > 0


def test_every_shipped_fraud_card_order_is_charged_back():
    # share 1, delays exponential with a mean of 3 days: each fraudulent order's cardholder
    # reports the charge at paid + D. Before the order ships (D < 26 h) the platform cancels it;
    # after, it is charged back, if that falls before the horizon.
    mean_h = 3.0 * 24.0
    res = fraud_run(**{"payment.chargebacks.share": 1.0, "payment.chargebacks.delay": exp_days(3.0)})
    o, horizon_h = res.orders, res.scenario.horizon_days * 24.0
    fraud, paid = o["is_fraud"], o["paid_at"].notna()
    charged = o["charged_back_at"].notna()
    shipped = o["shipped_at"].notna()
    status = o["status"].astype(str)
    assert fraud.sum() > 50 and (o.loc[fraud, "payment_method"] == "card").all()
    # Only shipped fraudulent card payments, never cancelled or refunded, after shipment.
    eligible = fraud & paid & shipped & (o["payment_method"] == "card") & status.isin(["completed", "open"])
    assert not (charged & ~eligible).any()
    c = o[charged]
    assert (c["charged_back_at"] > c["shipped_at"]).all()
    assert (hours(res, c["charged_back_at"]) <= horizon_h).all()
    assert (o.loc[charged & ~fraud].empty) and not (charged & (o["payment_method"] == "wallet")).any()
    events = res.events[res.events["activity"] == "charged_back"]
    assert sorted(events["order_id"]) == sorted(c["order_id"])
    # How many: by the exponential's lack of memory, a shipped order (its D past the 26 h) is
    # charged back by the horizon with probability 1 - exp(-(horizon - shipped) / mean). The
    # count is a sum of independent Bernoullis: its mean +- 4 sd (a false alarm 1 in 16,000).
    s = o[fraud & shipped]
    p = 1.0 - np.exp(-(horizon_h - hours(res, s["shipped_at"])) / mean_h)
    low, high = binomial_band(p)
    assert low <= charged.sum() <= high, (charged.sum(), p.sum())
    # Those reported before shipment are stopped: P(D < 26 h) of the fraudulent orders paid
    # 26 h or more before the horizon (every later one is still unshipped at the horizon).
    stopped = o["cancel_reason"] == "fraud_suspected"
    assert (o.loc[stopped, "is_fraud"]).all()
    early = (o.loc[stopped, "cancelled_at"] - o.loc[stopped, "paid_at"]) / pd.Timedelta(hours=1)
    assert (early < SHIP_AFTER_PAID_H).all()
    n = (fraud & paid & (hours(res, o["paid_at"]) + SHIP_AFTER_PAID_H < horizon_h)).sum()
    low, high = binomial_band(np.full(n, 1.0 - math.exp(-SHIP_AFTER_PAID_H / mean_h)))
    assert low <= stopped.sum() <= high, (stopped.sum(), n)
    # Every other paid fraudulent order shipped, or was paid too late to ship by the horizon.
    waiting = fraud & paid & ~shipped & ~stopped
    assert (hours(res, o.loc[waiting, "paid_at"]) + SHIP_AFTER_PAID_H >= horizon_h).all()


@pytest.mark.parametrize(("window_days", "keeps"), [(5.0, False), (9.9, False), (10.1, True), (120.0, True)])
def test_chargeback_window(window_days, keeps):
    # Every cardholder reports 10 days after the payment: a window shorter than that lets no
    # chargeback through; a longer one lets through every shipped fraudulent order paid 10 days
    # or more before the horizon, each exactly 10 days after its payment (to the ms).
    delay_h = 240.0
    res = fraud_run(
        **{
            "payment.chargebacks.share": 1.0,
            "payment.chargebacks.delay": const(10.0, "days"),
            "payment.chargebacks.window_days": window_days,
        }
    )
    o, horizon_h = res.orders, res.scenario.horizon_days * 24.0
    charged = o["charged_back_at"].notna()
    due = o["is_fraud"] & o["paid_at"].notna() & (hours(res, o["paid_at"]) + delay_h < horizon_h)
    assert due.sum() > 50  # the premise: many are due
    if not keeps:
        assert not charged.any() and res.kpis["chargebacks"] == 0
        return
    assert (charged == due).all()
    after = hours(res, o.loc[charged, "charged_back_at"]) - hours(res, o.loc[charged, "paid_at"])
    np.testing.assert_allclose(after, delay_h, atol=2 * MS_H)
    assert res.kpis["chargebacks"] == charged.sum()


#: Chargebacks a week or so after payment, on orders that complete and on orders still open at
#: the horizon: buyers who take 8 days to confirm leave an order open for 13 days and 2 h
#: after its payment (the platform confirms 7 days after delivery). A warm-up and a cool-down
#: make the KPI window narrower than the run.
CHARGED: dict = {
    **FRAUD,
    "buyers.confirm_time": const(8.0, "days"),
    "warmup_days": 5,
    "cooldown_days": 5,
    "payment.chargebacks.share": 1.0,
    "payment.chargebacks.delay": exp_days(6.0),
}


@pytest.fixture(scope="module")
def charged_runs() -> dict[tuple[str, float], simcore.RunResult]:
    """The CHARGED scenario run at one seed under (liability, fee): both parties, two fees."""
    return {
        (who, fee): simcore.run(
            quiet({**CHARGED, "payment.chargebacks.liability": who, "payment.chargebacks.fee_usd": fee})
        )
        for who, fee in (("platform", 0.0), ("platform", 35.0), ("seller", 35.0))
    }


def test_chargeback_liability_moves_the_loss_to_the_seller(charged_runs):
    platform, seller = charged_runs["platform", 35.0], charged_runs["seller", 35.0]
    # Liability is bookkeeping: the two runs are the same, order for order.
    pd.testing.assert_frame_equal(platform.orders, seller.orders)
    o = seller.orders
    charged = o["charged_back_at"].notna()
    status = o["status"].astype(str)
    done = charged & (status == "completed")
    assert done.sum() >= 5 and (charged & (status == "open")).sum() >= 5  # premise
    # The seller keeps a completed order's amount unless it is liable for its chargeback:
    # revenue falls by those amounts, seller by seller, within a cent (each revenue is rounded
    # to the cent, so the difference of two is within 2 x 0.5 cent).
    per_seller = o[done].groupby("seller_id")["amount"].sum()
    per_seller = per_seller.reindex(seller.sellers["seller_id"], fill_value=0.0).to_numpy()
    fall = platform.sellers["revenue"].to_numpy() - seller.sellers["revenue"].to_numpy()
    np.testing.assert_allclose(fall, per_seller, atol=0.01 + EPS)
    assert per_seller.sum() > 0.0
    # Revenue lost rises by every chargeback on an order the seller was not refunded out of
    # (completed or open), in the KPI window; the KPIs are rounded to the cent.
    w = in_window(seller)
    at_seller = w["charged_back_at"].notna() & w["status"].isin(["completed", "open"])
    rise = seller.kpis["seller_revenue_lost"] - platform.kpis["seller_revenue_lost"]
    assert rise == pytest.approx(w.loc[at_seller, "amount"].sum(), abs=0.01)
    assert rise > 0.0
    # Whoever pays it, the chargebacks cost the same.
    for key in ("chargebacks", "chargebacks_usd", "chargeback_fees_usd", "fraud_loss_usd", "fraud_cost_usd"):
        assert seller.kpis[key] == platform.kpis[key], key


def test_chargeback_fee(charged_runs):
    free, fee = charged_runs["platform", 0.0], charged_runs["platform", 35.0]
    pd.testing.assert_frame_equal(free.orders, fee.orders)  # the fee changes nothing that happens
    w = in_window(fee)
    charged = w["charged_back_at"].notna()
    k, k0 = fee.kpis, free.kpis
    assert k["chargebacks"] == charged.sum() > 10  # premise: many in the window
    assert k["chargebacks_usd"] == pytest.approx(w.loc[charged, "amount"].sum(), abs=0.01)
    assert k["chargeback_fees_usd"] == pytest.approx(35.0 * k["chargebacks"], abs=EPS)
    assert k["fraud_loss_usd"] == pytest.approx(k["chargebacks_usd"] + k["chargeback_fees_usd"], abs=0.01)
    assert k0["chargeback_fees_usd"] == 0.0
    assert k0["fraud_loss_usd"] == pytest.approx(k0["chargebacks_usd"], abs=0.01)
    # Chargebacks to card sales, over the window.
    card_paid = (w["payment_method"] == "card") & w["paid_at"].notna()
    assert k["chargeback_rate"] == pytest.approx(charged.sum() / card_paid.sum())
    # The fee reaches the fraud cost, dollar for dollar.
    assert k["fraud_cost_usd"] - k0["fraud_cost_usd"] == pytest.approx(35.0 * k["chargebacks"], abs=0.02)


def test_gmv_completed_leaves_out_chargebacks(charged_runs):
    res = charged_runs["platform", 35.0]
    w = in_window(res)
    lo, hi = kpi_window(res.scenario)
    assert (lo, hi) == res.scenario.kpi_window_hours and 0.0 < lo < hi < res.scenario.horizon_days * 24.0
    completed = w["status"] == "completed"
    charged = w["charged_back_at"].notna()
    assert (completed & charged).sum() >= 5  # premise: the exclusion matters
    gmv = res.kpis["gmv_completed"]
    assert gmv == pytest.approx(w.loc[completed & ~charged, "amount"].sum(), abs=0.01)
    assert gmv < w.loc[completed, "amount"].sum() - 1.0
    # Orders placed outside the window count nowhere: the whole run's GMV is larger.
    o = res.orders
    assert gmv < o.loc[(o["status"] == "completed") & o["charged_back_at"].isna(), "amount"].sum() - 1.0
