"""The analysis layer: KPI tables and report, the run summary figure, reading run folders."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import simcore
from analysis import flatten_kpis, kpi_report, kpi_table, load_run, plot_run_summary
from tests.conftest import quiet


@pytest.fixture(scope="module")
def small_run() -> simcore.RunResult:
    return simcore.run(
        quiet(
            {
                "horizon_days": 20,
                "warmup_days": 2,
                "payment.issuer_decline_rate": 0.1,
                "buyers.cancel.change_of_mind": 0.1,
                "platform.fraud.intercept": -1.0,
            }
        )
    )


@pytest.mark.property
def test_flatten_and_table_cover_every_leaf(small_run):
    flat = flatten_kpis(small_run.kpis)
    assert flat["queues.gateway.utilization"] == small_run.kpis["queues"]["gateway"]["utilization"]
    table = kpi_table(small_run.kpis)
    assert list(table.columns) == ["kpi", "value", "shown", "unit", "direction"]
    assert len(table) == len(flat)
    row = table.set_index("kpi").loc["cancellation_rate"]
    assert row["shown"] == f"{100 * small_run.kpis['cancellation_rate']:.2f}%"


@pytest.mark.property
def test_report_lists_every_reason_and_queue(small_run):
    text = kpi_report(small_run.kpis)
    for reason in small_run.kpis["cancellations_by_reason"]:
        assert f"  {reason} " in text
    for queue in small_run.kpis["queues"]:
        assert f"  {queue} " in text


@pytest.mark.property
def test_summary_figure_renders(small_run, tmp_path):
    fig = plot_run_summary(small_run.timeseries, small_run.orders, small_run.kpis, title="t", warmup_days=2)
    assert len(fig.axes) == 5  # four panels and the queue-wait twin axis
    out = tmp_path / "s.png"
    fig.savefig(out, dpi=60)
    assert out.stat().st_size > 5_000
    titles = [ax.get_title() for ax in fig.axes]
    assert "Cancellations by reason (colour = initiator)" in titles


@pytest.mark.property
def test_load_run_round_trips_written_outputs(small_run, tmp_path):
    simcore.write_outputs(small_run, tmp_path / "run")
    back = load_run(tmp_path / "run")
    pd.testing.assert_frame_equal(back.orders, small_run.orders, check_dtype=False, check_categorical=False)
    assert len(back.events) == len(small_run.events)
    window = [h / 24.0 for h in small_run.scenario.kpi_window_hours]
    assert back.kpis == {"kpi_window_days": window, **small_run.kpis}  # the file adds its window
    assert back.warmup_days == 2


def test_analysis_never_imports_simpy():
    code = "import sys, analysis, analysis.plots, analysis.io, analysis.tables; print('simpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_simcore_model_never_imports_matplotlib():
    code = (
        "import sys, simcore, simcore.model.world, simcore.results.collect, simcore.experiments.sweep; "
        "print('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
