"""Market scale: the scenario as the model runs it, with its top-level ``scale`` applied.

A scenario states its market at scale 1; ``scale: k`` runs a market k times as large with the
same per-buyer, per-seller and per-listing behaviour (issue 16: raising ``orders_per_hour``
alone turned 19% of visits into lost sales and queued the one fraud analyst without bound).
:func:`at_scale` multiplies, by k:

- demand: ``buyers.orders_per_hour`` (so each buyer orders as often as at scale 1);
- the buyer populations: ``buyers.population`` and ``buyers.fraud.population`` (rounded; fraud
  rings keep their ``ring_size``, so there are k times as many rings);
- ``sellers.count`` (and so listings; each seller keeps ``skus_per_seller``);
- the staff that serve them: ``payment.gateway.servers``, ``platform.fraud.analysts`` and
  ``platform.customer_service.agents`` (rounded half up, at least 1), so each queue's
  utilisation holds.

At scale k >= 1 the market runs as ``copies(k)`` = floor(k) copies of itself. Sellers' popularity
follows (:class:`simcore.model.inventory.Inventory`): the sellers share the scale-1 popularity
ranks k to a rank, and each copy holds one seller of each rank, so each listing's demand, and so
its stock policy, is what it is at scale 1. Each staffed desk works as one team per copy, serving
its copy's sellers' orders (:func:`simcore.engine.station.teams`): one pooled queue of k times
the staff would wait far less at the same utilisation (Erlang C; measured at scale 4: the fraud
review's mean wait 0.015 h against 0.22 h), and scale is meant to change the market's size, not
how its platform is organised; set the staff keys for that. Integer scales are exact copies;
others round the counts. Everything else is a rate, share or duration and does not change with
the market's size.

The scenario object keeps its scale-1 values and ``scale``: what a run writes back
(``scenario.yaml``) re-runs as given. Only the model (and estimates of a run's size) read the
scaled copy, made once per run.
"""

from __future__ import annotations

import math

from simcore.scenario.schema import Scenario


def count_at_scale(n: int, k: float) -> int:
    """``n`` x ``k`` rounded half up, at least 1 (every count scaled is a population or staff
    >= 1; half up, not Python's half-to-even, so 1 analyst at scale 2.5 is 3, not 2)."""
    try:
        return max(1, math.floor(n * k + 0.5))
    except OverflowError:  # a count past 1e308 (the schema bounds counts only from below)
        return n * math.ceil(k)


def copies(scale: float) -> int:
    """Copies of the scale-1 market a market at ``scale`` runs as: floor(scale), at least 1."""
    return max(1, math.floor(scale))


def at_scale(scn: Scenario) -> Scenario:
    """The scenario with its market scaled by ``scn.scale`` (itself when the scale is 1).

    The result keeps ``scale`` (the model reads it to spread seller popularity) and must not be
    scaled again: it is what one run simulates, not a scenario to hand on.
    """
    k = scn.scale
    if k == 1.0:
        return scn
    b, p, pf = scn.buyers, scn.payment, scn.platform
    return scn.model_copy(
        update={
            "buyers": b.model_copy(
                update={
                    "orders_per_hour": b.orders_per_hour * k,
                    "population": count_at_scale(b.population, k),
                    "fraud": b.fraud.model_copy(update={"population": count_at_scale(b.fraud.population, k)}),
                }
            ),
            "sellers": scn.sellers.model_copy(update={"count": count_at_scale(scn.sellers.count, k)}),
            "payment": p.model_copy(
                update={
                    "gateway": p.gateway.model_copy(update={"servers": count_at_scale(p.gateway.servers, k)})
                }
            ),
            "platform": pf.model_copy(
                update={
                    "fraud": pf.fraud.model_copy(update={"analysts": count_at_scale(pf.fraud.analysts, k)}),
                    "customer_service": pf.customer_service.model_copy(
                        update={"agents": count_at_scale(pf.customer_service.agents, k)}
                    ),
                }
            ),
        }
    )
