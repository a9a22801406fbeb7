"""Tables, statistics and plots over simcore results (pandas/matplotlib; never imports simpy)."""

from analysis.io import RunFiles, load_run
from analysis.plots import plot_run_summary
from analysis.tables import flatten_kpis, kpi_report, kpi_table

__all__ = ["RunFiles", "flatten_kpis", "kpi_report", "kpi_table", "load_run", "plot_run_summary"]
