"""Instructions and cache misses an order, model against skeleton, counted by cachegrind.

    python benchmarks/bench_cache.py                  # the baseline over 40 days at scale 3.7
    python benchmarks/bench_cache.py --days 20        # quicker
    python benchmarks/bench_cache.py --scale 0.5      # a small market (a small working set)
    python benchmarks/bench_cache.py --level 2        # each core's L2 as the last level (else L3)

bench_run.py's ratio is a ratio of seconds, and on this machine it drifts with the host: over
the sessions of 6 and 7 December the skeleton ran at 19,200 to 58,000 orders a second and the
model at 14,600 to 23,600, and their ratio at 0.39 to 0.60, while a run's instructions stayed
within 14.8-17.5 G (callgrind, benchmarks/README.md). This script measures what does not drift:
valgrind's cachegrind runs each side on a simulated CPU and counts the instructions it executes
and its simulated cache misses, the same for the same code and inputs whatever else the machine
is doing (the simulated caches take the host's sizes: compare runs made on one machine).

Each side runs twice under cachegrind (four runs, two at a time): the scenario built and not
run, and built then run to the horizon (for the model, ``World(scn)``, ``run()`` and
``collect()`` as in bench_run.py; for the skeleton, ``run_skeleton``, its pre-drawing included).
The difference of the two, divided by the orders placed, is the cost of an order: imports, the
scenario's loading and the model's build cancel out. Both read the same scaled baseline
(bench_run.py's scaling, over ``--days`` with 5 days of cool-down).

Printed per order and side: instructions (``I refs``), first-level instruction-cache misses
(``I1``), data reads and writes (``D refs``), first-level data-cache misses (``D1``), and
last-level misses (``LL``: this machine's L3, or its L2 with ``--level 2``, as Linux describes
them in /sys; cachegrind simulates two levels). Then the instruction ratio, skeleton over model:
the ratio of throughputs the model would reach if its instructions ran as fast as the
skeleton's. Where the measured ratio of seconds falls below it, the model's instructions run
slower than the skeleton's: more first-level misses an instruction, from the wider code and
state an order of the model touches.

Needs ``valgrind`` on the PATH (every machine of this project's kind has it); without it, says
so. Always exits 0: benchmarks measure, tests assert. About 4 minutes at the defaults.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = HERE.parent / "scenarios" / "baseline.yaml"
#: The counts read off cachegrind's summary, by the name printed here.
COUNTS = {
    "instructions": "I refs",
    "I1 misses": "I1 misses",
    "data refs": "D refs",
    "D1 misses": "D1 misses",
    "LL misses": "LL misses",
}
_LINE = re.compile(r"^==\d+== (?P<name>[A-Za-z0-9 ]+?):\s+(?P<value>[\d,]+)")


def cache_flag(level: int, sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> str | None:
    """cachegrind's ``--LL=size,ways,line`` for this machine's unified cache of ``level`` (2 or
    3) as Linux describes it, or None where it does not. cachegrind simulates two levels, the
    first and a last; left to itself it took this machine's last level as 512 MiB (the real L3 is
    32 MiB, each core's L2 1 MiB), under which nothing ever misses."""
    for index in sorted(sysfs.glob("index*")):
        try:
            unified = (index / "type").read_text().strip() == "Unified"
            if int((index / "level").read_text()) != level or not unified:
                continue
            size = (index / "size").read_text().strip()
            ways = int((index / "ways_of_associativity").read_text())
            line = int((index / "coherency_line_size").read_text())
        except (OSError, ValueError):
            return None
        factor = {"K": 1024, "M": 1024**2}.get(size[-1], 1)
        return f"--LL={int(size.rstrip('KM')) * factor},{ways},{line}"
    return None


def scenario_overrides(days: float, scale: float) -> dict:
    """The scaled baseline both sides run: ``days`` of horizon, 5 of them cool-down."""
    return {"horizon_days": days, "cooldown_days": 5, "scale": scale}


def parse_summary(text: str) -> dict[str, int]:
    """cachegrind's summary (its stderr) as counts by the names of :data:`COUNTS`.

    Raises:
        ValueError: a count is missing (cachegrind failed, or ran without ``--cache-sim=yes``).
    """
    found: dict[str, int] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            # (cachegrind aligns its labels with spaces: "I   refs", "I1  misses".)
            found.setdefault(" ".join(m["name"].split()), int(m["value"].replace(",", "")))
    missing = [label for label in COUNTS.values() if label not in found]
    if missing:
        raise ValueError(f"cachegrind printed no {', '.join(missing)}: {text[-500:]!r}")
    return {name: found[label] for name, label in COUNTS.items()}


def _child(kind: str, phase: str, days: float, scale: float) -> None:
    """Inside valgrind: build (and for ``phase`` "full", run) one side; print its orders."""
    sys.path.insert(0, str(HERE))
    from skeleton import run_skeleton

    import simcore
    from simcore.model.world import World
    from simcore.results.collect import collect

    scn = simcore.load_scenario(BASELINE, scenario_overrides(days, scale))
    orders = 0
    if kind == "model":
        world = World(scn)
        if phase == "full":
            orders = len(collect(world.run()).orders)
    elif phase == "full":
        orders = run_skeleton(scn)["orders"]
    print(json.dumps({"orders": orders}))


def _measure(kind: str, phase: str, days: float, scale: float, ll: str | None) -> dict:
    """One side and phase under cachegrind (last level ``ll``, a ``--LL=`` flag, or cachegrind's
    own guess): its counts and orders (or the error)."""
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=yes",
        *([ll] if ll else []),
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        kind,
        phase,
        "--days",
        str(days),
        "--scale",
        str(scale),
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    row = {"kind": kind, "phase": phase, "valgrind_s": round(time.perf_counter() - t0, 1)}
    try:
        row.update(parse_summary(done.stderr))
        row["orders"] = json.loads(done.stdout.strip().splitlines()[-1])["orders"]
    except (ValueError, IndexError, KeyError) as exc:
        row["error"] = f"exit {done.returncode}: {exc}"
    return row


def per_order(build: dict, full: dict) -> dict[str, float]:
    """What an order costs: the full run's counts less the build's, over the orders placed."""
    n = full["orders"]
    return {name: (full[name] - build[name]) / n for name in COUNTS}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=40.0, help="horizon in days (default 40)")
    parser.add_argument(
        "--scale", type=float, default=3.7, help="the market's scale (default 3.7, bench_run.py's)"
    )
    parser.add_argument(
        "--level",
        type=int,
        choices=(2, 3),
        default=3,
        help="the machine's cache simulated as the last level: 3 (default) or 2 (per core)",
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PHASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child, args.days, args.scale)
        return
    import simcore
    from simcore.errors import ScenarioError

    try:  # refused here, in one line, rather than four times inside valgrind
        simcore.load_scenario(BASELINE, scenario_overrides(args.days, args.scale))
    except ScenarioError as exc:
        parser.error(f"--days {args.days:g} --scale {args.scale:g}: {exc}")
    if shutil.which("valgrind") is None:
        print("valgrind is not on the PATH: nothing measured (apt-get install valgrind)")
        return
    # A first run outside valgrind writes the modules' bytecode caches, so that no measured run
    # compiles them (compiling is counted, and only the first run would pay it).
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "model",
            "build",
            "--days",
            str(args.days),
            "--scale",
            str(args.scale),
        ],
        check=False,
        capture_output=True,
    )
    jobs = [(k, p) for k in ("model", "skeleton") for p in ("full", "build")]
    ll = cache_flag(args.level)
    print(f"last level simulated: {ll or 'cachegrind guesses (no /sys cache description)'}", flush=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # cachegrind's counts do not depend on load
        rows = list(pool.map(lambda job: _measure(*job, args.days, args.scale, ll), jobs))
    by = {(r["kind"], r["phase"]): r for r in rows}
    for r in rows:
        print(json.dumps(r))
    failed = [r for r in rows if "error" in r]
    if failed:
        print(f"\nno comparison: {len(failed)} measurement(s) failed")
        return
    cost = {k: per_order(by[k, "build"], by[k, "full"]) for k in ("model", "skeleton")}
    print(
        f"\nper order, baseline x{args.scale:g} over {args.days:g} days "
        f"(model {by['model', 'full']['orders']:,} orders, skeleton {by['skeleton', 'full']['orders']:,}):"
    )
    print(f"{'':10}" + "".join(f"{name:>14}" for name in COUNTS) + f"{'D1/instr':>10}{'I1/instr':>10}")
    for kind, c in cost.items():
        print(
            f"{kind:10}"
            + "".join(f"{c[name]:>14,.0f}" for name in COUNTS)
            + f"{c['D1 misses'] / c['instructions']:>10.4f}{c['I1 misses'] / c['instructions']:>10.4f}"
        )
    m, s = cost["model"], cost["skeleton"]
    print(
        f"\ninstruction ratio, skeleton / model per order: {s['instructions'] / m['instructions']:.3f} "
        "(the model's throughput ratio if its instructions ran at the skeleton's speed)"
    )
    l1 = (m["I1 misses"] + m["D1 misses"]) / (s["I1 misses"] + s["D1 misses"])
    print(f"first-level misses per order, model / skeleton: {l1:.2f}")
    if s["LL misses"] > 0:
        print(f"last-level misses per order, model / skeleton: {m['LL misses'] / s['LL misses']:.2f}")


if __name__ == "__main__":
    main()
