"""Sellers' traits, drawn once at the start: blocked routes, honesty, reliability, speed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.model.context import RunContext


@dataclass(frozen=True, kw_only=True)
class SellerTraits:
    """What sets each seller apart for the whole run (lists indexed by seller id).

    Attributes:
        blocked: ``blocked[s][d]``: seller ``s`` cannot ship to destination ``d``.
        dishonest: Covers a pricing error with an "out of stock" claim, accepts fewer claims.
        unreliable: Neglects a further ``unreliable_neglect_share`` of its orders.
        neglect_p: Chance each order of the seller is neglected (it then misses the deadline).
        speed: Handling-time factor (lognormal, mean 1, sd ``handling_speed_sd``).
    """

    blocked: list[list[bool]]
    dishonest: list[bool]
    unreliable: list[bool]
    neglect_p: list[float]
    speed: list[float]

    @classmethod
    def draw(cls, ctx: RunContext) -> SellerTraits:
        """Draw every seller's traits from stream ``sellers.traits``."""
        scn = ctx.scn
        s = scn.sellers
        rng = ctx.generator("sellers.traits")
        # The draws' order is part of the stream: blocked routes, honesty, reliability, speed.
        blocked = rng.random((s.count, len(scn.shipping.destinations))) < scn.shipping.blocked_route_share
        dishonest = rng.random(s.count) < s.dishonest_share
        unreliable = rng.random(s.count) < s.unreliable_share
        neglect_p = s.neglect_share + np.where(unreliable, s.unreliable_neglect_share, 0.0)
        sigma = np.sqrt(np.log1p(s.handling_speed_sd**2))
        speed = rng.lognormal(-(sigma**2) / 2.0, sigma, s.count)
        return cls(
            blocked=blocked.tolist(),
            dishonest=dishonest.tolist(),
            unreliable=unreliable.tolist(),
            neglect_p=neglect_p.tolist(),
            speed=speed.tolist(),
        )
