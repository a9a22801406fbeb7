"""The fraud review queue's discipline: which waiting order an analyst takes next, and how long
an order may wait before it is let go.

Interface (:class:`ReviewQueue`): ``priority(score, hour)`` returns a number, lowest served
first (ties first come, first served), for an order entering the queue with risk ``score`` at
``hour``; ``time_limit_hours`` is None, or the hours after which an order still waiting leaves
the queue unreviewed, ``on_timeout`` saying what then: :data:`PASS` (cleared as if reviewed
and passed) or :data:`DECLINE` (cancelled ``fraud_suspected``). The referee
(:mod:`simcore.model.referee`) asks ``priority`` once per order sent to review.

Built-in kinds: ``fifo`` (first come, first served, no limit: the default), ``by_score`` (the
highest score first), ``time_limit`` (params ``hours``, ``on_timeout``, ``by_score``).
"""

from __future__ import annotations

from typing import Protocol

from simcore.policies.fraud import DECLINE, PASS
from simcore.policies.loading import build
from simcore.scenario.schema import FraudScreening

#: What an order that waited too long becomes.
TIMEOUT_ANSWERS = (PASS, DECLINE)


class ReviewQueue(Protocol):
    """What a review-queue discipline provides."""

    time_limit_hours: float | None
    on_timeout: str

    def priority(self, score: float, hour: float) -> float:
        """Lowest first: the order's place in the queue (ties: first come, first served)."""
        ...


class Fifo:
    """First come, first served, no time limit (``fifo``, the default)."""

    time_limit_hours: float | None = None
    on_timeout = PASS

    def priority(self, score: float, hour: float) -> float:
        return hour


class ByScore:
    """The riskiest order first (``by_score``), no time limit."""

    time_limit_hours: float | None = None
    on_timeout = PASS

    def priority(self, score: float, hour: float) -> float:
        return -score


class TimeLimit:
    """An order waiting ``hours`` leaves the queue unreviewed and is passed (``on_timeout:
    pass``) or declined (``decline``); served first come first served, or riskiest first
    (``by_score``)."""

    def __init__(self, hours: float, on_timeout: str = PASS, by_score: bool = False):
        if not hours > 0.0:
            raise ValueError(f"hours must be > 0 (got {hours})")
        if on_timeout not in TIMEOUT_ANSWERS:
            raise ValueError(f"on_timeout must be one of {', '.join(TIMEOUT_ANSWERS)} (got {on_timeout!r})")
        self.time_limit_hours: float | None = float(hours)
        self.on_timeout = on_timeout
        self.by_score = bool(by_score)

    def priority(self, score: float, hour: float) -> float:
        return -score if self.by_score else hour


def review_queue(cfg: FraudScreening) -> ReviewQueue:
    """The discipline ``platform.fraud.review_queue`` names."""
    builtins = {"fifo": Fifo, "by_score": ByScore, "time_limit": TimeLimit}
    policy: ReviewQueue = build(cfg.review_queue, builtins)
    return policy
