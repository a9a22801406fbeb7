"""``simcore run`` and ``simcore sweep``: running scenarios and sweeps into output folders."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from simcore.cli.common import EXIT_INTERNAL, EXIT_OK, check_out_dir, flagged, warn
from simcore.errors import ArgumentError, InputError
from simcore.experiments.admission import check_volume, scenario_warnings
from simcore.experiments.runner import run
from simcore.results.outputs import write_outputs
from simcore.scenario.loader import load_scenario, parse_overrides

T = TypeVar("T")

#: The figure ``run --plot`` draws into the run folder.
SUMMARY_FIGURE = "summary.png"

#: Measured utilisation from which a station is taken as saturated (its queue never emptied).
SATURATED = 0.98


def run_command(args) -> int:
    from analysis.tables import kpi_report

    if args.seed is not None and args.seed < 0:
        raise ArgumentError(f"--seed: must be >= 0 (got {args.seed})")
    check_out_dir(args.out)
    scn = load_scenario(args.scenario, parse_overrides(args.overrides))
    check_volume(scn, source=str(args.scenario))
    warn(scenario_warnings(scn), source=str(args.scenario))
    progress = None
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=scn.horizon_days, unit="day", desc=scn.name, file=sys.stderr, leave=False, disable=None
        )
        done = [0.0]

        def progress(days: float) -> None:
            bar.update(days - done[0])
            done[0] = days

    try:
        result = run(scn, seed=args.seed, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    extra = {}
    if args.plot:
        from analysis.plots import plot_run_summary

        fig = plot_run_summary(
            result.timeseries,
            result.orders,
            result.kpis,
            title=scn.name,
            warmup_days=scn.warmup_days,
            window_hours=scn.kpi_window_hours,
        )
        extra[SUMMARY_FIGURE] = lambda path: fig.savefig(path, dpi=110)
    # A rerun without --plot into the same folder removes the earlier run's figure.
    written = write_outputs(result, args.out, extra=extra, replaces=(SUMMARY_FIGURE,))
    # Measured, for the queues no prediction covers (customer service serves the disputes the
    # run produces): a station busy all the time had a queue that grew through the run.
    warn(
        [
            f"queue {name!r} was busy {q['utilization']:.0%} of the time: its queue grew through "
            "the run and its waits measure the run's length"
            for name, q in result.kpis["queues"].items()
            if q["utilization"] >= SATURATED
        ],
        source=str(args.scenario),
    )
    if not args.quiet:
        lo, hi = (h / 24.0 for h in scn.kpi_window_hours)
        print(
            f"scenario {scn.name!r}, seed {result.seed}; KPIs count orders placed on days "
            f"[{lo:g}, {hi:g}) (warm-up {scn.warmup_days:g}, cool-down {scn.cooldown_days:g} days)"
        )
        print(kpi_report(result.kpis))
        print(f"wrote {', '.join(p.name for p in written)} to {args.out}")
    return EXIT_OK


def _check_workers(args) -> None:
    """An experiment command's ``--jobs`` and ``--scheduler``, checked before anything is read."""
    if args.jobs < 1:
        raise ArgumentError(f"--jobs: must be >= 1 (got {args.jobs})")
    if args.scheduler and args.executor != "dask":
        raise ArgumentError("--scheduler: only with --executor dask")


@contextmanager
def _workers(args, label: str) -> Iterator[tuple[Callable[[int, int], None] | None, Executor]]:
    """(progress bar or None with ``--quiet``, the executor ``--executor``/``--jobs`` name)."""
    from simcore.experiments.executors import make_executor, progress_bar

    with (
        progress_bar(label) if not args.quiet else nullcontext() as progress,
        make_executor(args.executor, args.jobs, args.scheduler) as executor,
    ):
        yield progress, executor


def _experiment(
    args, path: Path, start: Callable[[Executor, Callable[[int, int], None] | None], T]
) -> T | None:
    """``start(executor, progress)`` on the workers the command asks for; None, said on stderr,
    when a run failed (the store keeps what finished, so the same command resumes)."""
    from simcore.experiments.arms import RunFailed

    try:
        with _workers(args, path.stem) as (progress, executor):
            return start(executor, progress)
    except RunFailed as exc:
        print(f"{path}: {exc}; rerun the same command to resume", file=sys.stderr)
        return None


def sweep_command(args) -> int:
    from simcore.experiments.sweep import read_sweep, run_until

    _check_workers(args)
    if not args.precision and (args.max_replications is not None or args.precision_baseline is not None):
        raise ArgumentError("--max-replications, --precision-baseline: only with --precision")
    check_out_dir(args.out)
    sweep = read_sweep(args.sweep)
    # What any arm will measure badly, each said once (arms often share their problems).
    warn(
        list(dict.fromkeys(line for scn in sweep.scenarios.values() for line in scenario_warnings(scn))),
        source=str(args.sweep),
    )
    rule = _precision_rule(args, sweep) if args.precision else None
    with _workers(args, args.sweep.stem) as (progress, executor):
        rounds = run_until(sweep, args.out, rule or (lambda n: None), executor, progress)
    if rounds[0].adopted:
        print(f"{args.out}: moved {rounds[0].adopted} finished runs of an earlier store layout into this one")
    sweep = sweep.with_replications(rounds[-1].replications)
    done, failed = sum(r.done for r in rounds), [f for r in rounds for f in r.failed]
    skipped = len(sweep.tasks()) - done - len(failed)
    cells, arms = len(sweep.cells), len(sweep.strategies)
    print(
        f"{args.sweep}: {cells} cell{'s' * (cells != 1)} x {arms} strateg{'ies' if arms != 1 else 'y'} x "
        f"{sweep.spec.replications} replications = {len(sweep.tasks())} runs; {done} run now, "
        f"{skipped} already done, {len(failed)} failed; store {args.out}"
    )
    if rule is not None and not failed:
        _print_precision(rule)
    for f in failed:
        print(
            f"  failed: cell {f['cell_id']} {f['cell']}, strategy {f['strategy']!r}, seed {f['seed']}, "
            f"replication {f['replication']}: {f['error']}",
            file=sys.stderr,
        )
    if failed:
        print(
            f"  tracebacks in {failed[0]['trace_file'].parent}; rerun the same command to retry "
            "the failed runs (finished ones are kept)",
            file=sys.stderr,
        )
    return EXIT_INTERNAL if failed else EXIT_OK


def optimize_command(args) -> int:
    from simcore.experiments.optfile import read_optimization
    from simcore.experiments.optimize import optimize

    _check_workers(args)
    check_out_dir(args.out)
    opt = read_optimization(args.optimization)
    warn(
        list(dict.fromkeys(line for c in opt.candidates for line in scenario_warnings(c.scenario))),
        source=str(args.optimization),
    )
    out = _experiment(
        args, args.optimization, lambda executor, progress: optimize(opt, args.out, executor, progress)
    )
    if out is None:
        return EXIT_INTERNAL
    print(f"{args.optimization}: {out.status}; {out.runs} runs; result {args.out / 'result.json'}")
    if out.best is not None:
        levers = ", ".join(f"{k} = {v}" for k, v in out.best["levers"].items())
        reps = out.best["replications"]
        print(f"  best: {levers} (cost {out.best['cost']:g}, {reps} clean-up replications)")
        for name, k in out.best["kpis"].items():
            p = out.best["p_feasible"].get(name)
            feas = "" if p is None else f"; P(meets its bound) {p:.3f}"
            print(f"    {name}: {k['mean']:.6g} [{k['ci_low']:.6g}, {k['ci_high']:.6g}]{feas}")
    for t in out.tied:
        print(f"  tied: {t['levers']} (cost {t['cost']:g})")
    return EXIT_OK


def calibrate_command(args) -> int:
    from simcore.experiments.calibfile import read_calibration
    from simcore.experiments.calibrate import calibrate

    _check_workers(args)
    check_out_dir(args.out)
    cal = read_calibration(args.calibration)
    out = _experiment(
        args, args.calibration, lambda executor, progress: calibrate(cal, args.out, executor, progress)
    )
    if out is None:
        return EXIT_INTERNAL
    r = out.result
    shares = ", ".join(f"{s:.3g}" for s in r["nroy_share"])
    print(f"{args.calibration}: {out.status}; {r['runs']} runs; not ruled out by wave: {shares}")
    for key, p in r["parameters"].items():
        print(f"  {key}: median {p['q50']:.4g} [90%: {p['q05']:.4g}, {p['q95']:.4g}]")
    keys = list(r["parameters"])
    for i, a in enumerate(keys):  # parameters that trade off: their answer is a curve, not a point
        for b in keys[i + 1 :]:
            rho = r["correlation"].get(a, {}).get(b)
            if rho is not None and abs(rho) >= 0.5:
                print(f"  {a} and {b} trade off: posterior correlation {rho:.2f}")
    for name, p in r["predictive"].items():
        mark = "" if p["covered"] else "  (target outside)"
        band = f"[{p['q05']:.4g}, {p['q95']:.4g}]"
        print(f"  {name}: target {p['target']:.4g}, simulated {p['q50']:.4g} {band}{mark}")
    print(f"  {args.out / 'calibrated.yaml'}: a scenario with the posterior medians")
    return EXIT_OK


def _precision_rule(args, sweep):
    """The ``--precision`` stopping rule, its targets, cap and baseline checked before any run."""
    from analysis.precision import PrecisionRule, parse_target
    from simcore.results.registry import KPIS, unknown_kpi

    targets, problems = [], []
    for text in args.precision:
        try:
            targets.append(parse_target(text))
        except InputError as exc:
            problems += flagged("--precision", exc).problems
    known = {k.name for k in KPIS}
    problems += [f"--precision: {unknown_kpi(t.kpi)}" for t in targets if t.kpi not in known]
    cap = 10 * sweep.spec.replications if args.max_replications is None else args.max_replications
    if cap < sweep.spec.replications:
        problems.append(
            f"--max-replications: must be >= the sweep file's replications {sweep.spec.replications} "
            f"(got {cap})"
        )
    if args.precision_baseline is not None and len(sweep.strategies) < 2:
        problems.append(
            "--precision-baseline: the sweep has one strategy, so there is no difference to measure"
        )
    elif args.precision_baseline is not None and args.precision_baseline not in sweep.strategies:
        problems.append(
            f"--precision-baseline: not a strategy of the sweep (got {args.precision_baseline!r}; "
            f"have {', '.join(sweep.strategies)})"
        )
    if problems:
        raise ArgumentError(problems)
    return PrecisionRule(args.out, targets, cap, args.precision_baseline)


def _print_precision(rule) -> None:
    """The widest half-width of each target KPI against its target, after the last round."""
    verdict = "met" if rule.met else "NOT met within --max-replications"
    print(f"precision targets {verdict} with {rule.replications} replications per arm:")
    t = rule.table
    for target in rule.targets:
        rows = t[t["kpi"] == target.kpi]
        if rows.empty:
            continue
        # 0/0 (a zero-width interval of a zero mean) is met; an undefined interval is the worst.
        over = (rows["half_width"] / rows["target"]).where(~rows["met"] | (rows["half_width"] > 0), 0.0)
        worst = rows.loc[over.fillna(float("inf")).idxmax()]
        print(
            f"  {target}: widest half-width {worst['half_width']:.4g} (target {worst['target']:.4g}, "
            f"cell {worst['cell_id']}, {worst['strategy']}); {int(rows['met'].sum())}/{len(rows)} met"
        )
