"""The ``simcore`` command line's arguments: one subparser per command, with its help."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from simcore.version import __version__


def build_parser() -> argparse.ArgumentParser:
    """The ``simcore`` argument parser: one subparser per command."""
    p = argparse.ArgumentParser(
        prog="simcore",
        description="Discrete-event simulator of order cancellations on an AliExpress-like marketplace.",
    )
    p.add_argument("--version", action="version", version=f"simcore {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _runs(sub)
    _warmup(sub)
    _tools(sub)
    _references(sub)
    return p


def _runs(sub: Any) -> None:
    """``run`` and ``sweep``."""
    r = sub.add_parser("run", help="run a scenario and write its outputs")
    r.add_argument("scenario", type=Path, help="scenario YAML file")
    r.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    r.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. --set buyers.fraud_rate=0.02 (value read as YAML); repeatable",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar and no KPI table")
    r.add_argument("--plot", action="store_true", help="also write summary.png (a four-panel run summary)")

    w = sub.add_parser("sweep", help="run a sweep file (design x strategies x replications) into a store")
    w.add_argument("sweep", type=Path, help="sweep YAML file")
    _store_and_workers(w)
    w.add_argument(
        "--precision",
        action="append",
        default=[],
        metavar="KPI=WIDTH",
        help="add replications until this KPI's CI half-width is at most WIDTH in every cell and "
        "strategy (an absolute width, or a share of the mean like 5%%); repeatable",
    )
    w.add_argument(
        "--max-replications",
        type=int,
        default=None,
        metavar="N",
        help="cap on replications per arm with --precision (default: 10x the file's replications)",
    )
    w.add_argument(
        "--precision-baseline",
        default=None,
        metavar="STRATEGY",
        help="apply --precision to paired differences against this strategy instead of to each arm",
    )

    o = sub.add_parser(
        "optimize",
        help="the cheapest (or best) mix of levers meeting KPI constraints, with a statistical guarantee",
    )
    o.add_argument("optimization", type=Path, help="optimisation YAML file")
    _store_and_workers(o)

    c = sub.add_parser(
        "calibrate",
        help="history matching in waves, then a posterior: the settings that reproduce observed KPIs",
    )
    c.add_argument("calibration", type=Path, help="calibration YAML file")
    _store_and_workers(c)


def _store_and_workers(p: Any) -> None:
    """An experiment command's store (``--out``), where its runs go (``--jobs``,
    ``--executor``, ``--scheduler``) and ``--quiet``."""
    p.add_argument("--out", type=Path, required=True, help="store folder; rerunning resumes it")
    p.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )
    p.add_argument("--executor", choices=("process", "dask"), default="process", help="where runs execute")
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler (default: a local cluster)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _warmup(sub: Any) -> None:
    """``warmup``."""
    u = sub.add_parser("warmup", help="suggest warmup_days from pilot runs (MSER-5, Welch plot)")
    u.add_argument("scenario", type=Path, help="scenario YAML file")
    u.add_argument("--replications", type=int, default=5, help="pilot runs to average (default 5)")
    u.add_argument(
        "--horizon-days", type=float, default=None, help="pilot length (default: the scenario's horizon)"
    )
    u.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    u.add_argument(
        "--series",
        action="append",
        default=None,
        metavar="NAME",
        help="series to judge (default: cancelled_share and out_of_stock_share; also "
        "orders_in_system, completed, cancelled, and the queue lengths); repeatable",
    )
    u.add_argument(
        "--plot", type=Path, default=None, metavar="PNG", help="write the Welch plots to this file"
    )
    u.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    u.add_argument("--quiet", action="store_true", help="no progress bar")


def _tools(sub: Any) -> None:
    """``export``, ``report`` and ``trace``: reading what runs wrote."""
    e = sub.add_parser("export", help="write a run's event log as OCEL 2.0, XES or CSV for process mining")
    e.add_argument("run_dir", type=Path, help="a folder written by simcore run")
    e.add_argument("--format", choices=("ocel", "xes", "csv"), required=True, help="output format")
    e.add_argument("--out", type=Path, required=True, help="file to write (a name ending .gz compresses)")

    o = sub.add_parser("report", help="one self-contained HTML report (or PNG figures) of a run or a sweep")
    o.add_argument("folder", type=Path, help="a run folder (simcore run) or a sweep store (simcore sweep)")
    o.add_argument("--out", type=Path, required=True, help="the HTML file, or with --format png a folder")
    o.add_argument("--format", choices=("html", "png"), default="html", help="html (default) or png")

    t = sub.add_parser("trace", help="print the story of one order (or visit), event by event")
    t.add_argument("run_dir", type=Path, help="a folder written by simcore run")
    t.add_argument(
        "order_id", metavar="ID", help="the order's id (orders.parquet order_id), or with --arrival a visit's"
    )
    t.add_argument(
        "--arrival",
        action="store_true",
        help="read ID as an arrival id (a visit, the same under every strategy run with one seed): "
        "trace the order it became, or say how it was lost",
    )


def _references(sub: Any) -> None:
    """``validate``, ``schema`` and ``kpis``: checking and describing inputs and outputs."""
    v = sub.add_parser("validate", help="check a scenario file and report every problem")
    v.add_argument("scenario", type=Path)
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")
    s.add_argument("--markdown", action="store_true", help="the scenario reference as Markdown instead")

    k = sub.add_parser("kpis", help="list every KPI a run reports: name, unit, better direction, meaning")
    k.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")
    k.add_argument("--markdown", action="store_true", help="the KPI reference as Markdown instead")
