"""The buyer population: legitimate accounts and fraudsters' accounts, where they live, and
the devices they order from."""

from __future__ import annotations

from array import array

import numpy as np

from simcore.model.context import RunContext


class Population:
    """Buyer accounts: legitimate buyers ``0..n_legit-1``, then fraudulent accounts.

    Destinations are drawn by ``shipping.destinations`` weights. Fraudsters share devices in
    rings of ``ring_size`` (the "many orders from one IP/device" signal); legitimate buyers share
    one in groups of ``buyers.buyers_per_device`` (1: a device each). Stream:
    ``buyers.population``.
    """

    def __init__(self, ctx: RunContext):
        scn = ctx.scn
        b = scn.buyers
        rng = ctx.generator("buyers.population")
        n_legit, n_fraud = b.population, b.fraud.population
        n = n_legit + n_fraud
        weights = np.array([d.weight for d in scn.shipping.destinations.values()], dtype=float)
        self.n_legit = n_legit
        self.n_fraud = n_fraud
        dest = rng.choice(len(weights), size=n, p=weights / weights.sum())
        self.dest = array("h", dest.astype(np.int16).tobytes())
        verified = rng.random(n) < b.verified_share
        verified[n_legit:] = rng.random(n_fraud) < b.fraud.verified_share
        self.verified = bytearray(verified.astype(np.uint8).tobytes())  # 0/1 flags
        self.ring_size = b.fraud.ring_size
        self.per_device = b.buyers_per_device

    def device(self, buyer: int) -> int:
        """The device (or IP) ``buyer`` orders from: their own or their group's (legitimate
        buyers' ids below ``n_legit``), or their fraud ring's (from ``n_legit``)."""
        n = self.n_legit
        if buyer < n:
            return buyer if self.per_device == 1 else buyer // self.per_device
        return n + (buyer - n) // self.ring_size
