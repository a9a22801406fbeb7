"""Prices against costs: the exchange rate's drift, suppliers' cost rises, price typos, and
sellers' repricing.

A listing's price is set in the listing currency at the seller's target margin over cost. The
margin a sale earns is that margin carried through what has moved since the seller last
repriced: the exchange rate (one for the market, a geometric random walk), the seller's
supplier costs (rises now and then), and a typo in the listing (it then sells at
``sellers.pricing.typo_margin``). A repricing restores the target margin at
today's rate and costs and fixes any typo, so no listing stays below cost for good.
"""

from __future__ import annotations

import math

import numpy as np

from simcore.engine.proc import Proc
from simcore.engine.samplers import block_sampler
from simcore.model.context import RunContext
from simcore.model.inventory import Inventory
from simcore.model.vocabulary import PRICING_CAUSE


class Costs:
    """The exchange rates and each seller's supplier cost index, now and at the seller's last
    repricing.

    Streams: ``fx.walk`` (the rate's daily steps), ``sellers.supplier_costs`` (when a supplier
    raises costs, whose, by how much), ``sellers.typos`` (when a listing gets a typo, which).
    All three are time processes: the same under every strategy that leaves them alone.

    Args:
        ctx: The run context (``sellers.count``, ``sellers.pricing``).
        inventory: The listings (their margins).
    """

    def __init__(self, ctx: RunContext, *, inventory: Inventory):
        p = ctx.scn.sellers.pricing
        n = ctx.scn.sellers.count
        self.env = ctx.env
        self.inv = inventory
        # One rate per currency sellers buy in (sellers.pricing.fx_currencies; seller s buys in
        # currency s mod their count), each its own walk.
        n_fx = p.fx_currencies
        self.rates: list[float] = [1.0] * n_fx
        self.currency = [s % n_fx for s in range(n)]
        self.ref: list[float] = [1.0] * n  # the rate at each seller's last repricing
        self.cost: list[float] = [1.0] * n  # each seller's supplier cost index
        self.cost_ref: list[float] = [1.0] * n  # ... at its last repricing
        self.volatility = p.fx_daily_volatility
        self._normal = block_sampler(ctx.generator("fx.walk").standard_normal)
        self._supplier = ctx.generator("sellers.supplier_costs")
        self._typos = ctx.generator("sellers.typos")
        self.supplier_rate_h = n * p.supplier_increases_per_year / (365.0 * 24.0)  # rises an hour
        self.rise_mean = p.supplier_increase_mean
        self.typo_rate_h = inventory.n_skus * p.typos_per_listing_year / (365.0 * 24.0)

    def profit(self, sku: int, seller: int) -> float:
        """The margin (a share of cost) a sale of ``sku`` earns now."""
        drift = (
            self.rates[self.currency[seller]] / self.ref[seller] * self.cost_ref[seller] / self.cost[seller]
        )
        return (1.0 + self.inv.margin[sku]) * drift - 1.0

    def cause(self, sku: int, seller: int) -> int:
        """Why a sale of ``sku`` is at a loss (a ``PRICING_CAUSE`` code): a typo, else whichever
        of the exchange rate's fall and the supplier's rises since the last repricing eroded the
        margin more."""
        if self.inv.margin[sku] < 0.0:
            return PRICING_CAUSE["typo"]
        fx = math.log(self.ref[seller] / self.rates[self.currency[seller]])
        supplier = math.log(self.cost[seller] / self.cost_ref[seller])
        return PRICING_CAUSE["exchange_rate" if fx >= supplier else "supplier_cost"]

    def reprice(self, seller: int) -> None:
        """``seller`` re-sets the catalog's prices to today's rate and costs, fixing any typo."""
        self.ref[seller] = self.rates[self.currency[seller]]
        self.cost_ref[seller] = self.cost[seller]
        self.inv.reset_margins(seller)

    @property
    def rate(self) -> float:
        """The first currency's exchange rate (the only one unless ``fx_currencies`` > 1)."""
        return self.rates[0]

    def walk(self) -> Proc[None]:
        """Process: each currency's rate takes a lognormal step each day (mean 1), independent
        of the others' (the day's normals in currency order)."""
        v, normal, rates = self.volatility, self._normal, self.rates
        while True:
            yield self.env.timeout(24.0)
            for c in range(len(rates)):
                rates[c] *= float(np.exp(v * normal() - v**2 / 2.0))

    def supplier_rises(self) -> Proc[None]:
        """Process: now and then a seller's supplier raises its costs (Poisson, exponential
        sizes)."""
        if self.supplier_rate_h <= 0.0:
            return
        rng, n = self._supplier, len(self.cost)
        while True:
            yield self.env.timeout(rng.exponential(1.0 / self.supplier_rate_h))
            seller = int(rng.integers(n))
            self.cost[seller] *= 1.0 + rng.exponential(self.rise_mean)

    def typos(self) -> Proc[None]:
        """Process: now and then a seller's edit leaves a listing with a price typo (Poisson)."""
        if self.typo_rate_h <= 0.0:
            return
        rng, n = self._typos, self.inv.n_skus
        while True:
            yield self.env.timeout(rng.exponential(1.0 / self.typo_rate_h))
            self.inv.typo(int(rng.integers(n)))
