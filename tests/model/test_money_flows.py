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
from scipy import stats

import simcore
from tests.conftest import const, in_workers, quiet, shipped
from tests.model.test_aftermath import hours, kpi_window, nan0, run_model

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
    # 26 h or more before the horizon (mean +- 4 sd).
    stopped = o["cancel_reason"] == "fraud_suspected"
    assert (o.loc[stopped, "is_fraud"]).all()
    early = (o.loc[stopped, "cancelled_at"] - o.loc[stopped, "paid_at"]) / pd.Timedelta(hours=1)
    assert (early < SHIP_AFTER_PAID_H).all()
    in_time = fraud & paid & (hours(res, o["paid_at"]) + SHIP_AFTER_PAID_H < horizon_h)
    low, high = binomial_band(np.full(in_time.sum(), 1.0 - math.exp(-SHIP_AFTER_PAID_H / mean_h)))
    assert low <= (stopped & in_time).sum() <= high, ((stopped & in_time).sum(), in_time.sum())
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
#: make the KPI window narrower than the run. 30% of the parcels are lost (refunded 10 days
#: after shipment, some charged back first).
CHARGED: dict = {
    **FRAUD,
    "buyers.confirm_time": const(8.0, "days"),
    "shipping.lost_share": 0.3,
    "platform.delivery_guarantee_days": 10.0,
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
    # The premises: chargebacks on completed orders, on open ones, and on lost parcels.
    assert done.sum() >= 5 and (charged & (status == "open")).sum() >= 5
    assert (charged & (status == "refunded")).sum() >= 3
    # The seller keeps a completed order's amount unless it is liable for its chargeback:
    # revenue falls by those amounts, seller by seller, within a cent (each revenue is rounded
    # to the cent, so the difference of two is within 2 x 0.5 cent).
    per_seller = o[done].groupby("seller_id")["amount"].sum()
    per_seller = per_seller.reindex(seller.sellers["seller_id"], fill_value=0.0).to_numpy()
    fall = platform.sellers["revenue"].to_numpy() - seller.sellers["revenue"].to_numpy()
    np.testing.assert_allclose(fall, per_seller, atol=0.01 + EPS)
    assert per_seller.sum() > 0.0
    # Revenue lost rises by the chargebacks on completed and open orders in the KPI window (a
    # lost parcel's amount never reaches the seller, so its chargeback takes nothing from the
    # seller); the KPIs are rounded to the cent.
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


# --------------------------------------------------------------------------- lost parcels

#: Half the parcels lost, the guarantee 10 days after shipment (transit takes 5); half the buyers
#: whose parcel is lost dispute it 6 days after shipment (awards, some partial, before the
#: platform's refund); fraud charged back a week or so after payment (fraudsters dispute
#: nothing), some of it on lost parcels. The KPIs count the orders placed from day 3 to day 37.
LOST: dict = {
    "horizon_days": 40,
    "warmup_days": 3,
    "cooldown_days": 3,
    "shipping.lost_share": 0.5,
    "platform.delivery_guarantee_days": 10.0,
    "platform.disputes.propensity.not_delivered": 0.5,
    "platform.disputes.not_delivered_after_days": 6.0,
    "platform.customer_service.agents": 4,
    "buyers.fraud_rate": 0.1,
    "payment.chargebacks.share": 1.0,
    "payment.chargebacks.delay": exp_days(8.0),
}
GUARANTEE_H = 240.0


def test_no_lost_parcel_without_lost_share():
    res = simcore.run(quiet({**LOST, "shipping.lost_share": 0.0}))
    o = res.orders
    assert not (o["status"] == "refunded").any()
    assert not (res.events["activity"] == "parcel_lost").any()
    assert res.kpis["lost_parcels"] == 0 and res.kpis["refunded_rate"] == 0.0
    # Every parcel arrives, 5 days after it shipped.
    shipped = o["shipped_at"].notna() & (
        hours(res, o["shipped_at"]) + 5 * 24.0 < res.scenario.horizon_days * 24
    )
    assert shipped.sum() > 300 and o.loc[shipped, "delivered_at"].notna().all()


def test_lost_parcels_are_refunded_in_full():
    res = simcore.run(quiet(LOST))
    o, horizon_h = res.orders, res.scenario.horizon_days * 24.0
    status = o["status"].astype(str)
    refunded, charged = status == "refunded", o["charged_back_at"].notna()
    refund, award = nan0(o["refund_amount"]), nan0(o["dispute_refund_amount"])
    amount = o["amount"].to_numpy()
    # The premises: each way of paying a lost parcel back occurs.
    assert (refunded & (award == 0) & ~charged).sum() >= 20
    assert (refunded & (award > 0) & (refund > 0)).sum() >= 5  # a partial award, topped up
    assert (refunded & (award > 0) & (refund == 0)).sum() >= 5  # an award in full
    assert (refunded & charged).sum() >= 3
    # A refunded order shipped and never arrived; a completed one arrived.
    assert o.loc[refunded, "shipped_at"].notna().all() and o.loc[refunded, "delivered_at"].isna().all()
    assert o.loc[status == "completed", "delivered_at"].notna().all()
    # The buyer gets the amount back, awards and refund together; a charged-back order's money
    # went back through the card network, and nothing more is paid on it.
    paid_back = refunded & ~charged
    np.testing.assert_allclose((refund + award)[paid_back], amount[paid_back], atol=EPS)
    assert ((refund + award)[refunded & charged] == 0.0).all()
    # Closed when the guarantee expires, or when the dispute ends if later.
    lost_at = res.events[res.events["activity"] == "parcel_lost"].set_index("order_id")["hour"]
    assert sorted(lost_at.index) == sorted(o.loc[refunded, "order_id"])
    r = o[refunded].set_index("order_id").loc[lost_at.index]
    due = hours(res, r["shipped_at"]) + GUARANTEE_H
    due = np.fmax(due, hours(res, r["dispute_resolved_at"]))  # NaN (no dispute): the guarantee
    np.testing.assert_allclose(lost_at.to_numpy(), due, atol=2 * MS_H)
    # Which parcels: a shipped parcel is either delivered within its 5 days of transit or lost,
    # with lost_share 0.5 each; among those whose guarantee has expired, the lost count is
    # binomial (mean +- 4 sd).
    old = o["shipped_at"].notna() & (hours(res, o["shipped_at"]) + GUARANTEE_H < horizon_h)
    lost = old & o["delivered_at"].isna()
    low, high = binomial_band(np.full(int(old.sum()), 0.5))
    assert low <= lost.sum() <= high, (lost.sum(), old.sum())
    # Each of them is refunded, unless its dispute is still going on.
    pending = lost & ~refunded
    assert o.loc[pending, "dispute_opened_at"].notna().all()
    assert o.loc[pending, "dispute_resolved_at"].isna().all()
    # The KPIs count the refunded orders placed in the window.
    w = in_window(res)
    assert res.kpis["lost_parcels"] == (w["status"] == "refunded").sum() < refunded.sum()
    assert res.kpis["refunded_rate"] == pytest.approx(res.kpis["lost_parcels"] / len(w))


# --------------------------------------------------------------------------- payment trouble

#: Half the card payments declined, no retry, no other trouble: the only bad experiences are
#: failed payments, and every one may make its buyer leave (churn_share 1). Buyers are followed
#: for 10 days, so the churn KPI is defined with a 10-day cool-down.
FAILING: dict = {
    "horizon_days": 30,
    "cooldown_days": 10,
    "buyers.follow_up_days": 10,
    "payment.issuer_decline_rate": 0.5,
    "buyers.retry_probability": 0.0,
    "buyers.trust.churn_share": 1.0,
    "buyers.payment_failure_reorder_share": 0.0,
}


def expected_churn(res: simcore.RunResult, churned_at: np.ndarray) -> tuple[float, float, int]:
    """The churn the trust rules predict, replayed from the orders frame: each legitimate
    buyer's trust starts at ``initial``, rises by ``good_order_gain`` (capped at 1) at each
    completion and falls by ``payment_failure_loss`` (floored at 0) at each failed payment,
    after which the buyer leaves with probability ``churn_share * (1 - trust)``; each buyer's
    failures are counted up to the one at which they left (``churned_at``, from the run).

    Returns the sum and the variance of those probabilities, and the failures at which the
    buyer left (which must be every churn)."""
    t_cfg = res.scenario.buyers.trust
    o = res.orders[~res.orders["is_fraud"]]
    failed = o["cancel_reason"].isin(PAYMENT_TROUBLE).to_numpy()
    good = (o["status"] == "completed").to_numpy()
    when = np.where(failed, hours(res, o["cancelled_at"]), hours(res, o["completed_at"]))
    keep = failed | good
    rows = pd.DataFrame({"buyer": o["buyer_id"].to_numpy()[keep], "hour": when[keep], "failed": failed[keep]})
    total = var = 0.0
    at_failure = 0
    for buyer, g in rows.sort_values(["buyer", "hour"]).groupby("buyer"):
        trust = t_cfg.initial
        for hour, fail in zip(g["hour"], g["failed"], strict=True):
            if not fail:
                trust = min(1.0, trust + t_cfg.good_order_gain)
                continue
            trust = max(0.0, trust - t_cfg.payment_failure_loss)
            p = t_cfg.churn_share * (1.0 - trust)
            total, var = total + p, var + p * (1.0 - p)
            if abs(churned_at[buyer] - hour) < MS_H:
                at_failure += 1
                break
    return total, var, at_failure


@pytest.mark.parametrize("loss", [0.0, 0.5])
def test_payment_failure_loss_drives_churn(loss):
    record, res = run_model(quiet({**FAILING, "buyers.trust.payment_failure_loss": loss}))
    o = res.orders
    churned_at = np.asarray(record.churned_at, dtype=float)
    churned = int(np.isfinite(churned_at).sum())
    failed_buyers = o.loc[o["cancel_reason"].isin(PAYMENT_TROUBLE) & ~o["is_fraud"], "buyer_id"].nunique()
    assert failed_buyers > 50  # the premise: most buyers meet a failed payment
    assert res.timeseries["buyers_churned"].iloc[-1] == churned  # cumulative
    if loss == 0.0:
        # No trust lost, so no churn drawn, and every arriving buyer still buys.
        assert churned == 0 and res.kpis["buyer_churn_rate"] == 0.0
        assert res.kpis["orders_forgone"] == 0
        return
    # Each buyer left at one of their failed payments, as often as the trust rules say: the
    # count is a sum of Bernoullis, each given what came before (mean +- 4 sd).
    mean, var, at_failure = expected_churn(res, churned_at)
    assert at_failure == churned
    assert mean - 4 * math.sqrt(var) <= churned <= mean + 4 * math.sqrt(var), (churned, mean, var)
    # Markedly: a failure leaves trust at 0.5 or less (from 0.8-1.0), so each buyer who meets
    # one leaves with probability 0.5 or more (measured: 0.72-0.90 over seed offsets 0-12).
    assert churned >= 0.5 * failed_buyers
    assert res.kpis["buyer_churn_rate"] > 0.25
    assert res.kpis["orders_forgone"] > 0  # those who stay buy less often, too


#: Card payments that need verification, half of whose buyers never complete it (24 h later
#: the order is cancelled), buyers who ask to cancel 2 h after ordering (while still verifying,
#: 3 h), card declines (never authorised), and fraud on stolen cards.
HOLD: dict = {
    "buyers.card_share": 0.5,
    "buyers.fraud_rate": 0.1,
    "payment.issuer_decline_rate": 0.2,
    "payment.verification.share": 0.5,
    "payment.verification.stolen_card_share": 0.6,
    "buyers.verification_abandon_share": 0.5,
    "buyers.verification_time": const(3.0),
    "buyers.cancel.change_of_mind": 0.2,
    "buyers.cancel.request_time": const(2.0),
    "buyers.payment_failure_reorder_share": 0.0,
}


def weekday_hours(ts: pd.Series) -> np.ndarray:
    """Monday-Friday hours from 2000-01-03 (a Monday) to each timestamp (numpy's business days,
    weekends standing still)."""
    day = ts.dt.normalize()
    full = np.busday_count(np.datetime64("2000-01-03"), day.to_numpy().astype("datetime64[D]"))
    part = (ts - day) / pd.Timedelta(hours=1)
    return full * 24.0 + np.where(np.is_busday(day.to_numpy().astype("datetime64[D]")), part, 0.0)


def test_bank_hold_release():
    runs = {
        (low, high): simcore.run(quiet({**HOLD, "payment.bank_hold_release_bdays": uniform_days(low, high)}))
        for low, high in ((1.0, 2.0), (9.0, 10.0))
    }
    for (low, high), res in runs.items():
        o, ev = res.orders, res.events
        authorised = o["order_id"].isin(ev.loc[ev["activity"] == "payment_authorized", "order_id"])
        held = (
            authorised & (o["payment_method"] == "card") & (o["status"] == "cancelled") & o["paid_at"].isna()
        )
        has = o["bank_hold_release_bdays"].notna()
        # The premises: orders held and let go both ways (verification not completed, the
        # buyer's own cancellation while verifying), and declined card payments (never held).
        assert (held & (o["cancel_reason"] == "verification_timeout")).sum() >= 10
        assert (held & (o["cancel_reason"] == "change_of_mind")).sum() >= 5
        assert (o["payment_decline_cause"].notna() & (o["status"] == "cancelled") & ~authorised).sum() >= 10
        assert (has == held).all()
        bdays = o.loc[has, "bank_hold_release_bdays"]
        assert ((bdays >= low) & (bdays <= high)).all()
        # Released that many business days after the cancellation (weekends stand still), if
        # by the horizon.
        released = ev[ev["activity"] == "bank_hold_released"].set_index("order_id")["time"]
        h = o[has].set_index("order_id")
        due = weekday_hours(h["cancelled_at"]) + 24.0 * h["bank_hold_release_bdays"]
        assert set(released.index) <= set(h.index) and len(released) >= 10
        np.testing.assert_allclose(weekday_hours(released), due.loc[released.index], atol=2 * MS_H)
        late = h.index.difference(released.index)
        horizon = pd.Timestamp(res.scenario.start) + pd.Timedelta(days=res.scenario.horizon_days)
        assert (due.loc[late] >= weekday_hours(pd.Series([horizon])).item() - 2 * MS_H).all()
        k = res.kpis["bank_hold_release_bdays"]
        assert k["n"] == has.sum() and low <= k["p50"] <= high
    # Common random numbers: the same orders are held, and each waits 8 business days longer
    # under the later range (float32 draws: to 1e-5 days).
    early, late_ = runs[1.0, 2.0], runs[9.0, 10.0]
    pd.testing.assert_frame_equal(
        early.orders.drop(columns="bank_hold_release_bdays"),
        late_.orders.drop(columns="bank_hold_release_bdays"),
    )
    gap = late_.orders["bank_hold_release_bdays"] - early.orders["bank_hold_release_bdays"]
    np.testing.assert_allclose(gap.dropna(), 8.0, atol=1e-5)
    assert late_.kpis["bank_hold_release_bdays"]["p50"] - early.kpis["bank_hold_release_bdays"]["p50"] == (
        pytest.approx(8.0, abs=1e-5)
    )


#: Payments that fail every way: card declines, mistyped details (either method), verification
#: not completed, stolen cards declined. A failure may make its buyer leave (trust falls by 0.2,
#: then churn with probability 0.5 x (1 - trust)): about one in five failed visits' buyers has
#: left by the time they would order again, 2 h after the failure. Stock (1,000 a SKU) never
#: runs out and prices never move (QUIET), so every other new order finds its listing at the
#: same price.
REORDER: dict = {
    "buyers.card_share": 0.5,
    "buyers.fraud_rate": 0.1,
    "payment.issuer_decline_rate": 0.4,
    "payment.incorrect_details_rate": 0.2,
    "payment.stolen_card_decline_rate": 0.5,
    "payment.verification.share": 0.5,
    "payment.verification.stolen_card_share": 0.3,
    "buyers.verification_abandon_share": 0.5,
    "buyers.trust.churn_share": 0.5,
    "buyers.trust.payment_failure_loss": 0.2,
    "buyers.payment_failure_reorder_time": const(2.0),
    # Fraud rings order one at a time: a visit's second order is then only ever a new order.
    "buyers.fraud.burst_orders_mean": 1.0,
}
REORDER_H = 2.0


@pytest.fixture(scope="module")
def reorder_runs() -> dict[float, tuple[np.ndarray, simcore.RunResult]]:
    """REORDER without and with new orders: each run's buyers' churn hours and its result."""
    runs = {}
    for share in (0.0, 1.0):
        record, res = run_model(quiet({**REORDER, "buyers.payment_failure_reorder_share": share}))
        runs[share] = (np.asarray(record.churned_at, dtype=float), res)
    return runs


def churn_hour(orders: pd.DataFrame, churned_at: np.ndarray) -> np.ndarray:
    """The hour each order's buyer left for good (NaN: stayed, or a fraudulent account)."""
    buyer = orders["buyer_id"].to_numpy()
    legit = buyer < churned_at.size
    return np.where(legit, churned_at[np.where(legit, buyer, 0)], np.nan)


def test_no_new_order_without_reorder_share(reorder_runs):
    o = reorder_runs[0.0][1].orders
    assert (o["cancel_reason"].isin(PAYMENT_TROUBLE) & ~o["is_fraud"]).sum() > 50  # premise
    assert not o["arrival_id"].duplicated().any()


def test_a_failed_payment_brings_a_new_order_paid_the_other_way(reorder_runs):
    churned_at, res = reorder_runs[1.0]
    o, horizon_h = res.orders.sort_values("order_id"), res.scenario.horizon_days * 24.0
    first = ~o["arrival_id"].duplicated(keep="first")
    failed = o["cancel_reason"].isin(PAYMENT_TROUBLE)
    # A visit's first order that failed by the horizon less the 2 h: its legitimate buyer orders
    # again, exactly once, unless they have left by then (the tolerance is nil: no listing runs
    # out).
    cancelled_h = hours(res, o["cancelled_at"])
    gone = churn_hour(o, churned_at) <= cancelled_h + REORDER_H  # NaN (stayed): False
    failed_first = first & failed & ~o["is_fraud"] & (cancelled_h + REORDER_H < horizon_h)
    due = failed_first & ~gone
    assert due.sum() > 50 and (failed_first & gone).sum() >= 5
    assert (due & (o["cancel_reason"] == "verification_timeout")).sum() >= 5
    assert (due & (o["payment_method"] == "wallet")).sum() >= 5
    visits = o["arrival_id"].value_counts()
    again = o[~first].set_index("arrival_id")
    assert visits.max() == 2
    assert sorted(again.index) == sorted(o.loc[due, "arrival_id"])
    # Fraudsters move on; a new order that fails too brings no third (premises: both occur).
    fraud_failed = first & failed & o["is_fraud"]
    assert fraud_failed.sum() >= 5 and again["cancel_reason"].isin(PAYMENT_TROUBLE).sum() >= 3
    assert not o.loc[fraud_failed, "arrival_id"].isin(again.index).any()
    # The same buyer, seller, listing, quantity and price, paid the other way, 2 h after the
    # failed one was cancelled (to the ms).
    before = o[due].set_index("arrival_id").loc[again.index]
    for column in ("buyer_id", "seller_id", "sku_id", "quantity", "amount", "destination"):
        assert (again[column] == before[column]).all(), column
    assert (again["payment_method"] != before["payment_method"]).all()
    assert not again["is_fraud"].any()
    wait = hours(res, again["placed_at"]) - hours(res, before["cancelled_at"])
    np.testing.assert_allclose(wait, REORDER_H, atol=2 * MS_H)


def unpaid_visits(res: simcore.RunResult) -> pd.DataFrame:
    """The failed orders of the KPI window's legitimate visits that ended with no order paid."""
    w = in_window(res)
    paid_visits = res.orders.loc[res.orders["paid_at"].notna(), "arrival_id"]
    unpaid = ~w["is_fraud"] & (w["status"] == "cancelled") & w["paid_at"].isna()
    return w[unpaid & ~w["arrival_id"].isin(paid_visits)]


def test_a_new_order_pays_what_the_failed_one_did_not(reorder_runs):
    none, all_ = reorder_runs[0.0][1], reorder_runs[1.0][1]
    # The KPI's rule (simcore.results.kpis): the value of the legitimate visits that ended with
    # no order paid, once per visit (its first failed order's amount).
    for res in (none, all_):
        unpaid = unpaid_visits(res).drop_duplicates("arrival_id")["amount"].sum()
        assert res.kpis["seller_revenue_unpaid"] == pytest.approx(unpaid, abs=0.01)
    assert all_.kpis["seller_revenue_unpaid"] < none.kpis["seller_revenue_unpaid"]
    # A new order paid the other way mostly goes through (a wallet fails only on mistyped
    # details, 20%; a card about half the time) when its buyer has stayed (about 4 in 5): fewer
    # than 60% of the visits end unpaid (measured: 0.36-0.52 over seed offsets 0-12).
    left, before = unpaid_visits(all_)["arrival_id"].nunique(), unpaid_visits(none)["arrival_id"].nunique()
    assert before > 50 and left < 0.6 * before


def test_unpaid_revenue_falls_even_when_new_orders_mostly_fail():
    # Mistyped details fail 70% of payments either way. Each visit can only gain from a second
    # chance, so the value of the visits left unpaid falls (measured at seed 7: 242 visits,
    # 3,378.33 USD, without new orders; 174 visits, 2,596.06 USD, with them, where the KPI says
    # 5,180.98 USD: 347 failed orders. Over seed offsets 0-12 the KPI rose 16-53%).
    runs = {
        share: simcore.run(
            quiet(
                {
                    "payment.incorrect_details_rate": 0.7,
                    "buyers.card_share": 0.5,
                    "buyers.trust.churn_share": 0.0,
                    "buyers.payment_failure_reorder_time": const(REORDER_H),
                    "buyers.payment_failure_reorder_share": share,
                }
            )
        )
        for share in (0.0, 1.0)
    }
    once = {s: unpaid_visits(r).drop_duplicates("arrival_id")["amount"].sum() for s, r in runs.items()}
    assert once[1.0] < 0.85 * once[0.0]  # the premise, by visit (measured 0.58-0.77)
    assert runs[1.0].kpis["seller_revenue_unpaid"] < runs[0.0].kpis["seller_revenue_unpaid"]


# --------------------------------------------------------------------------- fraud cost


#: The decline thresholds swept (``platform.fraud.decline_threshold``): the ends of the range,
#: just above the review threshold (0.35) and declining almost nothing outright, and one point
#: inside it. The interior point is 0.75, the cheapest by a scratch sweep of 0.45, 0.6, 0.75,
#: 0.9 and 0.99 over 40 replications at 150 days (mean cost 36,604, 36,003, 35,899, 36,278 and
#: 37,404 USD). 0.6 was as cheap (0.6 minus 0.75: 104, sd 298) but fails more often: its paired
#: difference to 0.45 has the heavier lower tail (min -1,015 against -451). Beating both ends at
#: one interior point shows the minimum lies strictly inside, as the argmin over three interior
#: points (0.6, 0.75, 0.9) did, with 24 runs instead of 40 (at the shipped seed that sweep's
#: argmin was 0.75 too, and it gave the same two bounds).
THRESHOLDS = (0.45, 0.75, 0.99)
#: The sweep's horizon and replications (the cool-down is derived, 90 days, and the warm-up 10,
#: so the KPI window is 50 days at a horizon of 150). The binding comparison is 0.75 against
#: 0.45: a mean paired difference of 704 USD, sd 427 (0.99 against 0.75: 1,505, sd 668). Its
#: lower tail is heavy (a replication in which a burst of fraud that 0.45 declines gets through
#: at 0.75 and is charged back), so the t-bound needs more replications than a normal model
#: says. Resampling the 40 measured, the test passes with 8 replications 99.2% of the time (6:
#: 95.2%; 10: 99.8%; the former 5-point sweep with 8: 99.0%), and it passes at seed offsets 0-8.
#: It can fail: with 0.75's costs shifted to be as dear as 0.45's on average (a minimum at the
#: end), the same resampling passes 3.3% of the time. 24 runs of about 3 CPU-seconds.
SWEEP_HORIZON_DAYS = 150
SWEEP_REPLICATIONS = 8


def fraud_cost(threshold: float, replication: int) -> float:
    """``fraud_cost_usd`` of the shipped fraud wave at ``threshold``, replication ``replication``."""
    overrides = {"horizon_days": SWEEP_HORIZON_DAYS, "platform.fraud.decline_threshold": threshold}
    return simcore.run(shipped("fraud_wave", overrides), replication=replication).kpis["fraud_cost_usd"]


@pytest.mark.slow
def test_fraud_cost_is_lowest_at_an_interior_decline_threshold():
    # Declining outright at a low score stops fraud before it ships but loses the margin on the
    # legitimate orders declined with it; declining only the surest (0.99) sends the rest to
    # the review, where the analysts miss a fifth of the fraud, which is charged back. The cost
    # (chargebacks and their fees, the margin on false declines, the analysts' fixed pay) is
    # lowest in between. Replication r runs under every threshold (common random numbers), so
    # each difference is paired: the best interior threshold must beat each end with the lower
    # one-sided 95% t-bound of its mean paired difference above 0.
    n = SWEEP_REPLICATIONS
    jobs = [(t, r) for r in range(n) for t in THRESHOLDS]
    cost = np.array(in_workers(fraud_cost, *zip(*jobs, strict=True))).reshape(n, len(THRESHOLDS))
    mean = cost.mean(axis=0)
    best = 1 + int(np.argmin(mean[1:-1]))
    t = stats.t.ppf(0.95, n - 1)
    for end in (0, len(THRESHOLDS) - 1):
        d = cost[:, end] - cost[:, best]
        lower = d.mean() - t * d.std(ddof=1) / math.sqrt(n)
        assert lower > 0.0, (THRESHOLDS[best], THRESHOLDS[end], d.round(2).tolist(), mean.round(2).tolist())
