"""Tables, statistics and plots over simcore results (pandas/matplotlib; never imports simpy)."""

from analysis.calibration import (
    CalibrationResult,
    implausibility_figure,
    load_calibration,
    pairs_figure,
    predictive_figure,
)
from analysis.export import export_run
from analysis.io import RunFiles, load_run
from analysis.matching import match_runs, match_summary
from analysis.optimization import OptimizationResult, load_optimization, optimization_figure
from analysis.plots import plot_daily, plot_run_summary, plot_warmup
from analysis.precision import PrecisionRule, parse_target
from analysis.report import ReportError, write_report
from analysis.run_plots import (
    order_paths,
    plot_cancellations,
    plot_dispute_funnel,
    plot_order_flow,
    plot_refund_delays,
)
from analysis.sensitivity import sensitivity
from analysis.sweep_plots import forest_figure, plot_forest, plot_heatmap, plot_response, response_figure
from analysis.sweeps import compare, load_sweep, summarize
from analysis.tables import flatten_kpis, kpi_report, kpi_table, penalties_by_size
from analysis.trace import arrival_visit, format_story, format_visit, order_story
from analysis.warmup import suggest_warmup, warmup_series

__all__ = [
    "PrecisionRule",
    "ReportError",
    "RunFiles",
    "arrival_visit",
    "compare",
    "export_run",
    "format_story",
    "format_visit",
    "flatten_kpis",
    "forest_figure",
    "kpi_report",
    "kpi_table",
    "penalties_by_size",
    "load_run",
    "load_sweep",
    "load_optimization",
    "load_calibration",
    "CalibrationResult",
    "pairs_figure",
    "implausibility_figure",
    "predictive_figure",
    "optimization_figure",
    "OptimizationResult",
    "match_runs",
    "match_summary",
    "order_paths",
    "order_story",
    "parse_target",
    "plot_cancellations",
    "plot_daily",
    "plot_dispute_funnel",
    "plot_forest",
    "plot_heatmap",
    "plot_order_flow",
    "plot_refund_delays",
    "plot_response",
    "plot_run_summary",
    "plot_warmup",
    "response_figure",
    "sensitivity",
    "suggest_warmup",
    "summarize",
    "warmup_series",
    "write_report",
]
