"""The ``simcore`` command line: run, sweep, warmup, report, export, trace, validate, schema.

Exit codes: 0 success, 2 bad input (scenario, overrides, arguments), 1 internal error.
This is the only module that prints or parses argv.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import sys
import tempfile
import traceback
from contextlib import nullcontext
from pathlib import Path

from simcore.errors import ScenarioError
from simcore.loader import load_scenario, parse_overrides
from simcore.paths import cannot_write, write_atomic
from simcore.runner import run, write_outputs
from simcore.schema import Scenario
from simcore.version import __version__
from simcore.volume import check_volume

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="simcore",
        description="Discrete-event simulator of order cancellations on an AliExpress-like marketplace.",
    )
    p.add_argument("--version", action="version", version=f"simcore {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    w.add_argument("--out", type=Path, required=True, help="store folder; rerunning resumes it")
    w.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )
    w.add_argument("--executor", choices=("process", "dask"), default="process", help="where runs execute")
    w.add_argument(
        "--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler (default: a local cluster)"
    )
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
    w.add_argument("--quiet", action="store_true", help="no progress bar")

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

    e = sub.add_parser("export", help="write a run's event log as OCEL 2.0, XES or CSV for process mining")
    e.add_argument("run_dir", type=Path, help="a folder written by simcore run")
    e.add_argument("--format", choices=("ocel", "xes", "csv"), required=True, help="output format")
    e.add_argument("--out", type=Path, required=True, help="file to write (a name ending .gz compresses)")

    o = sub.add_parser("report", help="one self-contained HTML report (or PNG figures) of a run or a sweep")
    o.add_argument("folder", type=Path, help="a run folder (simcore run) or a sweep store (simcore sweep)")
    o.add_argument("--out", type=Path, required=True, help="the HTML file, or with --format png a folder")
    o.add_argument("--format", choices=("html", "png"), default="html", help="html (default) or png")

    t = sub.add_parser("trace", help="print the story of one order, event by event")
    t.add_argument("run_dir", type=Path, help="a folder written by simcore run")
    t.add_argument("order_id", help="the order's id (orders.parquet order_id)")

    v = sub.add_parser("validate", help="check a scenario file and report every problem")
    v.add_argument("scenario", type=Path)
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")
    s.add_argument("--markdown", action="store_true", help="the scenario reference as Markdown instead")
    return p


def _print_problems(exc: ScenarioError) -> None:
    n = len(exc.problems)
    # Problems with command-line flags (--out, --jobs, ...) are not the scenario's fault;
    # --set overrides are scenario values.
    flags = all(line.startswith("--") and not line.startswith("--set") for line in exc.problems)
    what = "arguments" if flags else "scenario"
    print(f"error: invalid {what} ({n} problem{'s' if n != 1 else ''}):", file=sys.stderr)
    for line in exc.problems:
        print(f"  {line}", file=sys.stderr)


def _check_out_dir(out: Path) -> None:
    """Fail before the run, not after it, when ``out`` cannot be a writable folder."""
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out: exists and is not a folder (got {str(out)!r})")
    existing = out.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ScenarioError(f"--out: {str(existing)!r} is a file, so {str(out)!r} cannot be a folder")
    # The outputs are first written to a temporary folder right here.
    why = cannot_write(existing)
    if why is not None:
        raise ScenarioError(f"--out: cannot write in {str(existing)!r} ({why})")


def _cmd_run(args) -> int:
    from analysis.tables import kpi_report

    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"--seed: must be >= 0 (got {args.seed})")
    _check_out_dir(args.out)
    scn = load_scenario(args.scenario, parse_overrides(args.overrides))
    check_volume(scn, source=str(args.scenario))
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
        extra["summary.png"] = lambda path: fig.savefig(path, dpi=110)
    written = write_outputs(result, args.out, extra=extra)
    if not args.quiet:
        print(f"scenario {scn.name!r}, seed {result.seed}")
        print(kpi_report(result.kpis))
        print(f"wrote {', '.join(p.name for p in written)} to {args.out}")
    return EXIT_OK


def _cmd_sweep(args) -> int:
    from simcore.sweep import make_executor, progress_bar, read_sweep, run_until

    if args.jobs < 1:
        raise ScenarioError(f"--jobs: must be >= 1 (got {args.jobs})")
    if args.scheduler and args.executor != "dask":
        raise ScenarioError("--scheduler: only with --executor dask")
    if not args.precision and (args.max_replications is not None or args.precision_baseline is not None):
        raise ScenarioError("--max-replications, --precision-baseline: only with --precision")
    _check_out_dir(args.out)
    sweep = read_sweep(args.sweep)
    rule = _precision_rule(args, sweep) if args.precision else None
    with (
        progress_bar(args.sweep.stem) if not args.quiet else nullcontext() as progress,
        make_executor(args.executor, args.jobs, args.scheduler) as executor,
    ):
        rounds = run_until(sweep, args.out, rule or (lambda n: None), executor, progress)
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


def _precision_rule(args, sweep):
    """The ``--precision`` stopping rule, its targets, cap and baseline checked before any run."""
    from analysis.precision import PrecisionRule, parse_target
    from simcore.runner import kpi_names

    targets, problems = [], []
    for text in args.precision:
        try:
            targets.append(parse_target(text))
        except ScenarioError as exc:
            problems += exc.problems
    known = kpi_names(next(iter(sweep.scenarios.values())))
    for t in targets:
        if t.kpi not in known:
            close = difflib.get_close_matches(t.kpi, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "KPIs are named as in analysis.load_sweep"
            problems.append(f"--precision: no such KPI (got {t.kpi!r}; {hint})")
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
        raise ScenarioError(problems)
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


def _cmd_warmup(args) -> int:
    from analysis.warmup import DEFAULT_COLUMNS, SERIES, SETTLE_DAYS, suggest_warmup, warmup_series

    problems = []
    if args.replications < 1:
        problems.append(f"--replications: must be >= 1 (got {args.replications})")
    if args.seed is not None and args.seed < 0:
        problems.append(f"--seed: must be >= 0 (got {args.seed})")
    if args.plot is not None:
        try:
            _check_out_dir(args.plot.parent)
        except ScenarioError as exc:
            problems += [line.replace("--out", "--plot", 1) for line in exc.problems]
        if args.plot.is_dir():
            problems.append(f"--plot: is a folder, not a file (got {str(args.plot)!r})")
        if args.plot.suffix.lower() not in (".png", ".pdf", ".svg"):
            problems.append(f"--plot: must end in .png, .pdf or .svg (got {str(args.plot)!r})")
    columns = tuple(args.series or DEFAULT_COLUMNS)
    unknown = [c for c in columns if c not in SERIES]
    if unknown:
        problems.append(f"--series: unknown {', '.join(unknown)} (have {', '.join(SERIES)})")
    if problems:
        raise ScenarioError(problems)
    overrides = parse_overrides(args.overrides)
    scn = load_scenario(args.scenario, overrides)
    pilot = {"warmup_days": 0, "cooldown_days": 0}
    if args.horizon_days is not None:
        pilot["horizon_days"] = args.horizon_days
    pilot_scn = load_scenario(args.scenario, {**overrides, **pilot})
    shortest = 2 * 5 + SETTLE_DAYS  # MSER-5 needs two batches of settled days
    if pilot_scn.horizon_days < shortest:
        raise ScenarioError(
            f"--horizon-days: pilots must run at least {shortest} days for MSER-5 "
            f"(got {pilot_scn.horizon_days:g})"
        )
    check_volume(pilot_scn, source=str(args.scenario))
    reps = range(args.replications)
    if not args.quiet:
        from tqdm import tqdm

        reps = tqdm(reps, unit="pilot", desc=scn.name, file=sys.stderr, leave=False, disable=None)
    series = [warmup_series(run(pilot_scn, seed=args.seed, replication=r)) for r in reps]
    try:
        suggestion = suggest_warmup(series, columns)
    except ValueError as exc:  # an unknown series, or pilots too short for MSER
        raise ScenarioError(f"--series/--horizon-days: {exc}") from None
    print(
        f"{args.scenario}: {args.replications} pilot run{'s' * (args.replications != 1)} of "
        f"{pilot_scn.horizon_days:g} days from an empty start, MSER-{suggestion.batch} per series:"
    )
    for row in suggestion.by_series.itertuples():
        note = "  (at MSER's search limit: not settled; run longer pilots)" if row.at_limit else ""
        print(f"  {row.column:<24} cut {row.truncation_days:>4} days, mean after {row.mean_after:.4g}{note}")
    print(f"suggested warmup_days: {suggestion.days} (the scenario has {scn.warmup_days:g})")
    if args.plot is not None:
        _write_warmup_plot(suggestion, columns, args.plot)
        print(f"wrote the Welch plots to {args.plot}")
    return EXIT_OK


def _write_warmup_plot(suggestion, columns, path: Path) -> None:
    """The Welch plots, written whole or not at all."""
    from analysis.plots import warmup_figure

    buf = io.BytesIO()
    warmup_figure(suggestion, columns).savefig(buf, dpi=110, format=path.suffix.lstrip(".").lower())
    write_atomic(path, buf.getvalue())


def _cmd_export(args) -> int:
    from analysis.export import export_run
    from analysis.io import RunInputError

    try:
        summary = export_run(args.run_dir, args.format, args.out)
    except RunInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary)
    return EXIT_OK


def _cmd_report(args) -> int:
    from analysis.io import RunInputError
    from analysis.report import write_report

    try:
        written = write_report(args.folder, args.out, fmt=args.format)
    except RunInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    what = "report" if args.format == "html" else f"{len(written)} figures"
    print(f"wrote the {what} of {args.folder} to {args.out}")
    return EXIT_OK


def _cmd_trace(args) -> int:
    from analysis.io import RunInputError
    from analysis.trace import format_story, order_story

    try:
        story = order_story(args.run_dir, args.order_id)
    except RunInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(format_story(story))
    return EXIT_OK


def _cmd_validate(args) -> int:
    scn = load_scenario(args.scenario, parse_overrides(args.overrides))
    print(f"{args.scenario}: ok (scenario {scn.name!r}, {scn.horizon_days:g} days, seed {scn.seed})")
    return EXIT_OK


def _cmd_schema(args) -> int:
    if args.markdown:
        from simcore.reference import scenario_reference_markdown

        text = scenario_reference_markdown()
    else:
        text = json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(args.out, text.encode("utf-8"))
    except OSError as exc:
        raise ScenarioError(f"--out: cannot write {str(args.out)!r} ({exc.strerror})") from None
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simcore`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    commands = {
        "run": _cmd_run,
        "sweep": _cmd_sweep,
        "warmup": _cmd_warmup,
        "export": _cmd_export,
        "report": _cmd_report,
        "trace": _cmd_trace,
        "validate": _cmd_validate,
        "schema": _cmd_schema,
    }
    try:
        return commands[args.command](args)
    except ScenarioError as exc:
        _print_problems(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: a bug to report, with the traceback on file
        where = _write_crash_report(argv)
        print(f"simcore: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if where is None:
            traceback.print_exc()
        else:
            print(f"  the full traceback is in {where}; please attach it when reporting", file=sys.stderr)
        return EXIT_INTERNAL


def _write_crash_report(argv: list[str] | None) -> Path | None:
    """Write the current exception's traceback, the command and versions to a file in the
    temporary folder; None if that fails (the caller then prints the traceback)."""
    import platform
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"simcore-crash-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"simcore {__version__}, Python {platform.python_version()}, {platform.platform()}\n")
            out.write(f"command: simcore {' '.join(sys.argv[1:] if argv is None else argv)}\n\n")
            out.write(traceback.format_exc())
        return Path(name)
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
