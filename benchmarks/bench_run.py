"""Speed and memory of simcore runs, against a bare-SimPy skeleton of the same order lifecycle.

    python benchmarks/bench_run.py                      # 200,000 orders: model vs skeleton
    python benchmarks/bench_run.py --orders 20000       # quick
    python benchmarks/bench_run.py --repeat 3           # median ratio and range over 3 pairs
    python benchmarks/bench_run.py --million            # a million arrivals, full event log
    python benchmarks/bench_run.py --million --with-skeleton

``--orders N`` runs the baseline (scenarios/baseline.yaml, over its horizon) at ``scale`` k = N /
(orders_per_hour x horizon hours): demand, buyers, sellers, gateway servers, fraud analysts and
customer-service agents grow together (simcore.scenario.scale), so queues stay stable.
The model's three steps are timed apart (build ``World(scn)``, ``run()``, ``collect()``); its
throughput is orders / (run + collect). The skeleton (benchmarks/skeleton.py) runs the same
scaled scenario; its throughput is orders / ``env.run``. Target: model orders/s >= 0.55 x the
skeleton's at 200,000 orders (the performance issue asked 0.5; the model issues keep 0.55).

``--million`` runs the baseline over 30 days (warm-up and cool-down 5 days) at 1,400 arrivals an
hour, at ``scale`` 1400 / 12.5: 1,008,000 arrivals, of which ~8% are lost
sales or forgone, so ~880,000 orders. ``--million-days D`` spreads them over D days and
``--million-arrivals A`` sets their number. Targets: peak RSS <= 1 GiB, and collect (building
the DataFrames) < 10% of run + collect.

Each measurement runs in a fresh child process so its peak memory (max RSS, in MiB) belongs to
it alone; ``--repeat R`` alternates model and skeleton R times (this machine drifts by +-20%).
Prints one JSON line per measurement, then a table and the targets. Numbers depend on the
machine: compare runs made on the same one. Always exits 0: benchmarks measure, tests assert.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue as queue_mod
import resource
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
#: Targets: the ratio's floor the model issues keep (the performance issue's was 0.5), memory.
RATIO_TARGET = 0.55
RSS_TARGET_MIB = 1024
COLLECT_SHARE_TARGET_PCT = 10.0
#: The million-order run: 1,008,000 expected arrivals, by default 30 days at 1,400 an hour (the
#: issue's example); ``--million-days D`` spreads them over D days instead.
MILLION_ARRIVALS = 1_008_000
MILLION_DAYS = 30
#: Limit set in the child when simcore.experiments.admission's memory check would refuse the run (GB).
MEMORY_LIMIT_GB = "20"


def _scenario(spec: dict):
    """The scaled baseline of a measurement, and its label.

    ``spec`` is ``{"orders": N}`` (the baseline's horizon, demand scaled to N expected orders)
    or ``{"million": D, "arrivals": A}`` (A arrivals, a million by default, over D days: warm-up
    and cool-down 5 days at 30 days, the baseline's own on a longer horizon).
    """
    import simcore

    base = simcore.load_scenario(BASELINE)
    b = base.buyers
    if spec.get("million"):
        days = spec["million"]
        overrides = {"horizon_days": days}
        if days < base.warmup_days + base.cooldown_days + 30:
            overrides.update(warmup_days=5, cooldown_days=5)
        rate = spec.get("arrivals", MILLION_ARRIVALS) / (days * 24.0)
        k = rate / b.orders_per_hour
        label = f"{rate * days * 24.0 / 1e6:.3g}M arrivals ({days:g} d, {rate:,.0f}/h)"
    else:
        overrides = {}
        k = spec["orders"] / (b.orders_per_hour * base.horizon_hours)
        label = f"{spec['orders']:,} orders (x{k:.3g})"
    # The market scaled whole (simcore.scenario.scale): demand, buyers, sellers and the staff
    # that serve them together, so the queues stay stable.
    overrides["scale"] = k
    return simcore.load_scenario(BASELINE, overrides), label


def _memory_check(scn) -> str:
    """Run simcore.experiments.admission's pre-run memory check as ``simcore.run`` would; if it refuses the
    run, raise the limit in this (child) process and say so."""
    from simcore.errors import ScenarioError
    from simcore.experiments.admission import MEMORY_LIMIT_ENV, check_volume, estimated_memory

    estimate = f"estimated {estimated_memory(scn) / 2**20:,.0f} MiB"
    try:
        check_volume(scn)
    except ScenarioError as exc:
        os.environ[MEMORY_LIMIT_ENV] = MEMORY_LIMIT_GB
        check_volume(scn)
        return f"refused ({exc}); set {MEMORY_LIMIT_ENV}={MEMORY_LIMIT_GB} in the child"
    return f"passed ({estimate})"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _model(spec: dict) -> dict:
    from simcore import hold_mmap_threshold
    from simcore.experiments.admission import expected_orders
    from simcore.model.world import World
    from simcore.results.collect import collect

    hold_mmap_threshold()  # as the simcore command does (simcore.engine.tuning)
    scn, label = _scenario(spec)
    check = _memory_check(scn)
    t0 = time.perf_counter()
    world = World(scn)
    t1 = time.perf_counter()
    # SimPy numbers every scheduled event from the private counter Environment._eid
    # (itertools.count, SimPy 4): its next value is the number of events scheduled. Only the
    # counter is kept: the world lets go of its environment when the run ends.
    eid = world._running[0].env._eid
    record = world.run()
    t2 = time.perf_counter()
    rss_run = _peak_rss_mib()
    events = next(eid)
    result = collect(record)
    t3 = time.perf_counter()
    n = len(result.orders)
    status = result.orders["status"].value_counts()
    build, run, coll = t1 - t0, t2 - t1, t3 - t2
    return {
        "what": f"model {label}",
        "kind": "model",
        "orders": n,
        "expected_orders": round(expected_orders(scn)),
        "cancelled": int(status.get("cancelled", 0)),
        "completed": int(status.get("completed", 0)),
        "events_logged": len(result.events),
        "simpy_events": events,
        "simpy_events_per_order": round(events / n, 2),
        "build_s": round(build, 2),
        "run_s": round(run, 2),
        "collect_s": round(coll, 2),
        "wall_s": round(run + coll, 2),
        "orders_per_s": round(n / (run + coll)),
        "collect_share_pct": round(100 * coll / (run + coll), 1),
        "peak_rss_run_mib": round(rss_run),
        "peak_rss_mib": round(_peak_rss_mib()),
        "memory_check": check,
    }


def _skeleton(spec: dict) -> dict:
    from skeleton import run_skeleton  # benchmarks/ is on sys.path (spawn passes the parent's)

    scn, label = _scenario(spec)
    out = run_skeleton(scn)
    n = out["orders"]
    return {
        "what": f"skeleton {label}",
        "kind": "skeleton",
        "orders": n,
        "cancelled": out["cancelled"],
        "completed": out["completed"],
        "simpy_events": out["simpy_events"],
        "simpy_events_per_order": round(out["simpy_events"] / n, 2),
        "draw_s": round(out["draw_s"], 2),
        "wall_s": round(out["wall_s"], 2),
        "orders_per_s": round(n / out["wall_s"]),
        "peak_rss_mib": round(_peak_rss_mib()),
    }


_TARGETS = {"model": _model, "skeleton": _skeleton}


def _child(kind: str, spec: dict, queue) -> None:
    try:
        queue.put(_TARGETS[kind](spec))
    except Exception as exc:  # report, so the parent does not wait forever
        queue.put({"what": f"{kind} {spec}", "kind": kind, "error": repr(exc)})


def _measure(kind: str, spec: dict) -> dict:
    """Run one measurement in a fresh (spawned) process and return its row."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(kind, spec, queue))
    proc.start()
    while True:
        try:
            out = queue.get(timeout=5)
            break
        except queue_mod.Empty:
            if not proc.is_alive():
                error = f"child exited with code {proc.exitcode}"
                return {"what": f"{kind} {spec}", "kind": kind, "error": error}
    proc.join()
    return out


def _series(spec: dict, kinds: tuple[str, ...], repeat: int) -> list[tuple[int, dict]]:
    """``repeat`` rounds of ``kinds``, the order flipped every other round so that neither side
    always runs first; each row printed as it comes. Returns (round, row) pairs."""
    rows = []
    for rnd in range(repeat):
        for kind in kinds if rnd % 2 == 0 else kinds[::-1]:
            row = _measure(kind, spec)
            row["round"] = rnd + 1
            print(json.dumps(row), flush=True)
            rows.append((rnd, row))
    return rows


def _ratios(rows: list[tuple[int, dict]]) -> list[float]:
    """Model orders/s over skeleton orders/s, per round where both succeeded."""
    by_round: dict[int, dict[str, dict]] = {}
    for rnd, row in rows:
        if "error" not in row:
            by_round.setdefault(rnd, {})[row["kind"]] = row
    return [
        r["model"]["orders_per_s"] / r["skeleton"]["orders_per_s"]
        for r in by_round.values()
        if "model" in r and "skeleton" in r
    ]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _table(rows: list[dict]) -> None:
    head = (
        f"{'measurement':40} {'orders':>10} {'build s':>8} {'run s':>8} {'collect s':>9} "
        f"{'wall s':>8} {'orders/s':>9} {'ev/order':>8} {'peak MiB':>9}"
    )
    print(head)
    for r in rows:
        what = f"{r['what']} #{r.get('round', 1)}"
        if "error" in r:
            print(f"{what:40} failed: {r['error']}")
            continue

        def col(key: str, width: int, r=r) -> str:
            return f"{r[key]:>{width}}" if key in r else " " * width

        print(
            f"{what:40} {r['orders']:>10,} {col('build_s', 8)} {col('run_s', 8)} {col('collect_s', 9)} "
            f"{r['wall_s']:>8} {r['orders_per_s']:>9,} {r['simpy_events_per_order']:>8} "
            f"{r['peak_rss_mib']:>9,}"
        )


def _summary_orders(orders: int, rows: list[tuple[int, dict]]) -> None:
    ratios = _ratios(rows)
    if not ratios:
        print(f"{orders:,} orders: no ratio (a measurement failed)")
        return
    med = statistics.median(ratios)
    spread = ""
    if len(ratios) > 1:
        spread = f" (range {min(ratios):.3f}-{max(ratios):.3f} over {len(ratios)} pairs)"
    print(
        f"{orders:,} orders: model orders/s / skeleton orders/s = {med:.3f}{spread}; "
        f"target >= {RATIO_TARGET}: {_verdict(med >= RATIO_TARGET)}"
    )


def _summary_million(rows: list[tuple[int, dict]]) -> None:
    model = [r for _, r in rows if r["kind"] == "model" and "error" not in r]
    if not model:
        print("million run: no result (the model run failed)")
        return
    peak = max(r["peak_rss_mib"] for r in model)
    share = statistics.median(r["collect_share_pct"] for r in model)
    r = model[0]
    print(
        f"million run: {r['orders']:,} orders, {r['events_logged']:,} events logged; "
        f"memory check {r['memory_check']}"
    )
    ok = peak <= RSS_TARGET_MIB
    print(f"million run: peak RSS {peak:,} MiB; target <= {RSS_TARGET_MIB} MiB: {_verdict(ok)}")
    print(
        f"million run: collect {share:.1f}% of run + collect; target < {COLLECT_SHARE_TARGET_PCT:g}%: "
        f"{_verdict(share < COLLECT_SHARE_TARGET_PCT)}"
    )
    ratios = _ratios(rows)
    if ratios:
        print(f"million run: model orders/s / skeleton orders/s = {statistics.median(ratios):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--orders", type=int, default=None, help="expected orders of the scaled baseline (default 200000)"
    )
    parser.add_argument("--million", action="store_true", help="the million-order run (model only)")
    parser.add_argument("--with-skeleton", action="store_true", help="with --million: run the skeleton too")
    parser.add_argument(
        "--million-days", type=float, default=MILLION_DAYS, help="days the million arrivals span (default 30)"
    )
    parser.add_argument(
        "--million-arrivals",
        type=int,
        default=MILLION_ARRIVALS,
        help="arrivals of the --million run (default 1008000; about 8%% fewer become orders)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds of each measurement (default 1)")
    args = parser.parse_args()
    if args.orders is not None and args.orders < 1:
        parser.error(f"--orders must be >= 1 (got {args.orders})")
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1 (got {args.repeat})")
    orders = args.orders if args.orders is not None or args.million else 200_000

    order_rows, million_rows = [], []
    if orders is not None:
        order_rows = _series({"orders": orders}, ("model", "skeleton"), args.repeat)
    if args.million:
        kinds = ("model", "skeleton") if args.with_skeleton else ("model",)
        spec = {"million": args.million_days, "arrivals": args.million_arrivals}
        million_rows = _series(spec, kinds, args.repeat)

    print()
    _table([r for _, r in order_rows + million_rows])
    print()
    if order_rows:
        _summary_orders(orders, order_rows)
    if million_rows:
        _summary_million(million_rows)


if __name__ == "__main__":
    main()
