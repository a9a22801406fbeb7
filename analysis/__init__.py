"""Tables, statistics and plots over simcore results (pandas/matplotlib; never imports simpy)."""

from analysis.export import export_run
from analysis.io import RunFiles, load_run
from analysis.plots import plot_run_summary
from analysis.precision import PrecisionRule, parse_target
from analysis.sensitivity import sensitivity
from analysis.sweeps import compare, load_sweep, summarize
from analysis.tables import flatten_kpis, kpi_report, kpi_table
from analysis.trace import format_story, order_story
from analysis.warmup import suggest_warmup, warmup_series

__all__ = [
    "PrecisionRule",
    "RunFiles",
    "compare",
    "export_run",
    "format_story",
    "flatten_kpis",
    "kpi_report",
    "kpi_table",
    "load_run",
    "load_sweep",
    "order_story",
    "parse_target",
    "plot_run_summary",
    "sensitivity",
    "suggest_warmup",
    "summarize",
    "warmup_series",
]
