"""Listing visibility: which listings the platform shows a buyer, by the buyer's destination.

Interface (:class:`Visibility`): ``hidden(blocked, destinations)`` returns a boolean array of
the shape of ``blocked``, sellers by destinations, True where the seller's listings are hidden
from buyers shipping to that destination. ``blocked`` is what the sellers' shipping templates
say (``blocked[s, d]``: seller ``s`` does not ship to destination ``d``:
``shipping.blocked_route_share``), ``destinations`` the destinations' names in the scenario's
order. Asked once, when the run starts; a buyer looking at a hidden listing passes on to the
next candidate, as past one out of stock (a lost sale when none is left).

Built-in kinds: ``show_all`` (every listing shown everywhere; the seller cancels an order it
cannot ship, ``shipping_restriction``: the default) and ``hide_unshippable`` (a seller's
listings hidden where it does not ship).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from simcore.policies.loading import build
from simcore.scenario.schema.policy import PolicySpec


class Visibility(Protocol):
    """What a listing-visibility policy provides."""

    def hidden(self, blocked: np.ndarray, destinations: Sequence[str]) -> np.ndarray:
        """Sellers by destinations, True where the seller's listings are hidden."""
        ...


class ShowAll:
    """Every listing shown to every buyer (``show_all``, the default): never asked."""

    show_all = True

    def hidden(self, blocked: np.ndarray, destinations: Sequence[str]) -> np.ndarray:
        return np.zeros_like(blocked, dtype=bool)


class HideUnshippable:
    """A seller's listings hidden from buyers in the destinations it does not ship to
    (``hide_unshippable``)."""

    show_all = False

    def hidden(self, blocked: np.ndarray, destinations: Sequence[str]) -> np.ndarray:
        return blocked.astype(bool, copy=True)


def visibility(spec: PolicySpec) -> Visibility:
    """The policy ``platform.listing_visibility`` names."""
    policy: Visibility = build(spec, {"show_all": ShowAll, "hide_unshippable": HideUnshippable})
    return policy
