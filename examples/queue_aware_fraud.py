"""A fraud decision that reviews more while the analysts have time (README, "Writing a policy").

Named in a scenario as ``queue_aware_fraud:QueueAwareThreshold`` (this file sits next to
``examples/queue_aware_fraud.yaml``, which is where simcore looks for it). It implements the
interface of :mod:`simcore.policies.fraud`: ``decide(score, queue, hour, amount, verified)``
returns ``"decline"``, ``"review"`` or ``"pass"``.
"""

from __future__ import annotations


class QueueAwareThreshold:
    """Decline at or above ``decline``; review at or above ``review``, or at or above the lower
    ``review_when_idle`` while at most ``idle_queue`` reviews are waiting; pass the rest.

    Args:
        decline: Scores at or above are declined (the baseline's 0.75).
        review: Scores at or above are reviewed whatever the queue (the baseline's 0.35).
        review_when_idle: The review line while the queue is short (<= ``review``).
        idle_queue: Reviews waiting (for this order's analysts) at or below which the queue
            counts as short.
    """

    def __init__(
        self, decline: float = 0.75, review: float = 0.35, review_when_idle: float = 0.2, idle_queue: int = 0
    ):
        if not 0.0 <= review_when_idle <= review <= decline <= 1.0:
            raise ValueError("need 0 <= review_when_idle <= review <= decline <= 1")
        self.decline, self.review, self.review_when_idle = decline, review, review_when_idle
        self.idle_queue = idle_queue

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        if score >= self.decline:
            return "decline"
        line = self.review_when_idle if queue <= self.idle_queue else self.review
        return "review" if score >= line else "pass"
