"""Prices against costs: the exchange rate's drift and sellers' repricing."""

from __future__ import annotations

import numpy as np

from simcore.engine.proc import Proc
from simcore.engine.samplers import block_sampler
from simcore.model.context import RunContext
from simcore.model.inventory import Inventory


class Fx:
    """Listing-to-cost exchange rate (a geometric random walk in daily steps) and each seller's
    rate at their last repricing.

    A listing sells below cost when its margin, carried through the rate's drift since its
    seller last repriced, falls under ``-loss_tolerance`` (``simcore.model.sellers``).
    Stream: ``fx.walk`` (the daily steps).

    Args:
        ctx: The run context (``sellers.count``, ``sellers.pricing.fx_daily_volatility``).
    """

    def __init__(self, ctx: RunContext):
        self.env = ctx.env
        self.rate = 1.0
        self.ref: list[float] = [1.0] * ctx.scn.sellers.count
        self.volatility = ctx.scn.sellers.pricing.fx_daily_volatility
        self._normal = block_sampler(ctx.generator("fx.walk").standard_normal)

    def reprice(self, inv: Inventory, seller: int) -> None:
        """``seller`` re-sets the catalog's prices to today's exchange rate, fixing any typo."""
        self.ref[seller] = self.rate
        inv.reset_margins(seller)

    def walk(self) -> Proc[None]:
        """Process: the rate takes a lognormal step each day (mean 1)."""
        v, normal = self.volatility, self._normal
        while True:
            yield self.env.timeout(24.0)
            self.rate *= float(np.exp(v * normal() - v**2 / 2.0))
