"""Fingerprints of the model's outputs, to show that a change leaves them bit for bit.

A refactor that claims "behaviour unchanged" is checked by running this before and after::

    python benchmarks/fingerprint.py --write before.json     # on the old code
    python benchmarks/fingerprint.py --check before.json     # on the new code

Each case runs one shipped scenario (or a variant: another seed, replication or weekday of
start) through the public API only (``simcore.run``), and hashes every column of the orders,
events, timeseries and sellers frames (name, dtype and raw bytes; categories with their codes)
and the KPIs (JSON with every float written exactly). ``--check`` names each frame that differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import simcore

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

#: (name, scenario file, overrides, seed, replication). The shipped scenarios as they are, and
#: variants that move the calendar and the streams.
CASES: tuple[tuple[str, str, dict, int | None, int], ...] = (
    ("baseline", "baseline.yaml", {}, None, 0),
    ("poor_inventory", "poor_inventory.yaml", {}, None, 0),
    ("fraud_wave", "fraud_wave.yaml", {}, None, 0),
    ("tight_shipping", "tight_shipping.yaml", {}, None, 0),
    ("promo_1111", "promo_1111.yaml", {}, None, 0),
    ("strict_fraud_filter", "strict_fraud_filter.yaml", {}, None, 0),
    ("frequent_sync", "frequent_sync.yaml", {}, None, 0),
    # 120 days: the baseline's derived cool-down (96 days) leaves no KPI window in a 90-day run.
    ("baseline_saturday_seed3_rep2", "baseline.yaml", {"start": "2026-01-10", "horizon_days": 120}, 3, 2),
    # Larger markets: copies of the market, each desk a team per copy (simcore.engine.station).
    ("baseline_scale3", "baseline.yaml", {"scale": 3.0}, 5, 1),
    ("poor_inventory_scale2", "poor_inventory.yaml", {"scale": 2.0}, 7, 0),
)


def _column_digest(series: pd.Series) -> str:
    h = hashlib.sha256()
    h.update(f"{series.name}|{series.dtype}".encode())
    values = series.array
    if isinstance(series.dtype, pd.CategoricalDtype):
        h.update(json.dumps([str(c) for c in series.cat.categories]).encode())
        h.update(np.ascontiguousarray(series.cat.codes.to_numpy()).tobytes())
    elif series.dtype == object:
        h.update(json.dumps([repr(v) for v in values]).encode())
    else:
        h.update(np.ascontiguousarray(series.to_numpy()).tobytes())
    return h.hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """One hash of a frame: its columns in order, each by name, dtype and bytes."""
    h = hashlib.sha256(f"{len(frame)}".encode())
    for name in frame.columns:
        h.update(_column_digest(frame[name]).encode())
    return h.hexdigest()


def fingerprint(case: tuple[str, str, dict, int | None, int]) -> dict[str, str]:
    """Hashes of one case's orders, events, timeseries, sellers and KPIs."""
    _, file, overrides, seed, replication = case
    result = simcore.run(SCENARIOS / file, seed=seed, overrides=overrides, replication=replication)
    kpis = json.dumps(result.kpis, sort_keys=True, default=repr, allow_nan=True)
    return {
        "orders": frame_digest(result.orders),
        "events": frame_digest(result.events),
        "timeseries": frame_digest(result.timeseries),
        "sellers": frame_digest(result.sellers),
        "kpis": hashlib.sha256(kpis.encode()).hexdigest(),
        "n_orders": str(len(result.orders)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="write the fingerprints to this JSON file")
    g.add_argument("--check", type=Path, help="compare with the fingerprints in this JSON file")
    p.add_argument("--only", action="append", default=None, help="run only this case (repeatable)")
    args = p.parse_args(argv)
    cases = [c for c in CASES if args.only is None or c[0] in args.only]
    expected = json.loads(args.check.read_text()) if args.check else {}
    found, differ = {}, []
    for case in cases:
        t0 = time.perf_counter()
        found[case[0]] = fp = fingerprint(case)
        same = ""
        if args.check:
            bad = [k for k, v in fp.items() if expected.get(case[0], {}).get(k) != v]
            differ += [f"{case[0]}.{k}" for k in bad]
            same = "identical" if not bad else f"DIFFERS: {', '.join(bad)}"
        print(f"{case[0]:<30} {fp['n_orders']:>7} orders {time.perf_counter() - t0:5.1f} s  {same}")
    if args.write:
        args.write.write_text(json.dumps(found, indent=2) + "\n")
        return 0
    print("all identical" if not differ else f"{len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
