"""The platform's timelines (issue 18, item 7): auto-confirmation caps the buyer's confirmation,
and a buyer's patience with a refund is the platform's own promise unless set."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import simcore
from simcore.scenario.timelines import QUANTILE, paths
from tests.conftest import quiet, shipped

SLOW_BUYERS = {"buyers.confirm_time": {"dist": "exponential", "mean": 10.0, "unit": "days"}}


def _confirmations(res: simcore.RunResult) -> pd.DataFrame:
    """Each completion that followed a delivery without a dispute: days from delivery, and who
    completed it."""
    o = res.orders
    done = o[o["status"].eq("completed") & o["delivered_at"].notna() & o["dispute_reason"].isna()]
    ev = res.events
    who = ev[ev["activity"].eq("completed")].set_index("order_id")["actor"]
    return pd.DataFrame(
        {
            "days": (done["completed_at"] - done["delivered_at"]).dt.total_seconds() / 86400.0,
            "actor": who.reindex(done["order_id"]).to_numpy(),
        }
    )


def test_the_platform_confirms_what_the_buyer_has_not_after_auto_confirm_days():
    # Buyers taking 10 days on average: with auto-confirmation at 7 days, exp(-0.7) = 50% of
    # deliveries are confirmed by the platform, exactly 7 days after delivery, and none later.
    res = simcore.run(quiet({**SLOW_BUYERS, "platform.auto_confirm_days": 7}))
    c = _confirmations(res)
    assert len(c) > 200
    assert c["days"].max() <= 7.0 + 1e-6
    by_platform = c["actor"].eq("platform")
    assert c.loc[by_platform, "days"].sub(7.0).abs().max() < 1e-6
    # Binomial: n > 200, p = 0.497; 4 standard errors is under 0.15.
    assert by_platform.mean() == pytest.approx(0.497, abs=0.15)


def test_without_auto_confirmation_in_reach_every_buyer_confirms_in_their_own_time():
    res = simcore.run(quiet({**SLOW_BUYERS, "platform.auto_confirm_days": 10_000}))
    c = _confirmations(res)
    assert c["actor"].eq("buyer").all()
    assert c["days"].max() > 7.0


def test_the_cool_down_reads_the_capped_confirmation():
    capped = paths(quiet({**SLOW_BUYERS, "platform.auto_confirm_days": 7}))
    uncapped = paths(quiet({**SLOW_BUYERS, "platform.auto_confirm_days": 10_000}))
    delivered = capped["delivery and confirmation"] - 7 * 24.0
    assert uncapped["delivery and confirmation"] - delivered == pytest.approx(
        -10 * 24.0 * math.log(1 - QUANTILE)
    )


def test_refund_patience_is_the_platforms_promise_unless_set():
    # AliExpress promises 3-20 business days (triangular, mode 7): the 99th percentile is 18.5.
    scn = shipped("baseline")
    promise = scn.refunds.card_delay_bdays.quantile_in_unit(QUANTILE)
    assert scn.refund_patience_bdays == pytest.approx(promise)
    assert 18.0 < promise < 20.0
    # The newer 1-10 day figure moves the patience with it.
    fast = shipped("fast_refunds")
    assert fast.refund_patience_bdays == pytest.approx(
        fast.refunds.card_delay_bdays.quantile_in_unit(QUANTILE)
    )
    assert fast.refund_patience_bdays < 10.0
    # Set, it is kept.
    assert (
        shipped("baseline", {"buyers.trust.refund_patience_bdays": 12}).buyers.trust.refund_patience_bdays
        == 12
    )


def test_the_run_report_shows_the_promise_as_the_patience_when_unset(tmp_path):
    # The shipped baseline leaves the patience unset: the report's settings and refund figure
    # give the promise it stands for, not "None".
    from analysis import write_report

    res = simcore.run(quiet({"buyers.trust.refund_patience_bdays": None}))
    assert res.scenario.buyers.trust.refund_patience_bdays is None
    simcore.write_outputs(res, tmp_path / "run")
    write_report(tmp_path / "run", tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    promise = res.scenario.refund_patience_bdays
    assert f"{promise:.3g} (unset: the promise)" in text
    assert f"patience ({promise:.3g} business days)" in text  # the refund figure's caption
