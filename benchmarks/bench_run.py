"""Speed and memory of simcore runs, against a bare-SimPy skeleton of the same event structure.

Each measurement runs in a fresh child process so peak memory (max RSS) belongs to it alone.

    python benchmarks/bench_run.py                 # baseline at x1 and x4 volume, plus bare SimPy
    python benchmarks/bench_run.py --scales 1 10 23  # x23 ~ one million orders over 150 days

Prints one JSON line per measurement and a table. Numbers depend on the machine; compare runs
made on the same one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _simcore(scale: float, queue) -> None:
    try:
        _simcore_inner(scale, queue)
    except Exception as exc:  # report, so the parent does not wait forever
        queue.put({"what": f"simcore baseline x{scale:g}", "error": repr(exc)})


def _simcore_inner(scale: float, queue) -> None:
    import simcore

    base = simcore.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    # Scale demand and the staff that serves it together, so the queues stay stable.
    scn = simcore.load_scenario(
        ROOT / "scenarios" / "baseline.yaml",
        {
            "buyers.orders_per_hour": base.buyers.orders_per_hour * scale,
            "buyers.population": int(base.buyers.population * scale),
            "sellers.count": int(base.sellers.count * scale),
            "payment.gateway.servers": max(1, round(base.payment.gateway.servers * scale)),
            "platform.fraud.analysts": max(1, round(base.platform.fraud.analysts * scale)),
        },
    )
    t0 = time.perf_counter()
    result = simcore.run(scn)
    wall = time.perf_counter() - t0
    queue.put(
        {
            "what": f"simcore baseline x{scale:g}",
            "orders": len(result.orders),
            "review_utilization": round(result.kpis["queues"]["fraud_review"]["utilization"], 3),
            "events_logged": len(result.events),
            "wall_s": round(wall, 2),
            "orders_per_s": round(len(result.orders) / wall),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )


def _bare(scale: float, queue) -> None:
    """The same skeleton without the model: Poisson orders, one gateway request on a
    2-server Resource, then the timeouts an order waits through (screening, first look,
    handling, transit, confirmation), each a separate SimPy event as in simcore."""
    import numpy as np
    import simpy

    rng = np.random.default_rng(1)
    env = simpy.Environment()
    gateway = simpy.Resource(env, max(1, round(2 * scale)))
    import simcore

    base = simcore.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    rate = base.buyers.orders_per_hour * scale
    horizon = base.horizon_hours  # the same arrival rate and horizon as the model run
    done = [0]

    def draws():  # Exp(1) variates in blocks, as simcore's samplers draw them
        while True:
            yield from rng.exponential(1.0, 4096).tolist()

    it = draws()

    def order():
        with gateway.request() as req:
            yield req
            yield env.timeout(30 / 3600 * next(it))
        for mean in (0.0, 12.0, 48.0, 300.0, 72.0):
            yield env.timeout(mean * next(it))
        done[0] += 1

    def arrivals():
        while True:
            yield env.timeout(next(it) / rate)
            env.process(order())

    env.process(arrivals())
    t0 = time.perf_counter()
    env.run(until=horizon)
    wall = time.perf_counter() - t0
    placed = int(rate * horizon)
    queue.put(
        {
            "what": f"bare SimPy skeleton x{scale:g}",
            "orders": placed,
            "wall_s": round(wall, 2),
            "orders_per_s": round(placed / wall),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )


def _measure(target, scale: float) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(scale, queue))
    proc.start()
    while True:
        try:
            out = queue.get(timeout=5)
            break
        except Exception:
            if not proc.is_alive():
                return {"what": target.__name__, "error": f"child exited with code {proc.exitcode}"}
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 4], help="volume multipliers")
    args = parser.parse_args()
    rows = []
    for scale in args.scales:
        for target in (_simcore, _bare):
            row = _measure(target, scale)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"{'measurement':34} {'orders':>10} {'wall s':>8} {'orders/s':>9} {'peak MB':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['what']:34} failed: {r['error']}")
            continue
        line = f"{r['what']:34} {r['orders']:>10,} {r['wall_s']:>8} {r['orders_per_s']:>9,}"
        print(f"{line} {r['peak_rss_mb']:>8}")


if __name__ == "__main__":
    main()
