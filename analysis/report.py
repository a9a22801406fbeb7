"""A report of a run folder or a sweep store: one self-contained HTML file, or its figures as PNG.

The HTML holds everything it shows: figures as base64 PNG, CSS inline, no scripts, no links
to fetch, so it opens offline and can be mailed. A run report gives the scenario, the KPIs and
the run figures; a sweep report gives the design, each arm's KPIs with confidence intervals,
the response curves, a heatmap when two keys vary, and the paired differences from the
baseline strategy. Files are written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from analysis.calibration import implausibility_figure, load_calibration, pairs_figure, predictive_figure
from analysis.io import RunInputError
from analysis.optimization import load_optimization, optimization_figure
from analysis.plots import plot_daily
from analysis.run_plots import plot_cancellations, plot_dispute_funnel, plot_order_flow, plot_refund_delays
from analysis.sweep_plots import (
    FOREST_KPIS,
    forest_figure,
    kpi_label,
    kpi_unit,
    plot_heatmap,
    response_figure,
)
from analysis.sweeps import compare, load_sweep, summarize
from analysis.tables import kpi_report, kpi_table, penalties_by_size
from simcore.paths import write_atomic
from simcore.version import __version__

#: What a run folder must hold for a report (``simcore run ... --out DIR`` writes them).
RUN_FILES = ("orders.parquet", "timeseries.parquet", "kpis.json", "scenario.yaml")

#: KPIs of the sweep summary, response curves and forest plot, unless others are asked for.
HEADLINE_KPIS = (*FOREST_KPIS, "refund_delay_bdays.mean")

#: Scenario keys shown in a run report's summary.
KEY_PARAMETERS = (
    "scale",
    "buyers.orders_per_hour",
    "buyers.fraud_rate",
    "sellers.count",
    "sellers.inventory_accuracy",
    "sellers.strategy.sync_interval_days",
    "payment.gateway.servers",
    "platform.ship_by_days",
    "platform.fraud.review_threshold",
    "platform.fraud.decline_threshold",
    "platform.fraud.analysts",
    "platform.customer_service.agents",
    "refunds.wallet_share",
    "refunds.card_delay_bdays",
    "buyers.trust.refund_patience_bdays",
)

#: AliExpress's refund promise, "3-20 business days" (scenarios/baseline.yaml source [7]), for
#: scenarios whose card delay has no upper end.
DEFAULT_PROMISE_BDAYS = 20.0

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #555; } .meta { color: #666; font-size: .9em; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; }
"""


class ReportError(RunInputError):
    """The folder is neither a run folder nor a sweep store, or the report cannot be written;
    the message names the path and what to do."""


# A report is a title and a list of blocks: ("h2", text), ("html", markup) or
# ("figure", file stem, Figure, caption).
Block = tuple


def write_report(
    folder: str | Path,
    out: str | Path,
    fmt: str = "html",
    *,
    kpis: Sequence[str] = HEADLINE_KPIS,
    dpi: int = 110,
) -> list[Path]:
    """Write the report of a run folder or a sweep store.

    Args:
        folder: A run folder (``simcore run ... --out DIR``) or a sweep store
            (``simcore sweep ... --out DIR``).
        out: The HTML file (``fmt="html"``) or the folder for the PNG files (``fmt="png"``,
            created if needed; files named after the figures, e.g. ``order_flow.png``).
        fmt: ``"html"`` or ``"png"``.
        kpis: Flattened KPI names of a sweep report's table and curves.
        dpi: Resolution of the figures (dots per inch).

    Returns:
        The files written.

    Raises:
        ReportError: ``folder`` is neither a run folder nor a sweep store, its sweep results are
            missing or damaged, ``fmt`` is unknown, or ``out`` is of the wrong kind.
        ScenarioError: the run's ``scenario.yaml`` does not validate.
    """
    folder, out = Path(folder), Path(out)
    if fmt not in ("html", "png"):
        raise ReportError(f"format must be html or png (got {fmt!r})")
    wrong = out.is_dir() if fmt == "html" else out.exists() and not out.is_dir()
    if wrong:
        need = "a file name such as report.html" if fmt == "html" else "a folder for the PNG files"
        raise ReportError(f"{out}: exists as a {'folder' if fmt == 'html' else 'file'}; give {need}")
    if _is_calibration(folder):
        title, blocks = _calibration_report(folder)
    elif _is_optimization(folder):
        title, blocks = _optimization_report(folder)
    elif _is_run(folder):
        title, blocks = _run_report(folder)
    else:
        title, blocks = _sweep_report(folder, list(kpis))
    figures = [b for b in blocks if b[0] == "figure"]
    if fmt == "png":
        out.mkdir(parents=True, exist_ok=True)
        return [_write_atomic(out / f"{stem}.png", _png(fig, dpi)) for _, stem, fig, _ in figures]
    out.parent.mkdir(parents=True, exist_ok=True)
    return [_write_atomic(out, _html(title, blocks, dpi).encode("utf-8"))]


def _is_calibration(folder: Path) -> bool:
    """True for a calibration store (``simcore calibrate``: calibration.yaml and runs/)."""
    return folder.is_dir() and (folder / "calibration.yaml").is_file() and (folder / "runs").is_dir()


def _calibration_report(store: Path) -> tuple[str, list[Block]]:
    try:
        res = load_calibration(store)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{store}: cannot read the calibration results: {exc}") from None
    r, spec, where = res.result, res.spec, html.escape(str(store.resolve()))
    settings = [
        ("base scenario", spec.get("base", "?")),
        ("seed", spec.get("seed", "?")),
        ("overrides for every run", _inline(spec.get("set", {}))),
        ("targets", _inline(spec.get("targets", {}))),
        ("method", _inline(spec.get("method", {}))),
        ("answer", res.status),
        ("runs", f"{r['runs']:,}"),
        ("share of the prior not ruled out, by wave", ", ".join(f"{x:.3g}" for x in r["nroy_share"])),
        ("posterior", _posterior_method(r.get("posterior", {}))),
        ("effective sample size of the posterior", f"{r['effective_sample_size']:.1f}"),
    ]
    corr = pd.DataFrame(r.get("correlation") or {}).map(lambda v: "" if v is None else f"{v:.2f}")
    params = pd.DataFrame(
        [{"parameter": k, **{q: f"{v:.4g}" for q, v in p.items()}} for k, p in r["parameters"].items()]
    )
    pred = pd.DataFrame(
        [
            {
                "target": k,
                "value": p["target"],
                "sd": p["target_sd"],
                "simulated median": f"{p['q50']:.4g}",
                "90% interval": f"[{p['q05']:.4g}, {p['q95']:.4g}]",
                "covered": p["covered"],
            }
            for k, p in r["predictive"].items()
        ]
    )
    blocks: list[Block] = [
        ("html", f'<p class="meta">Calibration store {where}; simcore {__version__}.</p>'),
        ("h2", "Settings and answer"),
        ("html", _table(pd.DataFrame(settings, columns=["setting", "value"]))),
        ("h2", "Posterior"),
        ("html", _table(params)),
        ("figure", "pairs", pairs_figure(res), "The posterior's draws, resampled by weight."),
        *(
            [("h2", "Posterior correlations"), ("html", _table(corr.reset_index(names="parameter")))]
            if len(corr)
            else []
        ),
        ("h2", "History matching"),
        (
            "figure",
            "implausibility",
            implausibility_figure(res),
            "Left: every setting run, by wave and implausibility (green: not ruled out; the cutoff "
            "in red). Right: the share of the prior not ruled out after each wave.",
        ),
        ("h2", "Predictive check"),
        ("html", _table(pred)),
        (
            "figure",
            "predictive",
            predictive_figure(res),
            "Each target's value and two-sd band against the simulated KPI's posterior median and "
            "90% interval.",
        ),
        ("h2", "calibrated.yaml"),
        ("html", f"<pre>{html.escape(res.calibrated)}</pre>"),
    ]
    return f"Calibration: {store.name}", blocks


def _posterior_method(fitted: dict) -> str:
    """How the posterior was made, in a line."""
    if fitted.get("method") == "emulator":
        fits = "; ".join(
            f"{k}: residual sd {e['residual_sd']:.3g}, runs' sd {e['runs_sd']:.3g}"
            for k, e in fitted.get("emulator", {}).items()
        )
        return (
            f"{fitted['draws']:,} draws weighted by a quadratic emulator fitted to "
            f"{fitted['settings']} settings ({fits})"
        )
    if fitted.get("method") == "runs":
        return f"importance weights on the {fitted['settings']} settings run in the last region"
    return "?"


def _is_optimization(folder: Path) -> bool:
    """True for an optimisation store (``simcore optimize``: optimization.yaml and runs/)."""
    return folder.is_dir() and (folder / "optimization.yaml").is_file() and (folder / "runs").is_dir()


def _optimization_report(store: Path) -> tuple[str, list[Block]]:
    try:
        res = load_optimization(store)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{store}: cannot read the optimisation results: {exc}") from None
    spec, where = res.spec, html.escape(str(store.resolve()))
    objective = spec.get("objective", "cost")
    settings = [
        ("base scenario", spec.get("base", "?")),
        ("seed", spec.get("seed", "?")),
        ("overrides for every run", _inline(spec.get("set", {}))),
        ("levers", ", ".join(spec.get("levers", {}))),
        ("constraints", _inline(spec.get("constraints", {}))),
        ("objective", objective if isinstance(objective, str) else _inline(objective)),
        ("search", _inline(spec.get("search", {}))),
        ("selection", _inline(spec.get("selection", {}))),
        ("answer", res.status),
        ("runs", f"{res.runs:,}"),
    ]
    blocks: list[Block] = [
        ("html", f'<p class="meta">Optimisation store {where}; simcore {__version__}.</p>'),
        ("h2", "Settings and answer"),
        ("html", _table(pd.DataFrame(settings, columns=["setting", "value"]))),
    ]
    if res.best is not None:
        rows = [(k, v) for k, v in res.best["levers"].items()] + [("cost", res.best["cost"])]
        rows += [
            (f"{name}", f"{k['mean']:.6g} [{k['ci_low']:.6g}, {k['ci_high']:.6g}]")
            for name, k in res.best["kpis"].items()
        ]
        rows += [(f"P({name} meets its bound)", f"{p:.3f}") for name, p in res.best["p_feasible"].items()]
        rows.append(("clean-up replications", res.best["replications"]))
        blocks += [("h2", "The chosen mix"), ("html", _table(pd.DataFrame(rows, columns=["", "value"])))]
    if res.tied:
        tied = pd.DataFrame([{**t["levers"], "cost": t["cost"]} for t in res.tied])
        blocks += [("h2", "Not told apart from the answer"), ("html", _table(tied))]
    blocks += [
        ("h2", "Candidates"),
        (
            "figure",
            "optimization",
            optimization_figure(res),
            "Left: each candidate's cost against each constraint's KPI (search means; the feasible "
            "side of the bound shaded; the chosen mix with its clean-up confidence interval). "
            "Right: the clean-up's replications per candidate checked, cheapest first, coloured by "
            "its decision.",
        ),
        ("html", _table(res.candidates.drop(columns=["arm"]))),
    ]
    if res.rounds:
        rounds = pd.DataFrame(
            [{k: _inline(v) if isinstance(v, dict) else v for k, v in r.items()} for r in res.rounds]
        )
        for col in rounds.columns:  # the candidates eliminated in a selection round: a list
            rounds[col] = [", ".join(map(_inline, v)) if isinstance(v, list) else v for v in rounds[col]]
        blocks += [
            ("h2", "Selection rounds"),
            ("html", "<p>The clean-up's decisions in the order it made them.</p>"),
            ("html", _table(rounds)),
        ]
    return f"Optimisation: {store.name}", blocks


def _is_run(folder: Path) -> bool:
    """True for a run folder, False for a sweep store; raises ReportError for anything else."""
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise ReportError(f"{folder}: {what}; give a run folder or a sweep store")
    present = [f for f in RUN_FILES if (folder / f).is_file()]
    if len(present) == len(RUN_FILES):
        return True
    if (folder / "design.json").is_file() and (folder / "runs").is_dir():
        return False
    missing = ", ".join(f for f in RUN_FILES if f not in present)
    raise ReportError(
        f"{folder}: neither a run folder (missing {missing}; write one with `simcore run SCENARIO "
        "--out DIR`) nor a sweep store (no design.json and runs/; `simcore sweep SWEEP --out DIR`)"
    )


def _write_atomic(path: Path, data: bytes) -> Path:
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write ({exc.strerror})") from None


def _png(fig: Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _html(title: str, blocks: list[Block], dpi: int) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="simcore {__version__}">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for block in blocks:
        if block[0] == "h2":
            parts.append(f"<h2>{html.escape(block[1])}</h2>")
        elif block[0] == "html":
            parts.append(block[1])
        else:
            _, _, fig, caption = block
            data = base64.b64encode(_png(fig, dpi)).decode("ascii")
            alt = html.escape(caption, quote=True)
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(frame: pd.DataFrame) -> str:
    """A frame as an HTML table (values escaped; numbers right-aligned)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for v in values:
            cls = ' class="num"' if _NUMERIC.match(str(v)) else ""
            cells.append(f"<td{cls}>{html.escape(str(v))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


#: Numbers, money, percentages and "mean [low, high]": right-aligned.
_NUMERIC = re.compile(r"^[-+$]?[\d,.]+%?( \[.*\])?$")


def _describe(value: Any) -> str:
    """A scenario value for people: distributions as ``triangular(low=3, ...) days``."""
    if hasattr(value, "model_dump"):
        spec = value.model_dump()
        if "dist" in spec:
            args = ", ".join(f"{k}={v:g}" for k, v in spec.items() if isinstance(v, int | float))
            return f"{spec['dist']}({args}) {spec.get('unit', '')}".strip()
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _run_report(folder: Path) -> tuple[str, list[Block]]:
    import simcore  # the schema only: loading a scenario imports no SimPy

    scn = simcore.load_scenario(folder / "scenario.yaml")
    orders = pd.read_parquet(folder / "orders.parquet")
    timeseries = pd.read_parquet(folder / "timeseries.parquet")
    kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    window = scn.kpi_window_hours
    start = pd.Timestamp(scn.start)
    first, last = (start + pd.Timedelta(hours=h) for h in window)
    rows = [
        ("name", scn.name),
        ("description", scn.description),
        ("seed", scn.seed),
        ("start", scn.start.isoformat()),
        ("horizon", f"{scn.horizon_days:g} days"),
        ("warm-up / cooldown", f"{scn.warmup_days:g} / {scn.cooldown_days:g} days"),
        ("KPI window (orders placed)", f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}"),
        ("orders in the window / in all", f"{kpis['orders']:,} / {len(orders):,}"),
    ]
    rows += [(key, _describe(reduce(getattr, key.split("."), scn))) for key in KEY_PARAMETERS]
    if scn.buyers.trust.refund_patience_bdays is None:  # unset: the platform's promise
        key = "buyers.trust.refund_patience_bdays"
        rows = [
            (k, f"{scn.refund_patience_bdays:.3g} (unset: the promise)" if k == key else v) for k, v in rows
        ]
    table = kpi_table(kpis)[["kpi", "shown"]].rename(columns={"shown": "value"})
    card = scn.refunds.card_delay_bdays
    # The scenario's own promise is the card delay's upper end, when its distribution has one.
    high = getattr(card, "high", None)
    promise = float(high or DEFAULT_PROMISE_BDAYS)
    said = "upper end of refunds.card_delay_bdays" if high else "AliExpress's 3-20 business days"
    patience = scn.refund_patience_bdays  # set, or the platform's promise
    blocks: list[Block] = [
        (
            "html",
            f'<p class="meta">Run folder {html.escape(str(folder.resolve()))}; simcore {__version__}.</p>',
        ),
        ("h2", "Scenario"),
        ("html", _table(pd.DataFrame(rows, columns=["setting", "value"]))),
        ("h2", "Key performance indicators"),
        ("html", "<p>Over the orders placed in the KPI window.</p>"),
        ("html", f"<pre>{html.escape(kpi_report(kpis))}</pre>"),
        ("html", f"<details><summary>Every KPI</summary>{_table(table)}</details>"),
    ]
    sellers_file = folder / "sellers.parquet"
    if sellers_file.exists():
        sellers = pd.read_parquet(sellers_file)
        if "size_quartile" in sellers:  # runs written before issue 19 have no quartiles
            by_size = penalties_by_size(sellers).reset_index()
            for col in ("seller_cancel_rate", "ruling_rate", "suspended_share"):
                by_size[col] = by_size[col].map(lambda x: f"{100 * x:.2f}%")
            blocks += [
                ("h2", "Penalties by seller size"),
                (
                    "html",
                    "<p>Sellers by quartile of orders over the whole run (1 the smallest); rates "
                    "pooled per order cleared; warnings and suspensions over the whole run.</p>",
                ),
                ("html", _table(by_size)),
            ]
    blocks.append(("h2", "Figures"))
    figures = {
        "order_flow": (
            plot_order_flow(orders, window_hours=window).figure,
            "Where orders went: placement, payment, screening, shipment, outcome (heights to scale).",
        ),
        "cancellations": (
            plot_cancellations(orders, window_hours=window).figure,
            "Cancellations by initiator and by the reason stated; share of all orders in the window.",
        ),
        "refund_delays": (
            plot_refund_delays(orders, promise, patience_bdays=patience, window_hours=window).figure,
            f"Refund delays, the {promise:g}-business-day promise ({said})"
            f" and buyers' patience ({patience:.3g} business days).",
        ),
        "disputes": (
            plot_dispute_funnel(orders, window_hours=window).figure,
            "Disputes by the stage they reached and the outcome decided there.",
        ),
        "daily": (
            plot_daily(timeseries, warmup_days=scn.warmup_days, window_hours=window)[0].figure,
            "Day by day over the whole run; warm-up shaded, cooldown hatched (outside the KPIs).",
        ),
    }
    blocks += [("figure", stem, fig, caption) for stem, (fig, caption) in figures.items()]
    return f"simcore run: {scn.name}", blocks


def _sweep_report(store: Path, kpis: list[str]) -> tuple[str, list[Block]]:
    try:
        df = load_sweep(store)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{store}: cannot read the sweep results: {exc}") from None
    design = json.loads((store / "design.json").read_text(encoding="utf-8"))
    spec_file = store / "sweep.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) if spec_file.is_file() else {}
    kpis = [k for k in kpis if k in set(df["kpi"])]
    if not kpis:
        raise ReportError(f"{store}: none of the KPIs asked for is in the sweep results")
    strategies = [s for s in design["strategies"] if s in set(df["strategy"])]
    varied = design["varied"]
    summary = summarize(df[df["kpi"].isin(kpis)])
    reps = df.groupby(["cell_id", "strategy"])["replication"].nunique()
    expected = len(design["cells"]) * len(design["strategies"]) * int(spec.get("replications", 0))
    done = df.groupby(["cell_id", "strategy", "replication"]).ngroups
    design_rows = [
        ("base scenario", spec.get("base", "?")),
        ("seed", design.get("seed", "?")),
        ("overrides for every run", _inline(spec.get("set", {}))),
        ("varied keys", ", ".join(varied) or "none (strategies only)"),
        ("design cells", len(design["cells"])),
        *(
            (
                f"values of {k}",
                ", ".join(_cell_value(v) for v in dict.fromkeys(c[k] for c in design["cells"])),
            )
            for k in varied
        ),
        *(
            (f"strategy {s}", _inline((spec.get("strategies") or {}).get(s, {})) or "no overrides")
            for s in strategies
        ),
        (
            "replications per arm",
            f"{reps.min()}" if reps.min() == reps.max() else f"{reps.min()}-{reps.max()}",
        ),
        ("runs in the store", f"{done:,}" + (f" (the file asks for {expected:,})" if expected else "")),
    ]
    blocks: list[Block] = [
        (
            "html",
            f'<p class="meta">Sweep store {html.escape(str(store.resolve()))}; simcore {__version__}.</p>',
        ),
        ("h2", "Design"),
        ("html", _table(pd.DataFrame(design_rows, columns=["setting", "value"]))),
        ("h2", "KPIs by cell and strategy"),
        ("html", "<p>Mean over replications [95% t confidence interval].</p>"),
        ("html", _table(_summary_table(summary, varied, strategies, kpis))),
    ]
    blocks += _response_blocks(summary, design, strategies, kpis)
    if len(strategies) > 1:
        baseline = "status_quo" if "status_quo" in strategies else strategies[0]
        diffs = compare(df[df["kpi"].isin(kpis)], baseline=baseline)
        blocks += [
            ("h2", f"Paired differences from {baseline}"),
            ("html", _crn_summary(diffs, [s for s in strategies if s != baseline], int(reps.min()))),
            (
                "figure",
                "forest",
                forest_figure(diffs, kpis, baseline=baseline, strategies=strategies),
                f"Each strategy minus {baseline}, replication by replication (common random numbers), "
                "with 95% confidence intervals; the table below gives the numbers and what common "
                "random numbers did for each.",
            ),
            ("html", _crn_table(diffs, varied, strategies, kpis)),
        ]
    name = Path(str(spec.get("base", "sweep"))).stem
    return f"simcore sweep: {store.name} (base {name})", blocks


def crn_phrase(factor: float, diff_mean: float, n: int) -> str:
    """What common random numbers did for one comparison, in words, for a report.

    Args:
        factor: The comparison's ``crn_factor`` from :func:`analysis.sweeps.compare` (a
            variance ratio, dimensionless).
        diff_mean: Its mean paired difference (KPI units): tells identical arms (0) from arms
            whose difference is the same nonzero value in every replication.
        n: Replications paired.

    Returns:
        A phrase such as ``"common random numbers made this comparison 12.3 times sharper"``.
    """
    if np.isnan(factor):
        if n < 2:
            return "cannot be measured with fewer than 2 replications"
        return "neither arm varies across replications: nothing for common random numbers to sharpen"
    if np.isinf(factor):
        if diff_mean == 0.0:
            return "identical arms: common random numbers made the difference exactly zero"
        return "common random numbers made the difference the same in every replication (exact)"
    if factor < 1.0:
        # "0.6 times sharper" reads as a gain; below 1 the pairing gained nothing (or, with few
        # replications, the estimate is noise around 1).
        return f"common random numbers made this comparison {factor:.1f} times as sharp (no gain)"
    return f"common random numbers made this comparison {_times(factor)} times sharper"


#: Factors above this are said as "over" it: a ratio of sample variances that large (a
#: difference that barely varies) is known only in its order of magnitude.
_BIG = 1000.0


def _times(factor: float) -> str:
    """A factor for a sentence: one decimal, or "over 1,000" for the huge ones."""
    return f"over {_BIG:,.0f}" if factor > _BIG else f"{factor:.1f}"


def _crn_summary(diffs: pd.DataFrame, arms: list[str], replications: int) -> str:
    """A line per strategy, first in the section where a reader starts: the range and median of
    its comparisons' CRN factors; then how to read them."""
    lines = []
    for arm in arms:
        f = diffs.loc[diffs["strategy"] == arm, "crn_factor"].to_numpy(dtype=float)
        finite = f[np.isfinite(f)]
        if finite.size:
            lo, med, hi = np.quantile(finite, [0.0, 0.5, 1.0])
            said = (
                f"common random numbers made its comparisons {_times(lo)} to {_times(hi)} times "
                f"sharper (median {_times(med)}; intervals {_times(np.sqrt(lo))} to "
                f"{_times(np.sqrt(hi))} times narrower)"
            )
            if np.isinf(f).any():
                said += f"; {int(np.isinf(f).sum())} of {f.size} exact (no sampling error)"
        elif np.isinf(f).any():
            said = crn_phrase(np.inf, float(diffs.loc[diffs["strategy"] == arm, "diff_mean"].abs().max()), 2)
        else:
            said = crn_phrase(np.nan, np.nan, replications)
        lines.append(f"<li><b>{html.escape(arm)}</b>: {html.escape(said)}.</li>")
    note = (
        "Sharper: the paired difference varies that many times less, in variance, than the "
        "difference of two independent replications would (the sum of the two arms' variances "
        "over replications), so its confidence interval is the square root of that many times "
        f"narrower. With {replications} replications the factor is itself an estimate (a ratio "
        "of sample variances): read its order of magnitude, not its decimals."
    )
    return f"<ul>{''.join(lines)}</ul><p>{html.escape(note)}</p>"


#: Comparisons (table cells) shown open; more go in a collapsed table (a sampled design can have
#: hundreds, which would push the rest of the report out of sight).
_CRN_ROWS_SHOWN = 60


def _crn_table(diffs: pd.DataFrame, varied: list[str], strategies: list[str], kpis: list[str]) -> str:
    """Every comparison of the forest plot, in its order: a row per KPI and cell, a column per
    strategy (side by side, as the plot's points are), each cell the paired difference with its
    interval and what common random numbers did for it."""
    arms = [s for s in strategies if s in set(diffs["strategy"])]
    by = diffs.set_index(["kpi", "cell_id", "strategy"])
    cells = diffs[["cell_id", *varied]].drop_duplicates("cell_id").sort_values("cell_id")
    records = []
    for kpi in (k for k in kpis if k in set(diffs["kpi"])):
        share = kpi_unit(kpi) == "share"
        unit = "percentage points" if share else kpi_unit(kpi)
        scale = 100.0 if share else 1.0
        for cell in cells.to_dict("records"):
            shown = []
            for arm in arms:
                r = by.loc[(kpi, cell["cell_id"], arm)]
                mid, lo, hi = (_signed(scale * r[c]) for c in ("diff_mean", "ci_low", "ci_high"))
                shown.append(f"{mid} [{lo}, {hi}]; {crn_phrase(r['crn_factor'], r['diff_mean'], r['n'])}")
            records.append((f"{kpi_label(kpi)} ({unit})", *(_cell_value(cell[k]) for k in varied), *shown))
    columns = ["KPI", *varied, *(f"{arm}: difference [95% CI]" for arm in arms)]
    table = _table(pd.DataFrame(records, columns=columns))
    if len(records) * len(arms) <= _CRN_ROWS_SHOWN:
        return table
    return f"<details><summary>Every comparison ({len(records) * len(arms)})</summary>{table}</details>"


def _signed(v: float) -> str:
    return "n/a" if np.isnan(v) else f"{v:+,.2f}"


def _inline(overrides: dict) -> str:
    return ", ".join(f"{k} = {_cell_value(v)}" for k, v in overrides.items())


def _cell_value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _show(kpi: str, v: float) -> str:
    if np.isnan(v):
        return "n/a"
    return f"{100 * v:.2f}%" if kpi_unit(kpi) == "share" else f"{v:,.2f}"


def _summary_table(
    summary: pd.DataFrame, varied: list[str], strategies: list[str], kpis: list[str]
) -> pd.DataFrame:
    cell = lambda r: f"{_show(r.kpi, r.mean)} [{_show(r.kpi, r.ci_low)}, {_show(r.kpi, r.ci_high)}]"  # noqa: E731
    shown = summary.assign(shown=[cell(r) for r in summary.itertuples(index=False)])
    wide = shown.pivot_table(
        index=["cell_id", *varied, "strategy"], columns="kpi", values="shown", aggfunc="first"
    )
    wide = wide[kpis].reset_index()
    wide["strategy"] = pd.Categorical(wide["strategy"], categories=strategies, ordered=True)
    wide = wide.sort_values(["cell_id", "strategy"]).drop(columns="cell_id")
    return wide.rename(columns={k: kpi_label(k) for k in kpis})


def _response_blocks(
    summary: pd.DataFrame, design: dict, strategies: list[str], kpis: list[str]
) -> list[Block]:
    varied = design["varied"]
    if not varied:
        return []
    x = max(varied, key=lambda k: summary[k].nunique())
    blocks: list[Block] = [("h2", f"Response to {x}")]
    if "sample" in design and len(varied) > 1:
        note = "A sampled design varies every key in every cell: no curves (see analysis.sensitivity)."
        return [*blocks, ("html", f"<p>{note}</p>")]
    for kpi in kpis:
        try:
            fig = response_figure(summary, kpi, x, strategies=strategies)
        except ValueError as exc:  # too many panels: say so rather than draw a wall of them
            return [*blocks, ("html", f"<p>{html.escape(str(exc))}</p>")]
        stem = "response_" + re.sub(r"[^a-z0-9]+", "_", kpi.lower()).strip("_")
        blocks.append(("figure", stem, fig, f"{kpi_label(kpi)} against {x}: mean and 95% confidence band."))
    if len(varied) == 2 and "sample" not in design:
        y = next(k for k in varied if k != x)
        rows = summary[summary["kpi"] == kpis[0]]
        fig = Figure(figsize=(min(5.2 * len(strategies), 16), 4.4), layout="constrained")
        for ax, strategy in zip(fig.subplots(1, len(strategies), squeeze=False)[0], strategies, strict=True):
            plot_heatmap(
                summary, kpis[0], x, y, strategy, ax=ax, vmin=rows["mean"].min(), vmax=rows["mean"].max()
            )
        caption = f"{kpi_label(kpis[0])} over both varied keys, one panel per strategy (one colour scale)."
        blocks.append(("figure", "heatmap", fig, caption))
    return blocks
