"""The ``simcore`` command line: run, sweep, validate, schema.

Exit codes: 0 success, 2 bad input (scenario, overrides, arguments), 1 internal error.
This is the only module that prints or parses argv.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from simcore.errors import ScenarioError
from simcore.loader import load_scenario, parse_overrides
from simcore.runner import run, write_outputs
from simcore.schema import Scenario
from simcore.version import __version__

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
    w.add_argument("--quiet", action="store_true", help="no progress bar")

    v = sub.add_parser("validate", help="check a scenario file and report every problem")
    v.add_argument("scenario", type=Path)
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")
    s.add_argument("--markdown", action="store_true", help="the scenario reference as Markdown instead")
    return p


def _print_problems(exc: ScenarioError) -> None:
    n = len(exc.problems)
    print(f"error: invalid scenario ({n} problem{'s' if n != 1 else ''}):", file=sys.stderr)
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
    if not os.access(existing, os.W_OK):
        raise ScenarioError(f"--out: no permission to write in {str(existing)!r}")


def _cmd_run(args) -> int:
    from analysis.tables import kpi_report

    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"--seed: must be >= 0 (got {args.seed})")
    _check_out_dir(args.out)
    scn = load_scenario(args.scenario, parse_overrides(args.overrides))
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
    from simcore.sweep import make_executor, read_sweep, run_sweep

    if args.jobs < 1:
        raise ScenarioError(f"--jobs: must be >= 1 (got {args.jobs})")
    if args.scheduler and args.executor != "dask":
        raise ScenarioError("--scheduler: only with --executor dask")
    _check_out_dir(args.out)
    sweep = read_sweep(args.sweep)
    n_runs = len(sweep.tasks())
    bar = None
    progress = None
    if not args.quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_runs, unit="run", desc=args.sweep.stem, file=sys.stderr, disable=None)

        def progress(finished: int, total: int) -> None:
            bar.update(finished - bar.n)

    with make_executor(args.executor, args.jobs, args.scheduler) as executor:
        try:
            report = run_sweep(sweep, args.out, executor, progress)
        finally:
            if bar is not None:
                bar.close()
    cells, arms = len(sweep.cells), len(sweep.strategies)
    print(
        f"{args.sweep}: {cells} cell{'s' * (cells != 1)} x {arms} strateg{'ies' if arms != 1 else 'y'} x "
        f"{sweep.spec.replications} replications = {n_runs} runs; {report.done} run now, "
        f"{report.skipped} already done, {len(report.failed)} failed; store {args.out}"
    )
    for f in report.failed:
        print(
            f"  failed: cell {f['cell_id']} {f['cell']}, strategy {f['strategy']!r}, seed {f['seed']}, "
            f"replication {f['replication']}: {f['error']}",
            file=sys.stderr,
        )
    return EXIT_INTERNAL if report.failed else EXIT_OK


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
    else:
        args.out.write_text(text, encoding="utf-8")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simcore`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    commands = {"run": _cmd_run, "sweep": _cmd_sweep, "validate": _cmd_validate, "schema": _cmd_schema}
    try:
        return commands[args.command](args)
    except ScenarioError as exc:
        _print_problems(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # an internal error: show the traceback, it is a bug to report
        traceback.print_exc()
        print("simcore: internal error (please report with the traceback above)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
