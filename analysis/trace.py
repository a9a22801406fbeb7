"""The story of one order: each activity of the event log in time order, who did it, and why.

``order_story`` gathers an order's events with the reason or outcome the order's row records for
them (a cancellation's initiator and reason, a refund's amount and method, a dispute's claim and
ruling); ``format_story`` lays it out for a terminal under a header naming the order's amount,
buyer, seller, destination and final status. ``arrival_visit`` finds what became of one visit
(arrival): the order it was placed as, or a lost visit, which ``format_visit`` tells in a line.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.io import RunFiles, RunInputError, locate_run

#: Columns of the story frame.
STORY_COLUMNS = ("time", "activity", "actor", "detail")


def _usd(x: float) -> str:
    return f"{x:,.2f} USD"


def _delay(method: str, days: float) -> str:
    # Card refunds are counted in business days; wallet refunds in calendar days (simcore.model.refunds).
    unit = "business days" if method == "original" else "days"
    return f"{days:.1f} {unit}"


def _refund(o: dict[str, Any]) -> str:
    short = o["amount"] - o["refund_amount"]
    note = f", short by {_usd(short)}" if short >= 0.005 else ""
    method = o["refund_method"]
    return f"{_usd(o['refund_amount'])} to {method}, due in {_delay(method, o['refund_delay_bdays'])}{note}"


def _cancelled(o: dict[str, Any]) -> str:
    text = f"by {o['cancel_initiator']}: {o['cancel_reason']}"
    if _known(o["true_reason"]) and o["true_reason"] != o["cancel_reason"]:
        text += f" (true reason: {o['true_reason']})"
    return text


def _declined(o: dict[str, Any], k: int, n: int) -> str:
    """The k-th of n declines is attempt k (declines come before any authorisation); the order
    records the cause of its last decline only."""
    cause = o["payment_decline_cause"]
    return f"attempt {k}" + (f": {cause}" if k == n and _known(cause) else "")


def _placed(o: dict[str, Any]) -> str:
    text = f"paying by {o['payment_method']}" + ("" if o["buyer_verified"] else ", unverified account")
    if o["is_fraud"]:
        text += "; fraudulent buyer" + (" (stolen card)" if o["stolen_card"] else "")
    return text


#: What the order's row says about each activity: detail(order, k, n) for the k-th of the order's
#: n events of that activity. Activities not listed have no detail.
DETAILS: dict[str, Callable[[dict[str, Any], int, int], str]] = {
    "placed": lambda o, k, n: _placed(o),
    "payment_declined": _declined,
    "payment_authorized": lambda o, k, n: f"attempt {o['payment_attempts']}",
    "fraud_review_started": lambda o, k, n: f"risk score {o['risk_score']:.2f}",
    "cancelled": lambda o, k, n: _cancelled(o),
    "refund_scheduled": lambda o, k, n: _refund(o),
    "refund_paid": lambda o, k, n: _usd(o["refund_amount"]),
    "dispute_opened": lambda o, k, n: f"{o['dispute_reason']}, claiming {_usd(o['dispute_claim_amount'])}",
    "dispute_agreed": lambda o, k, n: f"{o['dispute_outcome']} in negotiation",
    "dispute_ruled": lambda o, k, n: f"{o['dispute_outcome']} at {o['dispute_stage']}",
    "dispute_refund_scheduled": lambda o, k, n: (
        f"{_usd(o['dispute_refund_amount'])} to {o['dispute_refund_method']}, due in "
        f"{_delay(o['dispute_refund_method'], o['dispute_refund_delay_bdays'])}"
    ),
    "dispute_refund_paid": lambda o, k, n: _usd(o["dispute_refund_amount"]),
    "charged_back": lambda o, k, n: f"{_usd(o['amount'])} taken back by the card's holder",
    "bank_hold_released": lambda o, k, n: f"after {o['bank_hold_release_bdays']:.1f} business days",
    "returned": lambda o, k, n: (
        f"shipping {_usd(o['return_shipping_usd'])} paid by {o['return_shipping_payer']}"
    ),
}


def order_story(run: str | Path | RunFiles, order_id: int) -> pd.DataFrame:
    """Every event of one order in time order, with its actor and detail.

    Args:
        run: A run folder written by ``simcore run``, or its :class:`~analysis.io.RunFiles`.
        order_id: The order's id (a whole number, as in ``orders.parquet``).

    Returns:
        Columns ``time`` (datetime64[ms], simulation clock), ``activity``, ``actor`` and ``detail``
        (the reason or outcome the order records for the event, else ""); ties in time keep the
        event log's order. ``story.attrs["order"]`` holds the order's row as a dict, for
        :func:`format_story`.

    Raises:
        RunInputError: ``run`` is not a run folder or its files cannot be read, ``order_id`` is
            not a whole number, or no order has that id (the message gives the range of ids).
    """
    oid = _order_id(order_id)
    if isinstance(run, RunFiles):
        orders, events, where = run.orders, run.events, "this run"
        row = orders[orders["order_id"] == oid]
        if row.empty:
            _unknown(oid, orders["order_id"], where)
        events = events[events["order_id"] == oid]
    else:
        paths = locate_run(run, ("orders.parquet", "events.parquet"))
        try:
            ids = pq.read_table(paths["orders.parquet"], columns=["order_id"]).column(0).to_numpy()
            if not (ids == oid).any():
                _unknown(oid, pd.Series(ids), str(run))
            row = pd.read_parquet(paths["orders.parquet"], filters=[("order_id", "==", oid)])
            events = pd.read_parquet(paths["events.parquet"], filters=[("order_id", "==", oid)])
        except (pa.ArrowInvalid, OSError, KeyError) as exc:
            raise RunInputError(f"{run}: cannot read its orders or events ({exc}); run it again") from None
    order = {k: (None if _missing(v) else v) for k, v in row.iloc[0].to_dict().items()}
    events = events.sort_values("time", kind="stable")
    activities = events["activity"].astype(str).tolist()
    seen: dict[str, int] = {}
    details = []
    for act in activities:
        seen[act] = seen.get(act, 0) + 1
        details.append(DETAILS[act](order, seen[act], activities.count(act)) if act in DETAILS else "")
    story = pd.DataFrame(
        {
            "time": events["time"].to_numpy(),
            "activity": activities,
            "actor": events["actor"].astype(str).tolist(),
            "detail": details,
        }
    )
    story.attrs["order"] = order
    return story


#: What a lost visit's outcome means (``lost_visits.outcome``).
LOST_MEANING = {
    "lost_sale": "lost sale: nothing in stock the buyer would take",
    "forgone": "forgone: the buyer had churned or, with trust lowered, did not buy",
}

#: Why a run cannot be traced by arrival, and what to do.
_BEFORE_ARRIVALS = (
    "it was written before arrival ids, so its visits cannot be traced; "
    "run it again with `simcore run SCENARIO --out DIR`"
)


def arrival_visit(run: str | Path | RunFiles, arrival_id: int) -> dict[str, Any]:
    """What became of one visit (arrival) of a run: the order it was placed as, or a lost visit.

    Args:
        run: A run folder written by ``simcore run``, or its :class:`~analysis.io.RunFiles`.
        arrival_id: The visit's index among the run's arrivals (``orders.arrival_id``,
            ``lost_visits.arrival_id``; a whole number).

    Returns:
        ``arrival_id``; ``order_id`` (the order's id, for :func:`order_story`; None for a lost
        visit); and for a lost visit its ``arrived_at`` (timestamp), ``arrived_hour`` (hours
        since the start), ``outcome`` (``lost_sale`` or ``forgone``) and ``buyer_id``.

    Raises:
        RunInputError: ``run`` is not a run folder or cannot be read, it was written before
            arrival ids (no ``lost_visits.parquet``), ``arrival_id`` is not a whole number, or no
            visit has that id (the message gives the range of ids).
    """
    aid = _order_id(arrival_id, "arrival")
    if isinstance(run, RunFiles):
        where = "this run"
        if run.lost_visits is None or "arrival_id" not in run.orders.columns:
            raise RunInputError(f"{where}: {_BEFORE_ARRIVALS}")
        placed = run.orders[["arrival_id", "order_id"]]
        lost = run.lost_visits
    else:
        where = str(run)
        paths = locate_run(run, ("orders.parquet",))
        lost_path = Path(run) / "lost_visits.parquet"
        if not lost_path.is_file():
            raise RunInputError(f"{run}: no lost_visits.parquet: {_BEFORE_ARRIVALS}")
        try:
            if "arrival_id" not in pq.read_schema(paths["orders.parquet"]).names:
                raise RunInputError(f"{run}: its orders have no arrival_id: {_BEFORE_ARRIVALS}")
            placed = pd.read_parquet(paths["orders.parquet"], columns=["arrival_id", "order_id"])
            lost = pd.read_parquet(lost_path)
        except (pa.ArrowInvalid, OSError, KeyError) as exc:
            raise RunInputError(
                f"{run}: cannot read its orders or lost visits ({exc}); run it again"
            ) from None
    hit = np.flatnonzero(placed["arrival_id"].to_numpy() == aid)
    if len(hit):
        return {"arrival_id": aid, "order_id": int(placed["order_id"].iloc[hit[0]])}
    row = lost[lost["arrival_id"] == aid]
    if row.empty:
        n = len(placed) + len(lost)
        span = f"ids run from 0 to {n - 1}" if n else "it has no visits"
        raise RunInputError(f"arrival {aid}: no such arrival in {where}; {span}")
    r = row.iloc[0]
    return {
        "arrival_id": aid,
        "order_id": None,
        "arrived_at": pd.Timestamp(r["arrived_at"]),
        "arrived_hour": float(r["arrived_hour"]),
        "outcome": str(r["outcome"]),
        "buyer_id": int(r["buyer_id"]),
    }


def format_visit(visit: dict[str, Any]) -> str:
    """One line for a visit from :func:`arrival_visit`: a lost visit's time (to the second),
    outcome and buyer, or the order a placed visit became."""
    aid = visit["arrival_id"]
    if visit["order_id"] is not None:
        return f"arrival {aid}: placed as order {visit['order_id']}"
    outcome = visit["outcome"]
    return (
        f"arrival {aid}: {visit['arrived_at'].floor('s'):%Y-%m-%d %H:%M:%S} "
        f"(hour {visit['arrived_hour']:.2f}), buyer {visit['buyer_id']}, "
        f"{LOST_MEANING.get(outcome, outcome)}; no order"
    )


def format_story(story: pd.DataFrame, *, max_detail: int | None = None) -> str:
    """The story as aligned text for a terminal: a header line for the order, a line for its
    outcome, then one line per event (time, time since placement, activity, actor, detail).

    Args:
        story: From :func:`order_story` (the header needs ``story.attrs["order"]``).
        max_detail: Cut details longer than this many characters (None: never).

    Returns:
        The text, lines separated by newlines, without a trailing newline.
    """
    o = story.attrs.get("order")
    lines = [_header(o), _outcome(o)] if o else []
    # Times shown to the second, and time since placement between the times shown, so they agree.
    times = pd.to_datetime(story["time"]).dt.floor("s")
    t0 = pd.Timestamp(o["placed_at"]).floor("s") if o else (times.iloc[0] if len(times) else None)
    rows = [("time", "since placed", "activity", "actor", "detail")]
    for t, act, actor, detail in zip(times, story["activity"], story["actor"], story["detail"], strict=True):
        if max_detail is not None and len(detail) > max_detail:
            detail = detail[: max(max_detail - 3, 0)] + "..."
        rows.append((f"{t:%Y-%m-%d %H:%M:%S}", _since(t - t0), act, actor, detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return "\n".join(line.rstrip() for line in lines)


def _header(o: dict[str, Any]) -> str:
    return (
        f"order {o['order_id']}: {_usd(o['amount'])}, {o['quantity']} x SKU {o['sku_id']}, "
        f"buyer {o['buyer_id']}, seller {o['seller_id']}, to {o['destination']}, "
        f"placed {pd.Timestamp(o['placed_at']):%Y-%m-%d %H:%M:%S}"
    )


def _outcome(o: dict[str, Any]) -> str:
    status = o["status"]
    if status == "cancelled":
        text = f"final status: cancelled {_cancelled(o)}"
    elif status == "completed":
        text = "final status: completed"
    elif status == "refunded":
        text = "final status: refunded (the parcel never arrived)"
    elif status == "returned":
        shipping = f"{_usd(o['return_shipping_usd'])} paid by {o['return_shipping_payer']}"
        text = f"final status: returned (shipping {shipping})"
    else:
        text = "final status: open at the end of the run"
    if _known(o.get("charged_back_at")):
        text += "; charged back by the card's holder"
    if _known(o.get("dispute_reason")):
        outcome = o["dispute_outcome"]
        ending = (
            f"{outcome} at {o['dispute_stage']}" if _known(outcome) else "unresolved at the end of the run"
        )
        text += f"; dispute {o['dispute_reason']}: {ending}"
    return text


def _since(delta: pd.Timedelta) -> str:
    """``+Dd HH:MM:SS`` (days, then hours, minutes and seconds)."""
    seconds = int(pd.Timedelta(delta).total_seconds())
    days, rest = divmod(seconds, 86_400)
    return f"+{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def _order_id(order_id: Any, what: str = "order") -> int:
    if isinstance(order_id, str) and order_id.strip().lstrip("-").isdigit():
        return int(order_id)
    try:
        if isinstance(order_id, bool):
            raise TypeError
        return operator.index(order_id)
    except TypeError:
        raise RunInputError(f"{what} id: must be a whole number (got {order_id!r})") from None


def _unknown(oid: int, ids: pd.Series, where: str) -> None:
    span = f"ids run from {ids.min()} to {ids.max()}" if len(ids) else "it has no orders"
    raise RunInputError(f"order {oid}: no such order in {where}; {span}")


def _missing(v: Any) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _known(v: Any) -> bool:
    return v is not None and not _missing(v)
