"""The ``simcore`` commands around runs: warmup, export, report, trace, validate, schema, kpis."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from simcore.cli.common import EXIT_OK, check_out_dir, warn
from simcore.errors import ArgumentError, InputError
from simcore.experiments.admission import check_volume, scenario_warnings
from simcore.experiments.runner import run
from simcore.paths import write_atomic
from simcore.scenario.loader import load_scenario, parse_overrides
from simcore.scenario.schema import Scenario


def warmup_command(args) -> int:
    from analysis.warmup import (
        DEFAULT_COLUMNS,
        SERIES,
        SETTLE_DAYS,
        calendar_events,
        event_near,
        suggest_warmup,
        warmup_series,
    )

    problems = []
    if args.replications < 1:
        problems.append(f"--replications: must be >= 1 (got {args.replications})")
    if args.seed is not None and args.seed < 0:
        problems.append(f"--seed: must be >= 0 (got {args.seed})")
    if args.plot is not None:
        try:
            check_out_dir(args.plot.parent, flag="--plot")
        except InputError as exc:
            problems += exc.problems
        if args.plot.is_dir():
            problems.append(f"--plot: is a folder, not a file (got {str(args.plot)!r})")
        if args.plot.suffix.lower() not in (".png", ".pdf", ".svg"):
            problems.append(f"--plot: must end in .png, .pdf or .svg (got {str(args.plot)!r})")
    columns = tuple(args.series or DEFAULT_COLUMNS)
    unknown = [c for c in columns if c not in SERIES]
    if unknown:
        problems.append(f"--series: unknown {', '.join(unknown)} (have {', '.join(SERIES)})")
    if problems:
        raise ArgumentError(problems)
    overrides = parse_overrides(args.overrides)
    scn = load_scenario(args.scenario, overrides)
    pilot = {"warmup_days": 0, "cooldown_days": 0}
    if args.horizon_days is not None:
        pilot["horizon_days"] = args.horizon_days
    pilot_scn = load_scenario(args.scenario, {**overrides, **pilot})
    shortest = 2 * 5 + SETTLE_DAYS  # MSER-5 needs two batches of settled days
    if pilot_scn.horizon_days < shortest:
        raise ArgumentError(
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
        raise ArgumentError(f"--series/--horizon-days: {exc}") from None
    print(
        f"{args.scenario}: {args.replications} pilot run{'s' * (args.replications != 1)} of "
        f"{pilot_scn.horizon_days:g} days with no warm-up, MSER-{suggestion.batch} per series:"
    )
    events = [e for e in calendar_events(pilot_scn) if e[2] > 0 and e[1] < pilot_scn.horizon_days]
    for row in suggestion.by_series.itertuples():
        note = "  (at MSER's search limit: not settled; run longer pilots)" if row.at_limit else ""
        event = event_near(row.truncation_days, events) if row.truncation_days > 0 else None
        if event is not None:
            note += f"  (at or after {event}: its swing, not a start transient?)"
        print(f"  {row.column:<24} cut {row.truncation_days:>4} days, mean after {row.mean_after:.4g}{note}")
    print(f"suggested warmup_days: {suggestion.days} (the scenario has {scn.warmup_days:g})")
    if events:
        listed = "; ".join(f"{label}, days {first:g}-{end:g}" for label, first, end in events)
        print(f"scheduled in the pilots: {listed}.")
        print("  A cut at or just after one may be its swing: compare the days before it with those")
        print("  after on the Welch plot (--plot) before warming up that long.")
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


def export_command(args) -> int:
    from analysis.export import export_run

    print(export_run(args.run_dir, args.format, args.out))
    return EXIT_OK


def report_command(args) -> int:
    from analysis.report import write_report

    written = write_report(args.folder, args.out, fmt=args.format)
    what = "report" if args.format == "html" else f"{len(written)} figures"
    print(f"wrote the {what} of {args.folder} to {args.out}")
    return EXIT_OK


def trace_command(args) -> int:
    from analysis.trace import arrival_visit, format_story, format_visit, order_story

    order_id = args.order_id
    if args.arrival:
        visit = arrival_visit(args.run_dir, args.order_id)
        print(format_visit(visit))
        if visit["order_id"] is None:
            return EXIT_OK  # a lost visit has no events to tell
        order_id = visit["order_id"]
    print(format_story(order_story(args.run_dir, order_id)))
    return EXIT_OK


def validate_command(args) -> int:
    scn = load_scenario(args.scenario, parse_overrides(args.overrides))
    lo, hi = (h / 24.0 for h in scn.kpi_window_hours)
    print(
        f"{args.scenario}: ok (scenario {scn.name!r}, {scn.horizon_days:g} days, seed {scn.seed}; "
        f"KPIs count orders placed on days [{lo:g}, {hi:g}), cool-down {scn.cooldown_days:g} days)"
    )
    warn(scenario_warnings(scn), source=str(args.scenario))
    return EXIT_OK


def schema_command(args) -> int:
    if args.markdown:
        from simcore.scenario.reference import scenario_reference_markdown

        text = scenario_reference_markdown()
    else:
        text = json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
    return _write_text(text, args.out)


def kpis_command(args) -> int:
    from simcore.results.registry import KPIS, kpi_reference_markdown

    if args.markdown:
        text = kpi_reference_markdown()
    else:
        width = max(len(k.name) for k in KPIS)
        text = "".join(f"{k.name:{width}}  {k.unit:13}  {k.direction:7}  {k.meaning}\n" for k in KPIS)
    return _write_text(text, args.out)


def _write_text(text: str, out: Path | None) -> int:
    """``text`` to stdout, or whole to the file ``out``."""
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(out, text.encode("utf-8"))
    except OSError as exc:
        raise ArgumentError(f"--out: cannot write {str(out)!r} ({exc.strerror})") from None
    return EXIT_OK
