"""Stock-record errors: how often each SKU's record goes wrong, derived from the long-run record
accuracy a scenario asks for.

A record is accurate while no error has touched it since the seller last counted the SKU. With
errors arriving at ``lam`` a day and counts every ``T`` days, a record last counted ``a`` days ago
is accurate with probability ``exp(-lam a)``; the age of a record at a random hour is uniform on
``[0, T)``, so the long-run share of accurate records is ``g(lam T) = (1 - exp(-lam T)) / (lam T)``.

Errors come two ways (DeHoratius & Raman 2008: records err in both directions; inaccuracy rises
with sales volume): with transactions (a pick or a receipt mis-keyed, probability ``p`` each) and
over time (stock misplaced, a listing mis-keyed: ``drift`` a day). Unrecorded losses (shrink) make
records wrong too, by changing the shelf. For SKU ``i`` of seller ``s`` with ``t_i`` transactions
and ``loss_i`` losses a day, the error rate is

    lam_i = loss_i + k_s ((1 - tau) + tau t_i / mean(t)),

``tau`` the share of errors made with transactions. :func:`derive_rates` solves ``k_s`` so that
the mean of ``g(lam_i T)`` over the seller's SKUs is the seller's target accuracy, under the
reference count interval ``T``. A strategy that counts more often than ``T`` then keeps records
more accurate than the target, one that counts less often less accurate. The derivation ignores
the corrections a seller makes on finding a shelf short and errors that cancel out: both raise
the measured accuracy a little above the target (tests/model/test_stock.py measures by how much).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Bisection steps on log k: the bracket spans 1e-7 to 1e4 errors per count interval, and 44
#: halvings of its 25 natural-log units leave k within a relative 2e-12 (a seller's accuracy
#: within ~1e-12 of its target). Each step is an exp over every SKU: 1.8 million at a million
#: orders, where 60 steps took 4 of the 5 seconds of the build.
_STEPS = 44


def accuracy_share(errors_per_interval: np.ndarray) -> np.ndarray:
    """``g(x) = (1 - exp(-x)) / x``: the long-run share of accurate records when errors arrive at
    ``x`` per count interval (``g(0) = 1``)."""
    x = np.asarray(errors_per_interval, dtype=float)
    small = x < 1e-9
    return np.where(small, 1.0 - x / 2.0, -np.expm1(-x) / np.where(small, 1.0, x))


@dataclass(frozen=True)
class ErrorRates:
    """Per-seller and per-SKU record-error rates (see the module's text).

    Attributes:
        pick_p: Per seller: probability that a pick or a receipt mis-keys the record.
        drift_per_day: Per SKU: record errors a day arising with time, not transactions.
        total_per_day: Per SKU: all record errors a day, shrink included (``lam_i``).
    """

    pick_p: np.ndarray
    drift_per_day: np.ndarray
    total_per_day: np.ndarray


def derive_rates(
    target: np.ndarray,
    transactions_per_day: np.ndarray,
    losses_per_day: np.ndarray,
    skus_per_seller: int,
    count_days: float,
    transaction_share: float,
) -> ErrorRates:
    """Error rates that hold each seller's long-run record accuracy at ``target``.

    Args:
        target: Per seller: long-run share of accurate records under counts every ``count_days``.
        transactions_per_day: Per SKU (sellers' catalogs in consecutive blocks): expected picks
            and receipts a day.
        losses_per_day: Per SKU: expected unrecorded losses a day.
        skus_per_seller: SKUs in each seller's block.
        count_days: The reference count interval (days).
        transaction_share: ``tau``: the share of errors made with transactions.

    Returns:
        The rates. Where losses alone already keep a seller below its target, it makes no other
        errors (the target cannot be reached); where transactions cannot carry their share
        (``p`` would pass 1), the rest arises over time, so ``lam_i`` is always as derived.
    """
    n_sellers = len(target)
    t = np.asarray(transactions_per_day, dtype=float)
    loss = np.asarray(losses_per_day, dtype=float)
    mean_t = float(t.mean()) if t.size and t.mean() > 0 else 1.0
    profile = (1.0 - transaction_share) + transaction_share * t / mean_t  # errors a day per unit k
    tgt = np.clip(np.asarray(target, dtype=float), 0.0, 1.0)

    def achieved(k: np.ndarray) -> np.ndarray:
        lam = loss + np.repeat(k, skus_per_seller) * profile
        return accuracy_share(lam * count_days).reshape(n_sellers, skus_per_seller).mean(axis=1)

    lo = np.full(n_sellers, np.log(1e-7 / count_days))
    hi = np.full(n_sellers, np.log(1e4 / count_days))
    for _ in range(_STEPS):
        mid = (lo + hi) / 2.0
        too_accurate = achieved(np.exp(mid)) > tgt  # accuracy falls as k grows
        lo = np.where(too_accurate, mid, lo)
        hi = np.where(too_accurate, hi, mid)
    k = np.exp((lo + hi) / 2.0)
    # Losses alone at or below the target (a target of 1 always): no other errors.
    k = np.where(achieved(np.zeros(n_sellers)) <= tgt, 0.0, k)
    pick_p = np.minimum(k * transaction_share / mean_t, 1.0)
    k_sku = np.repeat(k, skus_per_seller)
    errors = k_sku * profile
    drift = np.maximum(errors - np.repeat(pick_p, skus_per_seller) * t, 0.0)
    return ErrorRates(pick_p=pick_p, drift_per_day=drift, total_per_day=loss + errors)


def error_size_table(mean_size: float, tail: float = 1e-12) -> list[float]:
    """Cumulative probabilities of ``size - 1`` for sizes ``1 + Poisson(mean_size - 1)``, up to
    ``1 - tail``: a uniform ``w`` maps to size ``1 + bisect_right(table, w)``."""
    lam = max(mean_size - 1.0, 0.0)
    table, term, total, j = [], np.exp(-lam), 0.0, 0
    while True:
        total += term
        table.append(min(total, 1.0))
        if total >= 1.0 - tail or j > 10_000:
            return table
        j += 1
        term *= lam / j
