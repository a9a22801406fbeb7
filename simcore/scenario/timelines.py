"""How long after its placement an order's outcome can still change, from the scenario's own
timelines: the cool-down that does not censor the KPIs.

KPIs count the orders placed in [warmup_days, horizon_days - cooldown_days). An order placed
later than ``horizon_days - settle`` may still be cancelled, disputed or refunded after the run
ends, so a shorter cool-down censors those outcomes (issue 16: a 60-day run with no cool-down
measured a dispute rate of 0.43% against 1.05%). When ``cooldown_days`` is not set (or null),
the scenario uses :func:`settle_days`.

Each path an order can take is timed by the durations it meets, each at its 99th percentile
(:data:`QUANTILE`; a bounded duration's own maximum is never below it), added along the path;
the latest path is the order's settle time. A sum of 99th percentiles is beyond the 99th
percentile of the sum, so the bound is a conservative one; it is still a bound at the 99th
percentiles, not a maximum: a parcel in its transit's far tail can settle later. Business days are turned into
calendar days with two weekend days per five (plus one weekend for a start on a Friday). Queue
waits are not counted (a queue that keeps up adds minutes; one that does not is warned about:
:mod:`simcore.model.load`). Paths whose trigger is switched off (a propensity or share of 0) are
left out.

Paths (hours after placement):

- *cleared*: payment attempts (``max_retries`` + 1 services and retry delays), the extra
  verification window, the fraud review and the address fix window;
- *ship-by*: cleared + ``platform.ship_by_days``; an order not shipped by then is cancelled;
- *refunded*: a cancellation at the ship-by deadline + the card refund's business days (or the
  wallet delay); refund disputes open past the buyer's ``refund_patience_bdays`` or on a short
  refund, after ``disputes.open_delay``;
- *completed*: shipped at the ship-by deadline + the slowest destination's transit + the buyer's
  confirmation;
- *not delivered*: shipped + the buyer's wait (``not_delivered_after_days``) + the dispute, and
  for a late parcel that arrives meanwhile, + the buyer's confirmation after the dispute;
- *guarantee*: a lost parcel is refunded ``delivery_guarantee_days`` after shipment (or when
  its dispute ends, a path of its own);
- *return*: a buyer who wants out once the order shipped sends it back at the latest when they
  would confirm it (delivered + the confirmation), and it takes ``platform.returns.transit_time``
  to come back;
- *chargeback*: fraud paid by card is charged back ``payment.chargebacks.delay`` after its
  payment, within the network's ``window_days``;
- *not as described*: delivered + ``disputes.open_delay`` + the dispute;
- the dispute: agent review + ``negotiation_days`` + ``intervention_delay`` + agent decision.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simcore.scenario.distributions import DistSpec

if TYPE_CHECKING:  # the schema validates with this module: imported there, not here
    from simcore.scenario.schema import Scenario

#: Quantile at which each duration on a path is taken.
QUANTILE = 0.99


def _q(spec: DistSpec) -> float:
    """``spec``'s :data:`QUANTILE` in hours."""
    return spec.quantile_hours(QUANTILE)


def _bdays_h(bdays: float) -> float:
    """Calendar hours spanning ``bdays`` business days at most (weekends included)."""
    return (bdays + 2.0 * math.ceil(bdays / 5.0 + 1e-12)) * 24.0


def paths(scn: Scenario) -> dict[str, float]:
    """The latest hour after placement at which each path can still change an order's outcome,
    by path name (see the module's docstring), for the paths the scenario switches on."""
    b, p, pf, r = scn.buyers, scn.payment, scn.platform, scn.refunds
    d, cs = pf.disputes, pf.customer_service
    prop = d.propensity
    pay = (p.max_retries + 1) * _q(p.gateway.service_time) + p.max_retries * _q(b.retry_delay)
    v = p.verification
    if v.share > 0 or v.unverified_share > 0 or v.stolen_card_share > 0:
        pay += v.window_hours
    screen = _q(pf.fraud.review_time)
    if pf.address_conflict.rate > 0:
        screen += pf.address_conflict.fix_window_hours
    ship_by = pay + screen + pf.ship_by_days * 24.0
    dispute = _q(cs.review_time) + d.negotiation_days * 24.0 + _q(d.intervention_delay)
    dispute += _q(cs.intervention_time)
    open_delay = _q(d.open_delay)
    refund = max(_bdays_h(r.card_delay_bdays.quantile_in_unit(QUANTILE)), _q(r.wallet_delay))
    out = {"ship-by deadline": ship_by, "refund of a cancellation": ship_by + refund}
    refund_dispute = 0.0
    if prop.refund_late > 0:
        patience = _bdays_h(scn.refund_patience_bdays)
        refund_dispute = max(refund_dispute, min(refund, patience) + open_delay)
    if prop.refund_wrong_amount > 0 and r.wrong_amount_rate > 0:
        refund_dispute = max(refund_dispute, refund + open_delay)
    if prop.disguised_cancellation > 0 or prop.seller_cancellation > 0:
        refund_dispute = max(refund_dispute, open_delay)
    if refund_dispute > 0:
        out["dispute of a cancellation"] = ship_by + refund_dispute + dispute
    delivered = ship_by + max(_q(dest.transit_time) for dest in scn.shipping.destinations.values())
    confirm = min(_q(b.confirm_time), pf.auto_confirm_days * 24.0)  # the platform's cap
    out["delivery and confirmation"] = delivered + confirm
    if prop.not_delivered > 0:
        wait = d.not_delivered_after_days
        wait_h = float(wait) * 24.0 if isinstance(wait, float | int) else _q(wait)
        out["not-delivered dispute"] = ship_by + wait_h + dispute
        # A late parcel that arrives during its dispute is confirmed once the dispute is over.
        out["late parcel confirmed after its dispute"] = ship_by + wait_h + dispute + confirm
    if scn.shipping.lost_share > 0:
        out["delivery guarantee of a lost parcel"] = ship_by + pf.delivery_guarantee_days * 24.0
    if prop.not_as_described > 0:
        out["not-as-described dispute"] = delivered + open_delay + dispute
    c = b.cancel
    if c.return_share > 0 and (c.change_of_mind > 0 or c.better_deal > 0 or c.wrong_item > 0):
        out["return of a parcel the buyer sent back"] = delivered + confirm + _q(pf.returns.transit_time)
    cb = p.chargebacks
    if b.fraud_rate > 0 and cb.share > 0:
        out["chargeback of fraud that shipped"] = pay + screen + min(_q(cb.delay), cb.window_days * 24.0)
    return out


def settle_days(scn: Scenario) -> float:
    """Days after placement by which every path of an order has ended (whole days, rounded up):
    the cool-down used when ``cooldown_days`` is not set; ``inf`` when a path has no end a
    float can hold (durations of 1e300 days)."""
    longest = max(paths(scn).values()) / 24.0
    return float(math.ceil(longest - 1e-9)) if math.isfinite(longest) else math.inf


def censored(scn: Scenario, cooldown_days: float) -> dict[str, float]:
    """The paths a cool-down of ``cooldown_days`` cuts short, with the days each needs."""
    return {name: h / 24.0 for name, h in paths(scn).items() if h / 24.0 > cooldown_days + 1e-9}
