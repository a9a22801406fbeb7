"""OCEL 2.0 JSON export of a run's event log: orders, buyers, sellers, payments, refunds and
disputes as objects, every event related to the objects it concerns (streamed, see
:mod:`analysis.eventlog`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.eventlog import (
    CHUNK_ORDERS,
    EPOCH,
    ExportSummary,
    Separator,
    atomic_text,
    check_out,
    event_batches,
    iso,
    iso_list,
    literals,
    order_frame,
    read_scenario,
    strings,
    summary,
)
from analysis.io import locate_run

#: OCEL object, beyond its order, buyer and seller, that each event concerns. One object of each
#: type per order, created when the order has an event of that type.
EVENT_OBJECT: dict[str, str] = {
    **dict.fromkeys(
        ("payment_submitted", "payment_declined", "payment_authorized", "verification_requested",
         "verification_completed", "paid"),
        "payment",
    ),
    **dict.fromkeys(("refund_scheduled", "refund_paid"), "refund"),
    **dict.fromkeys(
        ("dispute_opened", "dispute_review_started", "dispute_reviewed", "dispute_agreed",
         "dispute_escalated", "dispute_ruled", "dispute_refund_scheduled", "dispute_refund_paid"),
        "dispute",
    ),
}  # fmt: skip
ORDER_PARTS = ("payment", "refund", "dispute")

#: Event attributes taken from the order's row, by activity: (name, OCEL type, orders column).
#: The outcome is known at the event that ends the dispute (agreed in negotiation, or ruled).
EVENT_ATTRIBUTES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "cancelled": (("reason", "string", "cancel_reason"), ("initiator", "string", "cancel_initiator")),
    "dispute_opened": (("reason", "string", "dispute_reason"),),
    "dispute_agreed": (("outcome", "string", "dispute_outcome"),),
    "dispute_ruled": (("outcome", "string", "dispute_outcome"),),
}

#: Object attributes: (name, OCEL type, column, column of the time from which the value holds, or
#: None for a value fixed from the object's start). ``_open``/``_final``/``_closed_at``/``_horizon``
#: are derived in :func:`order_frame` and :func:`write_ocel`.
OBJECT_ATTRIBUTES: dict[str, tuple[tuple[str, str, str, str | None], ...]] = {
    "order": (
        ("amount", "float", "amount", None),  # USD
        ("quantity", "integer", "quantity", None),
        ("sku", "integer", "sku_id", None),
        ("destination", "string", "destination", None),
        ("is_fraud", "boolean", "is_fraud", None),  # the simulation's ground truth
        ("status", "string", "_open", "placed_at"),
        ("status", "string", "_final", "_closed_at"),
        ("cancel_initiator", "string", "cancel_initiator", "cancelled_at"),
        ("cancel_reason", "string", "cancel_reason", "cancelled_at"),
        ("true_reason", "string", "true_reason", "cancelled_at"),  # differs when a seller lies
    ),
    "payment": (
        ("method", "string", "payment_method", None),
        ("attempts", "integer", "payment_attempts", None),
        ("decline_cause", "string", "payment_decline_cause", None),  # of the last decline
    ),
    "refund": (
        ("amount", "float", "refund_amount", None),  # USD, short of the order's when wrong
        ("method", "string", "refund_method", None),
        ("delay_days", "float", "refund_delay_bdays", None),  # business days to a card, days to a wallet
    ),
    "dispute": (
        ("reason", "string", "dispute_reason", None),
        ("claim_amount", "float", "dispute_claim_amount", None),  # USD
        ("outcome", "string", "dispute_outcome", "dispute_resolved_at"),
        ("stage", "string", "dispute_stage", "dispute_resolved_at"),
        ("award", "float", "dispute_refund_amount", "dispute_resolved_at"),  # USD
    ),
    "buyer": (),
    "seller": (
        ("dishonest", "boolean", "dishonest", None),
        ("unreliable", "boolean", "unreliable", None),
        ("record_accuracy", "float", "record_accuracy", None),
        ("rating", "float", "rating", "_horizon"),  # final rating, at the end of the run
    ),
}


def write_ocel(run_dir: str | Path, out: str | Path) -> ExportSummary:
    """Write an OCEL 2.0 JSON log: object types order, buyer, seller, payment, refund and dispute
    (:data:`OBJECT_ATTRIBUTES`), one event type per activity with its ``actor`` and
    :data:`EVENT_ATTRIBUTES`, every event related to its order, buyer and seller (and its payment,
    refund or dispute, :data:`EVENT_OBJECT`), and each order related to those objects.
    Object ids are ``TYPE:ID`` (``order:17``; a payment, refund or dispute takes its order's id),
    event ids ``eROW`` (the row of ``events.parquet``). Raises as :func:`export_run`."""
    paths = locate_run(run_dir)
    out = check_out(out, paths)
    scenario = read_scenario(paths["scenario.yaml"])
    columns = {"buyer_id", "seller_id"}
    for kind in ("order", *ORDER_PARTS):
        columns |= {c for _, _, *cs in OBJECT_ATTRIBUTES[kind] for c in cs if c}
    columns |= {c for spec in EVENT_ATTRIBUTES.values() for _, _, c in spec}
    orders = order_frame(paths["orders.parquet"], sorted(columns))
    n = len(orders)
    sellers = pd.read_parquet(paths["sellers.parquet"])
    start = pd.Timestamp(scenario["start"])
    sellers["_horizon"] = start + pd.Timedelta(hours=24 * float(scenario["horizon_days"]))
    # One pass over two columns first, so each order's parts are known before objects are written.
    has = {part: np.zeros(n, dtype=bool) for part in ORDER_PARTS}
    part_events = {part: [a for a, p in EVENT_OBJECT.items() if p == part] for part in ORDER_PARTS}
    vocab: dict[str, int] = {}  # the log's category order, so the types come out in the same order
    present: set[int] = set()
    for b in event_batches(paths["events.parquet"], n, ("order_id", "activity")):
        names = b["activity"]
        present.update(np.unique(names.recode(vocab)).tolist())
        for part in ORDER_PARTS:
            codes = np.flatnonzero(np.isin(names.names, part_events[part]))
            has[part][b["order_id"][np.isin(names.codes, codes)]] = True
    buyers = np.unique(orders["buyer_id"].to_numpy())
    counts = {"order": n, "buyer": len(buyers), "seller": len(sellers)}
    counts |= {part: int(has[part].sum()) for part in ORDER_PARTS}
    activities = [a for a, code in vocab.items() if code in present]
    event_attrs = {a: [("actor", "string", "actor"), *EVENT_ATTRIBUTES.get(a, ())] for a in activities}
    types = {
        "objectTypes": [{"name": t, "attributes": _declared(spec)} for t, spec in OBJECT_ATTRIBUTES.items()],
        "eventTypes": [{"name": a, "attributes": _declared(spec)} for a, spec in event_attrs.items()],
    }
    with atomic_text(out) as fh:
        fh.write("{\n")
        for key, items in types.items():
            fh.write(f'"{key}": [\n' + ",\n".join(json.dumps(x) for x in items) + "\n],\n")
        fh.write('"objects": [\n')
        sep = Separator(fh)
        for kind in ("order", *ORDER_PARTS):
            for lo in range(0, n, CHUNK_ORDERS):
                chunk = orders.iloc[lo : lo + CHUNK_ORDERS]
                if kind == "order":
                    links = _order_links(chunk, {p: has[p][lo : lo + CHUNK_ORDERS] for p in ORDER_PARTS})
                    sep.write_all(_ocel_objects(kind, chunk["order_id"], chunk, links))
                else:
                    mine = chunk[has[kind][lo : lo + CHUNK_ORDERS]]
                    sep.write_all(_ocel_objects(kind, mine["order_id"], mine))
        sep.write_all(_ocel_objects("buyer", pd.Series(buyers), pd.DataFrame(index=range(len(buyers)))))
        sep.write_all(_ocel_objects("seller", sellers["seller_id"], sellers))
        fh.write('\n],\n"events": [\n')
        sep = Separator(fh)
        values = {c: strings(orders[c]) for spec in EVENT_ATTRIBUTES.values() for _, _, c in spec}
        events = 0
        for b in event_batches(paths["events.parquet"], n):
            sep.write_all(_ocel_events(b, events, values))
            events += len(b["order_id"])
        fh.write("\n]\n}\n")
    return summary("ocel", out, events, n, counts)


def _declared(spec) -> list[dict[str, str]]:
    """An OCEL type's attribute declarations, each name once."""
    return [{"name": name, "type": kind} for name, kind in dict((s[0], s[1]) for s in spec).items()]


def _ocel_objects(
    kind: str, ids: pd.Series, frame: pd.DataFrame, links: list[str] | None = None
) -> list[str]:
    """OCEL objects of type ``kind``, one JSON line each, attributes from ``frame``'s columns."""
    columns = []
    for name, otype, column, since in OBJECT_ATTRIBUTES[kind]:
        values = literals(frame[column], otype)
        times = iso(frame[since]) if since else [EPOCH] * len(frame)
        head = f'{{"name":"{name}","time":"'
        columns.append(
            [
                None if v is None or t is None else f'{head}{t}","value":{v}}}'
                for v, t in zip(values, times, strict=True)
            ]
        )
    rows = zip(*columns, strict=True) if columns else ([] for _ in range(len(frame)))
    out = []
    for k, (oid, attrs) in enumerate(zip(ids.tolist(), rows, strict=True)):
        rel = f',"relationships":[{links[k]}]' if links else ""
        body = ",".join(a for a in attrs if a is not None)
        out.append(f'{{"id":"{kind}:{oid}","type":"{kind}","attributes":[{body}]{rel}}}')
    return out


def _order_links(chunk: pd.DataFrame, has: dict[str, np.ndarray]) -> list[str]:
    """Each order's object-to-object relationships: its buyer, seller, payment, refund, dispute."""
    out = []
    for k, (oid, buyer, seller) in enumerate(
        zip(chunk["order_id"].tolist(), chunk["buyer_id"].tolist(), chunk["seller_id"].tolist(), strict=True)
    ):
        links = [_rel("buyer", buyer), _rel("seller", seller)]
        links += [_rel(part, oid) for part in ORDER_PARTS if has[part][k]]
        out.append(",".join(links))
    return out


def _rel(kind: str, oid: int) -> str:
    return f'{{"objectId":"{kind}:{oid}","qualifier":"{kind}"}}'


def _ocel_events(b: dict, first_row: int, values: dict[str, list[str | None]]) -> list[str]:
    """A batch of events as OCEL JSON lines (ids ``e`` + their row in the event log)."""
    out = []
    rows = zip(
        b["order_id"].tolist(), b["activity"].strings(), iso_list(b["time"]), b["actor"].strings(),
        b["buyer_id"].tolist(), b["seller_id"].tolist(), strict=True,
    )  # fmt: skip
    for row, (oid, act, when, actor, buyer, seller) in enumerate(rows, start=first_row):
        attrs = [f'{{"name":"actor","value":{json.dumps(actor)}}}']
        for name, _, column in EVENT_ATTRIBUTES.get(act, ()):
            if values[column][oid] is not None:
                attrs.append(f'{{"name":"{name}","value":{json.dumps(values[column][oid])}}}')
        rels = [_rel("order", oid), _rel("buyer", buyer), _rel("seller", seller)]
        if act in EVENT_OBJECT:
            rels.append(_rel(EVENT_OBJECT[act], oid))
        out.append(
            f'{{"id":"e{row}","type":{json.dumps(act)},"time":"{when}",'
            f'"attributes":[{",".join(attrs)}],"relationships":[{",".join(rels)}]}}'
        )
    return out
