"""XES (IEEE 1849) export of a run's event log: one trace per order, its events in time order.

The writer holds four columns of the whole log (20 bytes per event, 28 with its sort index),
because it groups events by order; the rest streams (see :mod:`analysis.eventlog`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.eventlog import (
    CHUNK_ORDERS,
    EPOCH,
    ExportSummary,
    atomic_text,
    check_out,
    event_batches,
    iso_list,
    literals,
    order_frame,
    parquet,
    read_scenario,
    strings,
    summary,
    xml,
)
from analysis.io import locate_run

#: Events the XES export writes as the start and end of one activity, so tools measure the
#: agent's review time (the queue before it is dispute_opened -> start). Every other event is
#: instantaneous ("complete"). The fraud review is not paired: a rejected review ends in
#: ``cancelled`` (fraud_suspected), so its start would often have no complete of the same name.
XES_LIFECYCLE: dict[str, tuple[str, str]] = {
    "dispute_review_started": ("dispute_review", "start"),
    "dispute_reviewed": ("dispute_review", "complete"),
}

#: XES trace attributes: (key, XES type, orders column).
TRACE_ATTRIBUTES = (
    ("buyer_id", "int", "buyer_id"),
    ("seller_id", "int", "seller_id"),
    ("amount", "float", "amount"),
    ("quantity", "int", "quantity"),
    ("sku_id", "int", "sku_id"),
    ("destination", "string", "destination"),
    ("payment_method", "string", "payment_method"),
    ("is_fraud", "boolean", "is_fraud"),
    ("status", "string", "status"),
    ("cancel_initiator", "string", "cancel_initiator"),
    ("cancel_reason", "string", "cancel_reason"),
    ("dispute_reason", "string", "dispute_reason"),
    ("dispute_outcome", "string", "dispute_outcome"),
)
#: XES standard extensions used: (name, prefix, URI of the definition).
XES_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
)


def write_xes(run_dir: str | Path, out: str | Path) -> ExportSummary:
    """Write an IEEE 1849 XES log: one trace per order (``concept:name`` the order id, with the
    order's attributes), its events in time order with ``concept:name``, ``time:timestamp``,
    ``org:resource`` (the actor) and ``lifecycle:transition`` (see :data:`XES_LIFECYCLE`).
    Raises as :func:`export_run`."""
    paths = locate_run(run_dir)
    out = check_out(out, paths)
    scenario = read_scenario(paths["scenario.yaml"])
    orders = order_frame(paths["orders.parquet"], [c for _, _, c in TRACE_ATTRIBUTES])
    n = len(orders)
    oid, ms, act, actor, act_names, actor_names = _xes_columns(paths["events.parquet"], n)
    # Grouped by order, each order's events by time; ties keep the log's order (lexsort is stable).
    by_case = np.lexsort((ms, oid))
    bounds = np.searchsorted(oid[by_case], np.arange(n + 1))
    heads = [_xes_event_head(a) for a in act_names]
    tails = [f'"/><string key="org:resource" value="{xml(r)}"/></event>\n' for r in actor_names]
    with atomic_text(out) as fh:
        fh.write(_xes_preamble(f"{scenario.get('name', 'simcore')} (seed {scenario.get('seed')})"))
        for lo in range(0, n, CHUNK_ORDERS):
            hi = min(lo + CHUNK_ORDERS, n)
            attrs = _xes_trace_attributes(orders.iloc[lo:hi])
            rows = by_case[bounds[lo] : bounds[hi]]
            a, t, r = act[rows].tolist(), iso_list(ms[rows]), actor[rows].tolist()
            parts = []
            for k, order in enumerate(range(lo, hi)):
                parts.append(f'\t<trace>\n\t\t<string key="concept:name" value="{order}"/>\n{attrs[k]}')
                for i in range(bounds[order] - bounds[lo], bounds[order + 1] - bounds[lo]):
                    parts.append(heads[a[i]] + t[i] + tails[r[i]])
                parts.append("\t</trace>\n")
            fh.write("".join(parts))
        fh.write("</log>\n")
    return summary("xes", out, len(oid), n)


def _xes_columns(
    path: Path, n_orders: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """The whole log's order ids, times and activity and actor codes (20 bytes per event), filled
    batch by batch into arrays sized from the Parquet metadata, and the names of the codes."""
    rows = parquet(path).metadata.num_rows
    oid, ms = np.empty(rows, np.int64), np.empty(rows, "datetime64[ms]")
    act, actor = np.empty(rows, np.int16), np.empty(rows, np.int16)
    act_vocab: dict[str, int] = {}
    actor_vocab: dict[str, int] = {}
    pos = 0
    for b in event_batches(path, n_orders, ("time", "order_id", "activity", "actor")):
        k = len(b["order_id"])
        oid[pos : pos + k], ms[pos : pos + k] = b["order_id"], b["time"]
        act[pos : pos + k] = b["activity"].recode(act_vocab)
        actor[pos : pos + k] = b["actor"].recode(actor_vocab)
        pos += k
    return oid, ms, act, actor, list(act_vocab), list(actor_vocab)


def _xes_event_head(activity: str) -> str:
    name, transition = XES_LIFECYCLE.get(activity, (activity, "complete"))
    return (
        f'\t\t<event><string key="concept:name" value="{xml(name)}"/>'
        f'<string key="lifecycle:transition" value="{transition}"/><date key="time:timestamp" value="'
    )


def _xes_preamble(log_name: str) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xes.version="1.0">']
    for name, prefix, uri in XES_EXTENSIONS:
        lines.append(f'\t<extension name="{name}" prefix="{prefix}" uri="{uri}"/>')
    lines += [
        '\t<global scope="trace">',
        '\t\t<string key="concept:name" value="__INVALID__"/>',
        "\t</global>",
        '\t<global scope="event">',
        '\t\t<string key="concept:name" value="__INVALID__"/>',
        '\t\t<string key="lifecycle:transition" value="complete"/>',
        f'\t\t<date key="time:timestamp" value="{EPOCH}"/>',
        '\t\t<string key="org:resource" value="__INVALID__"/>',
        "\t</global>",
        '\t<classifier name="activity" keys="concept:name"/>',
        '\t<classifier name="activity_lifecycle" keys="concept:name lifecycle:transition"/>',
        '\t<classifier name="resource" keys="org:resource"/>',
        f'\t<string key="concept:name" value="{xml(log_name)}"/>',
    ]
    return "\n".join(lines) + "\n"


def _xes_trace_attributes(chunk: pd.DataFrame) -> list[str]:
    """Each order's XES trace attributes (after ``concept:name``), one string per order."""
    tag = {"int": "int", "float": "float", "boolean": "boolean", "string": "string"}
    columns = []
    for key, kind, column in TRACE_ATTRIBUTES:
        values = strings(chunk[column]) if kind == "string" else literals(chunk[column], kind)
        columns.append(
            [None if v is None else f'\t\t<{tag[kind]} key="{key}" value="{xml(v)}"/>\n' for v in values]
        )
    return ["".join(x for x in row if x is not None) for row in zip(*columns, strict=True)]
