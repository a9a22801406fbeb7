"""Exporting a run's event log to process-mining formats: OCEL 2.0 JSON, XES (IEEE 1849), flat CSV.

Every event of ``events.parquet`` is written once and every order becomes a case (XES trace, CSV
``case_id``, OCEL ``order`` object). The writers stream (:mod:`analysis.eventlog`): events are
read in Parquet record batches and written as they are formatted, never as one Python object per
event for the whole log. Output replaces ``out`` only when complete; ``.gz`` compresses.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from analysis.eventlog import (
    ExportSummary,
    atomic_text,
    check_out,
    event_batches,
    iso_list,
    order_count,
    summary,
)
from analysis.io import RunInputError, locate_run
from analysis.ocel import write_ocel
from analysis.xes import write_xes

FORMATS = ("ocel", "xes", "csv")
#: The CSV header: the four columns process-mining tools map without asking, then extras.
CSV_COLUMNS = ("case_id", "activity", "timestamp", "resource", "buyer_id", "seller_id")


def export_run(run_dir: str | Path, fmt: str, out: str | Path) -> ExportSummary:
    """Export the event log of the run in ``run_dir`` to ``out`` as ``fmt``.

    Args:
        run_dir: A folder written by ``simcore run``.
        fmt: ``ocel`` (OCEL 2.0 JSON), ``xes`` (IEEE 1849 XML) or ``csv``.
        out: File to write (replaced if it exists; parent folders are created; ``.gz`` compresses).

    Returns:
        The counts written.

    Raises:
        RunInputError: unknown ``fmt``; ``run_dir`` is not a run folder or is damaged; ``out`` is a
            folder, is one of the run's own files, or cannot be written.
    """
    writers = {"ocel": write_ocel, "xes": write_xes, "csv": write_csv}
    if fmt not in writers:
        raise RunInputError(f"format: must be one of {', '.join(FORMATS)} (got {fmt!r})")
    return writers[fmt](run_dir, out)


def write_csv(run_dir: str | Path, out: str | Path) -> ExportSummary:
    """Write one row per event: ``case_id`` (the order id), ``activity``, ``timestamp`` (ISO 8601,
    UTC), ``resource`` (the actor: buyer, seller, gateway or platform), then ``buyer_id, seller_id``.
    Rows are in the event log's time order. Raises as :func:`export_run`."""
    paths = locate_run(run_dir)
    out = check_out(out, paths)
    n_orders = order_count(paths["orders.parquet"])
    seen = np.zeros(n_orders, dtype=bool)
    with atomic_text(out) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        events = 0
        for b in event_batches(paths["events.parquet"], n_orders):
            seen[b["order_id"]] = True
            rows = zip(
                b["order_id"].tolist(), b["activity"].strings(), iso_list(b["time"]), b["actor"].strings(),
                b["buyer_id"].tolist(), b["seller_id"].tolist(), strict=True,
            )  # fmt: skip
            writer.writerows(rows)
            events += len(b["order_id"])
    return summary("csv", out, events, int(seen.sum()))
