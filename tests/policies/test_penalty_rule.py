"""The penalty rule (simcore/policies/penalties.py) and the review that carries it out
(simcore/model/standing.py): exact traces on :class:`SellerStanding` with hand-made records,
for each built-in kind, the confidence test, the long window, reason lines and a researcher's
rule; then the baseline's fairness: no honest, reliable seller under the lines is suspended,
whatever its size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from simcore.errors import ScenarioError
from simcore.model.standing import SellerStanding
from simcore.policies.penalties import Counts, Rates, binomial_tail, penalty_rule
from simcore.scenario.schema import Penalties, SellerRating

DAY = 24.0
#: Lines of the traces: no test (bare rates) unless a trace sets one; two days of grace.
BASE = {
    "window_days": 30.0,
    "long_window_days": None,
    "min_orders": 20,
    "warn_cancel_rate": 0.04,
    "suspend_cancel_rate": 0.08,
    "warn_ruling_rate": 0.01,
    "suspend_ruling_rate": 0.02,
    "warn_rulings": 2,
    "suspend_rulings": 4,
    "grace_days": 2.0,
    "suspension_days": None,
    "confidence": None,
}


def standing(n_sellers: int = 2, **lines) -> SellerStanding:
    return SellerStanding(SellerRating(), Penalties.model_validate({**BASE, **lines}), n_sellers=n_sellers)


def record(st: SellerStanding, s: int, orders: int, rulings: int = 0, cancels=(), at: float = 1.0) -> None:
    """``orders`` cleared, ``rulings`` lost and ``cancels`` (reasons) for seller ``s``, all in the
    hour after ``at``."""
    for i in range(orders):
        st.order_cleared(s, at + 0.5 * i / max(orders, 1))
    for i in range(rulings):
        st.dispute_lost(s, at + 0.6 + 0.01 * i, ruled=True)
    for i, reason in enumerate(cancels):
        st.seller_cancelled(s, at + 0.7 + 0.01 * i, reason)


@pytest.mark.trace
def test_rates_hold_a_large_seller_to_the_small_ones_rate_where_counts_do_not():
    # Seller 0: 1,000 orders and 15 rulings (1.5%: over the warning line, under suspension);
    # seller 1: 40 orders, 1 ruling (2.5%: over both). Under rates seller 0 is warned and
    # never suspended, seller 1 suspended after the grace; under counts it is the reverse.
    for kind, suspended in (("rates", [1]), ("counts", [0])):
        st = standing(rule={"kind": kind})
        record(st, 0, 1000, rulings=15)
        record(st, 1, 40, rulings=1)
        assert st.review(1 * DAY) == []
        warned = sorted(s for _, s in st.warned_log)
        assert warned == ([0, 1] if kind == "rates" else [0])
        assert st.review(2 * DAY) == []
        assert st.review(3 * DAY) == suspended, kind
        assert [s for _, s in st.suspended_log] == suspended
        assert all(st.review(d * DAY) == [] for d in range(4, 10))


@pytest.mark.trace
def test_the_confidence_test_spares_a_count_that_is_likely_under_the_line():
    # 100 orders, 2 rulings: the bare rate (2%) is on the suspension line; P(X >= 2) under a 2%
    # line is 0.60 and under 1% 0.26, neither at most 0.1: not even warned at confidence 0.9.
    # 6 rulings: P(X >= 6 | 100, 0.02) = 0.016 <= 0.1: warned, then suspended.
    assert binom.sf(1, 100, 0.01) > 0.1 and binom.sf(5, 100, 0.02) < 0.1
    for rulings, suspended in ((2, []), (6, [0])):
        st = standing(n_sellers=1, confidence=0.9)
        record(st, 0, 100, rulings=rulings)
        for day in (1, 2):
            assert st.review(day * DAY) == []
        assert st.review(3 * DAY) == suspended
        assert len(st.warned_log) == (1 if suspended else 0)
    bare = standing(n_sellers=1)
    record(bare, 0, 100, rulings=2)
    bare.review(1 * DAY)
    assert bare.review(3 * DAY) == [0]


def _small_seller(st: SellerStanding, days: int) -> list[tuple[int, list[int]]]:
    """25 orders cleared 3.6 days apart (hours 1 + 86.4 i: days 0-86) and 3 out-of-stock
    cancellations (days 10, 40, 70), fed day by day with a review at each day's end: never 20
    orders in 30 days. Returns (day, suspended) for the reviews that suspended someone."""
    events = [(1.0 + i * 86.4, "cleared") for i in range(25)]
    events += [(day * DAY + 5.0, "cancelled") for day in (10, 40, 70)]
    events.sort()
    out = []
    for day in range(1, days):
        while events and events[0][0] < day * DAY:
            hour, what = events.pop(0)
            if what == "cleared":
                st.order_cleared(0, hour)
            else:
                st.seller_cancelled(0, hour, "out_of_stock")
        suspended = st.review(day * DAY)
        if suspended:
            out.append((day, suspended))
    return out


@pytest.mark.trace
def test_a_small_seller_is_judged_over_the_long_window():
    # Without a long window the seller is never judged. With 120 days: the 20th order is
    # cleared at hour 1 + 19 x 86.4 = 1,642.6 (day 68.4), when the long window holds 20 orders
    # and 2 cancellations (10%, over the 8% line): warned at the day-69 review, suspended at the
    # day-71 review (two days of grace).
    short = standing(n_sellers=1)
    assert _small_seller(short, 100) == [] and len(short.warned_log) == 0
    long = standing(n_sellers=1, long_window_days=120.0)
    assert _small_seller(long, 100) == [(71, [0])]
    assert list(long.warned_log) == [(69 * DAY, 0)]


@pytest.mark.trace
def test_reason_lines_judge_one_reason_on_its_own():
    # 100 orders, 3 out-of-stock cancellations: 3% overall, under the 4% line; the reason's own
    # lines (2%, 2.5%) suspend it. The same count of pricing errors is under every line.
    for reason, suspended in (("out_of_stock", [0]), ("pricing_error", [])):
        st = standing(n_sellers=1, reason_lines={"out_of_stock": {"warn": 0.02, "suspend": 0.025}})
        record(st, 0, 100, cancels=[reason] * 3)
        st.review(1 * DAY)
        assert st.review(3 * DAY) == suspended, reason


def test_the_binomial_tail_is_scipys():
    # The test's tail, written without scipy.stats (its import cost a run ~0.8 s), against it:
    # 2,000 random (x, n, p) and the edges, to 1e-10.
    rng = np.random.default_rng(1)
    cases = [(0, 10, 0.1), (11, 10, 0.5), (5, 5, 0.0), (3, 5, 1.0), (500, 1000, 0.4), (90, 8000, 0.01)]
    for _ in range(2000):
        n = int(rng.integers(1, 3000))
        cases.append((int(rng.integers(0, n + 2)), n, float(rng.random() * 0.3)))
    for x, n, p in cases:
        assert binomial_tail(x, n, p) == pytest.approx(binom.sf(x - 1, n, p), abs=1e-10), (x, n, p)


def test_judge_answers_as_levels_do():
    cfg = Penalties.model_validate(
        {**BASE, "reason_lines": {"pricing_error": {"warn": 0.01, "suspend": 0.03}}}
    )
    by_reason = {"out_of_stock": 0, "pricing_error": 0, "shipping_restriction": 0, "ship_deadline_missed": 0}
    rates, counts = Rates(cfg), Counts(cfg)
    assert rates.judge(100, 0, 0, by_reason) == "ok"
    assert rates.judge(100, 5, 0, by_reason) == "warn"  # 5% over 4%
    assert rates.judge(100, 8, 0, by_reason) == "suspend"
    assert rates.judge(19, 19, 19, by_reason) == "ok"  # under min_orders: not judged
    assert counts.judge(5, 0, 2, by_reason) == "warn"  # two rulings, whatever the volume
    assert counts.judge(5, 0, 4, by_reason) == "suspend"
    assert rates.judge(100, 2, 0, {**by_reason, "pricing_error": 2}) == "warn"
    assert isinstance(penalty_rule(cfg), Rates)


def test_the_lines_are_validated():
    with pytest.raises(ValueError, match="suspend_ruling_rate"):
        Penalties.model_validate({"warn_ruling_rate": 0.05, "suspend_ruling_rate": 0.01})
    with pytest.raises(ValueError, match="reason_lines"):
        Penalties.model_validate({"reason_lines": {"change_of_mind": {"warn": 0.1, "suspend": 0.2}}})
    with pytest.raises(ValueError, match="must be >= warn"):
        Penalties.model_validate({"reason_lines": {"out_of_stock": {"warn": 0.1, "suspend": 0.05}}})


# ---------------------------------------------------------------- a researcher's rule

SAMPLE = "tests.policies.sample_policies"


@pytest.mark.trace
def test_a_researchers_rule_is_asked_about_every_seller():
    st = standing(n_sellers=3, rule={"kind": f"{SAMPLE}:VolumeBlind", "params": {"floor": 10}})
    record(st, 0, 10, rulings=2)
    record(st, 1, 10, rulings=1)
    record(st, 2, 9, rulings=5)  # under its floor
    assert st.review(1 * DAY) == []
    assert sorted(s for _, s in st.warned_log) == [0, 1]
    assert st.review(3 * DAY) == [0]


@pytest.mark.parametrize(
    ("cls", "message"), [("Lenient", "answered 'fine'"), ("Crashing", "raised RuntimeError: boom")]
)
def test_a_rule_that_answers_wrong_or_raises_is_a_scenario_error(cls, message):
    st = standing(n_sellers=1, rule={"kind": f"{SAMPLE}:{cls}"})
    record(st, 0, 5)
    with pytest.raises(ScenarioError, match=message):
        st.review(1 * DAY)


# ---------------------------------------------------------------- the baseline


def test_honest_reliable_sellers_under_the_lines_are_not_suspended_whatever_their_size(baseline_result):
    # Issue 19's case: the largest seller (honest, reliable, under the lines) was suspended when
    # rulings were counted. Under rates it is not, and honest, reliable sellers whose whole-run
    # rates are under the warning lines are suspended only after a window truly past a line (a
    # stock-out run: at writing 1 of 283, 6 out-of-stocks in 30 days of ~40 orders after Chinese
    # New Year, P = 0.06 under the 8% line), at most 1%, the largest quarter no more than the rest.
    s = baseline_result.sellers
    p = baseline_result.scenario.platform.penalties
    honest = s[~s["dishonest"] & ~s["unreliable"]]
    cleared = honest["cleared"].clip(lower=1)
    under = honest[
        (honest["seller_cancellations"] / cleared < p.warn_cancel_rate)
        & (honest["responsibility_rulings"] / cleared < p.warn_ruling_rate)
    ]
    assert len(under) > 250  # most sellers: the check has something to hold
    suspended = under["suspensions"] > 0
    assert suspended.mean() <= 0.01, under[suspended]
    top = under["size_quartile"] == 4
    assert suspended[top].sum() <= max(1, suspended[~top].sum())
    largest = s.loc[s["orders"].idxmax()]
    assert largest["suspensions"] == 0 and largest["size_quartile"] == 4


def test_the_sellers_frame_has_size_quartiles(baseline_result):
    s = baseline_result.sellers
    assert sorted(s["size_quartile"].unique()) == [1, 2, 3, 4]
    assert s.groupby("size_quartile").size().tolist() == [len(s) // 4] * 4  # 400 sellers
    means = s.groupby("size_quartile")["orders"].mean()
    assert means.is_monotonic_increasing


def test_the_schemas_seller_reasons_are_the_models():
    # The scenario layer cannot import the model's vocabulary: its list is a copy, held equal here.
    from typing import get_args

    from simcore.model.vocabulary import SELLER_RESPONSIBLE
    from simcore.scenario.schema.platform import SellerReason

    assert set(get_args(SellerReason)) == set(SELLER_RESPONSIBLE)
