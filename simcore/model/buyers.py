"""The buyer population: legitimate accounts and fraudsters' accounts, where they live, and
the devices they order from."""

from __future__ import annotations

from array import array

import numpy as np

from simcore.model.context import RunContext


class Population:
    """Buyer accounts: legitimate buyers ``0..n_legit-1``, then fraudulent accounts.

    Destinations are drawn by ``shipping.destinations`` weights. Fraudsters share devices in
    rings of ``ring_size`` (the "many orders from one IP/device" signal); every legitimate buyer
    has a device of their own. Stream: ``buyers.population``.
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

    def device(self, buyer: int) -> int:
        """The device (or IP) ``buyer`` orders from: their own, or their fraud ring's."""
        n = self.n_legit
        return buyer if buyer < n else n + (buyer - n) // self.ring_size
