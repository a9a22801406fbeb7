"""Compensation after a cancellation: a coupon to the buyer, trust recovered at a cost.

Interface (:class:`Compensation`): ``compensate(reason, amount)`` returns ``(usd, trust)``: the
coupon's value (USD, 0 for none) and the trust it gives back (0-1, taken off the trust the
cancellation costs the buyer, never more than that). The dispute desk
(:mod:`simcore.model.disputes`) asks once for every paid order of a legitimate buyer cancelled
by the seller or the system (the cancellations that cost the buyer's trust), with the stated
``reason`` (what the buyer is told) and the order's ``amount`` (USD). The coupon is the
platform's cost, recorded per order (``coupon_usd``) and summed in the ``compensation_usd`` KPI;
it is not the order's money (the ledger's identity does not hold it).

Built-in kinds: ``none`` (no compensation: the default) and ``coupon`` (params ``usd``, a fixed
value, plus ``share`` of the order's amount; ``trust``, the trust given back; ``reasons``, the
stated reasons it answers, every seller and system reason when unset).

Whether and how far a coupon restores trust is an assumption: the service-recovery literature
finds that compensation after a failure raises satisfaction, more the larger it is relative to
the loss (Smith, Bolton & Wagner 1999, J. Marketing Research 36(3)); no published figure sizes
it for a marketplace's cancellations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from simcore.policies.loading import build
from simcore.scenario.schema.policy import PolicySpec


class Compensation(Protocol):
    """What a compensation policy provides."""

    def compensate(self, reason: str, amount: float) -> tuple[float, float]:
        """(coupon USD, trust given back) for a cancellation for stated ``reason`` of an order
        of ``amount`` USD."""
        ...


class NoCompensation:
    """No coupon (``none``, the default): never asked."""

    none = True

    def compensate(self, reason: str, amount: float) -> tuple[float, float]:
        return 0.0, 0.0


class Coupon:
    """A coupon worth ``usd`` plus ``share`` of the order's amount, giving back ``trust``, for
    the stated ``reasons`` (all when None).

    Args:
        usd: Fixed value (USD, >= 0).
        share: Share of the order's amount added (>= 0).
        trust: Trust given back (0-1).
        reasons: Stated cancel reasons that earn a coupon; None: every one asked about.
    """

    none = False

    def __init__(
        self, usd: float = 0.0, share: float = 0.0, trust: float = 0.0, reasons: Sequence[str] | None = None
    ):
        self.usd, self.share, self.trust = float(usd), float(share), float(trust)
        self.reasons = None if reasons is None else frozenset(reasons)

    def compensate(self, reason: str, amount: float) -> tuple[float, float]:
        if self.reasons is not None and reason not in self.reasons:
            return 0.0, 0.0
        return round(self.usd + self.share * amount, 2), self.trust


def compensation(spec: PolicySpec) -> Compensation:
    """The policy ``platform.compensation`` names."""
    policy: Compensation = build(spec, {"none": NoCompensation, "coupon": Coupon})
    return policy
