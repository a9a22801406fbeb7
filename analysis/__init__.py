"""Tables, statistics and plots over simcore results (pandas/matplotlib; never imports simpy)."""

from analysis.tables import flatten_kpis, kpi_table

__all__ = ["flatten_kpis", "kpi_table"]
