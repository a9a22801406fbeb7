"""The scenario schema: every key a scenario file may hold, its type, rule and default.

All defaults live here, one module per part of the scenario: ``buyers``; ``sellers`` (with
``shipping``); ``platform`` (with ``payment``); ``scenario`` (``refunds`` and the whole
:class:`Scenario`); ``common`` (bounded number types and the frozen base model); ``policy``
(a decision point's policy: a built-in kind or a researcher's ``module:Class``). A scenario file
is validated once, at the edge, into a frozen :class:`Scenario`; model code reads typed
attributes and never guesses a default. Probabilities are shares in [0, 1]; money is in US
dollars; times are distribution specs (see :mod:`simcore.scenario.distributions`) unless the key names
its unit (``_days``, ``_hours``).
"""

from simcore.scenario.schema.buyers import (
    ArrivalProfile,
    BuyerCancellation,
    Buyers,
    Fraudsters,
    Promotion,
    RatingAvoidance,
    Trust,
)
from simcore.scenario.schema.common import MAX_BDAYS, IntervalDays, LogOdds, NonNegFloat, PositiveFloat, Share
from simcore.scenario.schema.platform import (
    AddressConflict,
    CustomerService,
    DisputePropensity,
    Disputes,
    FraudDecisionSpec,
    FraudScreening,
    Gateway,
    Payment,
    Penalties,
    Platform,
    Prohibited,
    Ruling,
    SellerRating,
    Verification,
)
from simcore.scenario.schema.policy import PolicySpec
from simcore.scenario.schema.scenario import Refunds, Scenario
from simcore.scenario.schema.sellers import Destination, Pricing, Sellers, SellerStrategy, Shipping

__all__ = [
    "MAX_BDAYS",
    "AddressConflict",
    "ArrivalProfile",
    "BuyerCancellation",
    "Buyers",
    "CustomerService",
    "Destination",
    "DisputePropensity",
    "Disputes",
    "FraudDecisionSpec",
    "FraudScreening",
    "Fraudsters",
    "Gateway",
    "IntervalDays",
    "LogOdds",
    "NonNegFloat",
    "Payment",
    "Penalties",
    "Platform",
    "PolicySpec",
    "PositiveFloat",
    "Pricing",
    "Prohibited",
    "Promotion",
    "RatingAvoidance",
    "Refunds",
    "Ruling",
    "Scenario",
    "SellerRating",
    "SellerStrategy",
    "Sellers",
    "Share",
    "Shipping",
    "Trust",
    "Verification",
]
