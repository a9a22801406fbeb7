"""Tables, statistics and plots over simcore results (pandas/matplotlib; never imports simpy)."""

from analysis.io import RunFiles, load_run
from analysis.plots import plot_run_summary
from analysis.sweeps import compare, load_sweep, summarize
from analysis.tables import flatten_kpis, kpi_report, kpi_table

__all__ = [
    "RunFiles",
    "compare",
    "flatten_kpis",
    "kpi_report",
    "kpi_table",
    "load_run",
    "load_sweep",
    "plot_run_summary",
    "summarize",
]
