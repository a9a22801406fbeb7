"""The penalty rule: what the platform makes of a seller's record over its rolling window.

Interface (:class:`PenaltyRule`): ``judge(orders, cancellations, rulings, by_reason)`` returns
:data:`OK`, :data:`WARN` (past a warning line) or :data:`SUSPEND` (past a suspension line).
The platform's review (:mod:`simcore.model.standing`) asks about every seller it reviews and
carries the answer out: a seller judged past a line is warned if it was not; a warned seller
judged :data:`SUSPEND` at least ``grace_days`` after its warning is suspended; a warning lapses
after a clean window. The record, over ``platform.penalties.window_days``:

- ``orders``: orders cleared for the seller (the denominator of every rate);
- ``cancellations``: cancellations the seller was responsible for (``SELLER_RESPONSIBLE``);
- ``rulings``: disputes ruled against the seller;
- ``by_reason``: ``cancellations`` by reason (``out_of_stock``, ``pricing_error``,
  ``shipping_restriction``, ``ship_deadline_missed``).

A rule may also offer ``levels(orders, cancellations, rulings, by_reason)`` on arrays over all
sellers (``by_reason``: reason to array), answering 0 (ok), 1 (warn) or 2 (suspend) per seller
as ``judge`` would: the review then judges every seller at once rather than one call per
seller (the built-in kinds do; a researcher's class need not).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from simcore.policies.loading import build
from simcore.scenario.schema import Penalties

OK, WARN, SUSPEND = "ok", "warn", "suspend"
#: The answers, by level (0, 1, 2).
LEVELS = (OK, WARN, SUSPEND)


class PenaltyRule(Protocol):
    """What a penalty rule provides."""

    def judge(self, orders: int, cancellations: int, rulings: int, by_reason: Mapping[str, int]) -> str:
        """:data:`OK`, :data:`WARN` or :data:`SUSPEND` for a seller's record over the window."""
        ...


class _Lines:
    """The section's lines: :meth:`levels` is the rule, :meth:`judge` its one-seller form."""

    def __init__(self, cfg: Penalties):
        self.cfg = cfg
        self.reasons = {r: (lines.warn, lines.suspend) for r, lines in cfg.reason_lines.items()}

    def _over(self, judged: np.ndarray, count: np.ndarray, orders: np.ndarray, line: float) -> np.ndarray:
        """Sellers whose ``count`` per order is at or past ``line`` (those judged)."""
        return judged & (count >= line * np.maximum(orders, 1))

    def _rulings(
        self, judged: np.ndarray, rulings: np.ndarray, orders: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(past the warning line, past the suspension line) on rulings, per seller."""
        raise NotImplementedError

    def levels(
        self,
        orders: np.ndarray,
        cancellations: np.ndarray,
        rulings: np.ndarray,
        by_reason: Mapping[str, np.ndarray],
    ) -> np.ndarray:
        """0, 1 or 2 (ok, warn, suspend) per seller."""
        cfg, over = self.cfg, self._over
        judged = orders >= cfg.min_orders  # under min_orders a seller is not judged on a rate
        warn = over(judged, cancellations, orders, cfg.warn_cancel_rate)
        suspend = over(judged, cancellations, orders, cfg.suspend_cancel_rate)
        for reason, (w, s) in self.reasons.items():
            warn |= over(judged, by_reason[reason], orders, w)
            suspend |= over(judged, by_reason[reason], orders, s)
        ruling_warn, ruling_suspend = self._rulings(judged, rulings, orders)
        warn |= ruling_warn
        suspend |= ruling_suspend
        return np.where(suspend, 2, np.where(warn, 1, 0)).astype(np.int8)

    def judge(self, orders: int, cancellations: int, rulings: int, by_reason: Mapping[str, int]) -> str:
        level = self.levels(
            np.array([orders]),
            np.array([cancellations]),
            np.array([rulings]),
            {r: np.array([by_reason[r]]) for r in self.reasons},
        )[0]
        return LEVELS[level]


class Rates(_Lines):
    """The default kind (``rates``): every line a rate per order cleared in the window, judged
    once the seller has ``min_orders`` orders there: seller-responsible cancellations against
    ``warn_cancel_rate`` / ``suspend_cancel_rate``, rulings against ``warn_ruling_rate`` /
    ``suspend_ruling_rate``, and the ``reason_lines``. A large seller is held to the same
    rates as a small one.

    With ``confidence`` set, a seller is past a line only when its count is unlikely under the
    line: a one-sided binomial test, P(X >= count | orders, line) <= 1 - confidence. A seller
    whose true rate is under a line is then flagged by chance with at most that probability at
    a review, whatever its volume, where the bare rate flags a seller of 30 orders at a 3% rate
    past an 8% line one review in thirteen (three cancellations)."""

    def _over(self, judged: np.ndarray, count: np.ndarray, orders: np.ndarray, line: float) -> np.ndarray:
        past = super()._over(judged, count, orders, line)
        confidence = self.cfg.confidence
        if confidence is None:
            return past
        # Only the few sellers past the line by their rate are tested (a review's handful).
        for s in np.flatnonzero(past).tolist():
            past[s] = binomial_tail(int(count[s]), int(orders[s]), line) <= 1.0 - confidence
        return past

    def _rulings(
        self, judged: np.ndarray, rulings: np.ndarray, orders: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        over = self._over
        return over(judged, rulings, orders, cfg.warn_ruling_rate), over(
            judged, rulings, orders, cfg.suspend_ruling_rate
        )


class Counts(_Lines):
    """The rule before issue 19 (``counts``): cancellation lines as rates (from ``min_orders``),
    rulings as raw counts whatever the seller's volume (``warn_rulings``, ``suspend_rulings``):
    a seller selling ten times more reaches the count ten times sooner at the same quality."""

    def _rulings(
        self, judged: np.ndarray, rulings: np.ndarray, orders: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        return rulings >= cfg.warn_rulings, rulings >= cfg.suspend_rulings


def penalty_rule(cfg: Penalties) -> PenaltyRule:
    """The policy ``platform.penalties.rule`` names (the built-in kinds read the section's lines)."""
    builtins = {"rates": lambda: Rates(cfg), "counts": lambda: Counts(cfg)}
    rule: PenaltyRule = build(cfg.rule, builtins)
    return rule


def binomial_tail(x: int, n: int, p: float) -> float:
    """P(X >= ``x``) for X ~ Binomial(``n``, ``p``): the shorter side's probability masses, the
    first in log space (``math.lgamma``), each next by the ratio of neighbours, summed outward
    from ``x`` until the terms no longer count (under 1e-17 of the sum: they only shrink). Exact
    to ~1e-12 against scipy, where importing ``scipy.stats`` for it cost a run ~0.8 s
    (scipy.special ~0.3 s), and a lgamma per term cost the daily review of a large market ~4%
    of a run (a seller with 1,000 orders in the long window summed 1,000 terms)."""
    if x <= 0:
        return 1.0
    if x > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    odds = p / (1.0 - p)
    upper = x > n * p  # past the mean the upper tail is the shorter side: sum it; else 1 - the lower
    k = x if upper else x - 1
    term = math.exp(
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q
    )
    total = 0.0
    if upper:  # k = x, x + 1, ..., n: each next term x (n - k) / (k + 1) x odds
        while term > 0.0 and term >= 1e-17 * total:
            total += term
            if k == n:
                break
            term *= (n - k) / (k + 1) * odds
            k += 1
        return min(1.0, total)
    while term > 0.0 and term >= 1e-17 * total:  # k = x - 1, x - 2, ..., 0: x k / (n - k + 1) / odds
        total += term
        if k == 0:
            break
        term *= k / (n - k + 1) / odds
        k -= 1
    return max(0.0, 1.0 - total)
