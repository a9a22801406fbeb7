"""The fraud decision: what the platform does with a paid order's risk score.

Interface (:class:`FraudDecision`): ``decide(score, queue, hour, amount, verified)`` returns
:data:`DECLINE` (cancel as ``fraud_suspected``), :data:`REVIEW` (to an analyst's queue) or
:data:`PASS`. The referee (:mod:`simcore.model.referee`) asks once for every order it scores:

- ``score``: the risk score in (0, 1) (``platform.fraud``: signals, weights, noise);
- ``queue``: reviews waiting now for the analysts who would take this order (not those in
  review);
- ``hour``: the clock's hour (hours since the scenario's ``start``);
- ``amount``: the order's amount (USD);
- ``verified``: whether the buyer's account passed identity checks.

A policy is called on every order: keep ``decide`` cheap (the built-in's call adds ~0.9% to a
run's instructions; benchmarks/README.md).
"""

from __future__ import annotations

from typing import Protocol

from simcore.policies.loading import build
from simcore.scenario.schema import FraudScreening

DECLINE, REVIEW, PASS = "decline", "review", "pass"
DECISIONS = (DECLINE, REVIEW, PASS)


class FraudDecision(Protocol):
    """What a fraud-decision policy provides."""

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        """:data:`DECLINE`, :data:`REVIEW` or :data:`PASS` for an order scored ``score``."""
        ...


class Threshold:
    """The default kind (``threshold``): decline at or above ``decline_threshold``, review at
    or above ``review_threshold``, pass the rest (``platform.fraud``'s two thresholds)."""

    def __init__(self, decline_threshold: float, review_threshold: float):
        self.decline_threshold = decline_threshold
        self.review_threshold = review_threshold

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        if score >= self.decline_threshold:
            return DECLINE
        if score >= self.review_threshold:
            return REVIEW
        return PASS


def fraud_decision(cfg: FraudScreening) -> FraudDecision:
    """The policy ``platform.fraud.decision`` names (the built-in kinds read the section's
    thresholds)."""
    builtins = {"threshold": lambda: Threshold(cfg.decline_threshold, cfg.review_threshold)}
    policy: FraudDecision = build(cfg.decision, builtins)
    return policy
