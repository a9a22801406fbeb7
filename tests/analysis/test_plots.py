"""The run and sweep figures draw what the data say: bar lengths are counts from the orders frame,
one line and one band per strategy at the interval's ends, flows that add up to the orders."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.ticker import PercentFormatter

import simcore
from analysis.plots import plot_daily, refund_delays
from analysis.run_plots import (
    dispute_funnel,
    order_paths,
    plot_cancellations,
    plot_dispute_funnel,
    plot_order_flow,
    plot_refund_delays,
)
from analysis.sweep_plots import forest_figure, plot_forest, plot_heatmap, plot_response, response_figure
from analysis.tables import REASON_GROUPS
from tests.conftest import shipped


@pytest.fixture(scope="module")
def run() -> simcore.RunResult:
    scn = shipped(
        "baseline", {"horizon_days": 20, "warmup_days": 2, "cooldown_days": 5, "buyers.orders_per_hour": 10}
    )
    return simcore.run(scn)


def in_window(run) -> pd.DataFrame:
    lo, hi = run.scenario.kpi_window_hours
    return run.orders[(run.orders["placed_hour"] >= lo) & (run.orders["placed_hour"] < hi)]


def patches(ax, prefix: str) -> dict[str, float]:
    """Bar widths (or rectangle heights, for the flow) by gid, for gids starting with ``prefix``."""
    out = {}
    for p in ax.patches:
        gid = p.get_gid() or ""
        if gid.startswith(prefix):
            out[gid.removeprefix(prefix)] = (
                p.get_height() if prefix in ("step:", "outcome:") else p.get_width()
            )
    return out


# ------------------------------------------------------------------ run figures


@pytest.mark.property
def test_cancellation_bars_are_the_counts_of_the_orders_frame(run):
    orders = in_window(run)
    ax = plot_cancellations(orders)
    counts = orders["cancel_reason"].value_counts()
    reasons = patches(ax, "reason:")
    assert reasons == {r: counts.get(r, 0) for rs in REASON_GROUPS.values() for r in rs}
    initiators = patches(ax, "initiator:")
    assert initiators == {i: (orders["cancel_initiator"] == i).sum() for i in REASON_GROUPS}
    assert sum(initiators.values()) > 0
    assert len(ax.get_yticklabels()) == len(reasons) + len(initiators)
    total = (orders["status"] == "cancelled").sum()
    assert f"{total:,} of {len(orders):,}" in ax.get_title()
    assert ax.get_xlabel() == "orders cancelled"


@pytest.mark.property
def test_cancellations_from_kpis_match_the_window_of_the_orders(run):
    from_orders = patches(plot_cancellations(run.orders, window_hours=run.scenario.kpi_window_hours), "")
    from_kpis = patches(plot_cancellations(run.kpis), "")
    assert from_kpis == from_orders
    assert {
        k.removeprefix("reason:"): v for k, v in from_kpis.items() if k.startswith("reason:")
    } == run.kpis["cancellations_by_reason"]


@pytest.mark.property
def test_refund_histogram_counts_every_refund_and_marks_the_promise(run):
    window = run.scenario.kpi_window_hours
    ax = plot_refund_delays(run.orders, sla_bdays=20, patience_bdays=15, window_hours=window)
    paid = refund_delays(in_window(run))
    # Stacked bars: the wallet bars sit on the card bars, so the top layer's tops sum to all refunds.
    bars = [p for p in ax.patches if p.get_height() > 0]
    tops = {}
    for p in bars:
        tops[p.get_x()] = max(tops.get(p.get_x(), 0), p.get_y() + p.get_height())
    assert sum(tops.values()) == len(paid) == run.kpis["refund_delay_bdays"]["n"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    promise = next(k for k in lines if k.startswith("promised: 20 bd"))
    assert lines[promise].get_xdata()[0] == 20
    within = (paid["delay"] <= 20).mean()
    assert f"({within:.1%} within)" in promise
    ecdf = [a for a in ax.figure.axes if a is not ax][0]
    assert ecdf.get_lines()[0].get_ydata()[-1] == pytest.approx(1.0)
    assert "business days" in ax.get_xlabel()


def _disputes() -> pd.DataFrame:
    """Six disputes whose paths are known: one for each way through the stages."""
    t = pd.Timestamp("2026-01-10")
    rows = [  # reason, stage, outcome, escalated
        ("refund_late", "review", "full_refund", None),
        ("not_as_described", "negotiation", "partial_refund", None),
        ("not_delivered", "intervention", "rejected", t),
        ("suspicious_cancellation", "intervention", "full_refund", t),
        ("not_delivered", None, None, t),  # awaiting the ruling
        ("not_as_described", None, None, None),  # still negotiating
    ]
    frame = pd.DataFrame(
        rows, columns=["dispute_reason", "dispute_stage", "dispute_outcome", "dispute_escalated_at"]
    )
    frame["dispute_escalated_at"] = pd.to_datetime(frame["dispute_escalated_at"])
    none = pd.DataFrame({"dispute_reason": [None] * 4})  # orders without a dispute
    return pd.concat([frame, none], ignore_index=True).assign(placed_hour=0.0)


@pytest.mark.trace
def test_dispute_funnel_follows_each_dispute_to_its_stage():
    funnel = dispute_funnel(_disputes()).set_index("stage")
    assert funnel.loc["opened"].to_dict() == {
        "disputes": 6,
        "full_refund": 1,
        "partial_refund": 0,
        "rejected": 0,
        "went_on": 4,
        "unresolved": 1,
    }
    assert funnel.loc["negotiation"].to_dict() == {
        "disputes": 4,
        "full_refund": 0,
        "partial_refund": 1,
        "rejected": 0,
        "went_on": 3,
        "unresolved": 0,
    }
    assert funnel.loc["intervention"].to_dict() == {
        "disputes": 3,
        "full_refund": 1,
        "partial_refund": 0,
        "rejected": 1,
        "went_on": 0,
        "unresolved": 1,
    }


@pytest.mark.property
def test_dispute_funnel_bars_add_up_to_the_disputes(run):
    ax = plot_dispute_funnel(_disputes())
    widths = patches(ax, "")
    for stage, total in (("opened", 6), ("negotiation", 4), ("intervention", 3)):
        assert sum(w for k, w in widths.items() if k.startswith(f"{stage}:")) == total
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "opened, reviewed",
        "negotiation with the seller",
        "platform intervention",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == [
        "full refund (50% of resolved)",
        "partial refund (25% of resolved)",
        "rejected (25% of resolved)",
    ]
    real = plot_dispute_funnel(run.orders)
    assert sum(w for k, w in patches(real, "opened:").items()) == run.orders["dispute_reason"].notna().sum()


@pytest.mark.property
def test_order_flow_columns_and_bands_add_up_to_the_orders(run):
    orders = in_window(run)
    paths = order_paths(orders)
    assert paths["orders"].sum() == len(orders)
    cancelled = paths[paths["outcome"].astype(str).str.startswith("cancelled")]["orders"].sum()
    assert cancelled == (orders["status"] == "cancelled").sum()
    ax = plot_order_flow(orders)
    outcomes = patches(ax, "outcome:")
    assert sum(outcomes.values()) == len(orders)
    assert outcomes["completed"] == (orders["status"] == "completed").sum()
    steps = patches(ax, "step:")
    assert steps["placed"] == len(orders)
    assert steps["paid"] == orders["paid_at"].notna().sum()
    assert steps["shipped"] == orders["shipped_at"].notna().sum()
    # One band per path, plus the main flow between milestones.
    bands = [p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("path:")]
    assert len(bands) == len(paths) + 3
    assert f"{len(orders):,} orders" in ax.get_title()


@pytest.mark.property
def test_daily_panels_draw_the_timeseries(run):
    ts = run.timeseries
    axes = plot_daily(ts, warmup_days=2, window_hours=run.scenario.kpi_window_hours)
    assert len(axes) == 3 and all(ax.get_ylabel() for ax in axes)
    lines = {line.get_label(): line for line in axes[1].get_lines()}
    assert set(lines) == {"by buyer", "by seller", "by system"}
    np.testing.assert_array_equal(lines["by seller"].get_ydata(), ts["cancelled_seller"])
    queues = [line.get_label() for line in axes[2].get_lines()]
    assert queues[0] == f"gateway (max {ts['gateway_queue'].max()})"
    assert len(queues) == 3
    with pytest.raises(ValueError, match="three Axes"):
        plot_daily(ts, axes=axes[:2])


# ------------------------------------------------------------------ sweep figures

KEY = "sellers.inventory_accuracy"


def _summary() -> pd.DataFrame:
    """A summarize() frame: two strategies over three accuracies, a rate and a delay."""
    rows = []
    for cell, acc in enumerate((0.2, 0.5, 0.9)):
        for s, shift in (("status_quo", 0.0), ("weekly", -0.01)):
            mean = 0.09 - 0.02 * acc + shift
            rows.append((cell, acc, s, "cancellation_rate", mean, mean - 0.004, mean + 0.005, 5))
            rows.append((cell, acc, s, "refund_delay_bdays.mean", 6 + acc, 5 + acc, 7 + acc, 5))
    return pd.DataFrame(rows, columns=["cell_id", KEY, "strategy", "kpi", "mean", "ci_low", "ci_high", "n"])


@pytest.mark.property
def test_response_draws_one_line_and_band_per_strategy_at_the_interval():
    summary = _summary()
    ax = plot_response(summary, "cancellation_rate")
    lines = [line for line in ax.get_lines() if (line.get_gid() or "").startswith("mean:")]
    assert [line.get_label() for line in lines] == ["status_quo", "weekly"]
    for name in ("status_quo", "weekly"):
        arm = summary[(summary["strategy"] == name) & (summary["kpi"] == "cancellation_rate")]
        line = next(line for line in lines if line.get_label() == name)
        np.testing.assert_allclose(line.get_xdata(), arm[KEY])
        np.testing.assert_allclose(line.get_ydata(), arm["mean"])
        band = next(c for c in ax.collections if c.get_gid() == f"ci:{name}")
        verts = band.get_paths()[0].vertices
        for x, lo, hi in zip(arm[KEY], arm["ci_low"], arm["ci_high"], strict=True):
            ys = set(np.round(verts[np.isclose(verts[:, 0], x), 1], 12))
            assert ys == {round(lo, 12), round(hi, 12)}
    assert ax.get_xlabel() == KEY
    assert ax.get_ylabel() == "cancellation rate"
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)  # shares shown as percentages
    assert "5 replications" in ax.get_title()


def test_response_refuses_a_second_varying_key_unless_filtered():
    two = pd.concat([_summary().assign(**{"buyers.fraud_rate": f}) for f in (0.01, 0.03)], ignore_index=True)
    with pytest.raises(ValueError, match="buyers.fraud_rate"):
        plot_response(two, "cancellation_rate", KEY)
    ax = plot_response(two, "cancellation_rate", KEY, where={"buyers.fraud_rate": 0.03})
    assert "fraud_rate = 0.03" in ax.get_title()
    fig = response_figure(two, "cancellation_rate", KEY)
    assert len(fig.axes) == 2
    with pytest.raises(KeyError, match="no_such_kpi"):
        plot_response(two, "no_such_kpi", KEY)


@pytest.mark.property
def test_heatmap_shows_the_means_of_one_strategy():
    two = pd.concat([_summary().assign(**{"buyers.fraud_rate": f}) for f in (0.01, 0.03)], ignore_index=True)
    two.loc[two["buyers.fraud_rate"] == 0.03, "mean"] += 0.02
    ax = plot_heatmap(two, "cancellation_rate", KEY, "buyers.fraud_rate", "weekly")
    image = ax.images[0].get_array()
    arm = two[(two["strategy"] == "weekly") & (two["kpi"] == "cancellation_rate")]
    expected = arm.pivot(index="buyers.fraud_rate", columns=KEY, values="mean").to_numpy()
    np.testing.assert_allclose(image, expected)
    assert len(ax.texts) == expected.size
    assert ax.texts[0].get_text().startswith(f"{100 * expected[0, 0]:.2f}%")
    assert len(ax.figure.axes) == 2  # and a colour bar


def _comparison() -> pd.DataFrame:
    rows = []
    for cell, acc in enumerate((0.2, 0.9)):
        for kpi, d in (
            ("cancellation_rate", -0.004),
            ("dispute_rate", 0.001),
            ("refund_delay_bdays.mean", 0.3),
        ):
            rows.append((cell, acc, "weekly", kpi, d, d - 0.002, d + 0.002, 5))
    return pd.DataFrame(
        rows, columns=["cell_id", KEY, "strategy", "kpi", "diff_mean", "ci_low", "ci_high", "n"]
    )


@pytest.mark.property
def test_forest_draws_each_difference_with_its_interval_and_a_zero_line():
    cmp = _comparison()
    ax = plot_forest(cmp, ["cancellation_rate", "dispute_rate"], baseline="status_quo")
    dots = next(c for c in ax.collections if c.get_gid() == "diff:weekly")
    bars = next(c for c in ax.collections if c.get_gid() == "ci:weekly")
    rates = cmp[cmp["kpi"] != "refund_delay_bdays.mean"].sort_values(["kpi", "cell_id"])  # rows: KPI, cell
    np.testing.assert_allclose(dots.get_offsets()[:, 0], rates["diff_mean"])
    segments = np.array(bars.get_segments())
    np.testing.assert_allclose(segments[:, 0, 0], rates["ci_low"])
    np.testing.assert_allclose(segments[:, 1, 0], rates["ci_high"])
    assert any(np.allclose(line.get_xdata(), 0) for line in ax.get_lines())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "cancellation rate",
        "inventory_accuracy = 0.2",
        "inventory_accuracy = 0.9",
        "dispute rate",
        "inventory_accuracy = 0.2",
        "inventory_accuracy = 0.9",
    ]
    assert ax.get_xlabel() == "difference from status_quo (percentage points)"
    with pytest.raises(ValueError, match="different units"):
        plot_forest(cmp, ["cancellation_rate", "refund_delay_bdays.mean"])
    assert len(forest_figure(cmp, list(dict.fromkeys(cmp["kpi"]))).axes) == 2


def test_plot_modules_use_no_pyplot_and_no_simpy():
    code = (
        "import sys, analysis.plots, analysis.run_plots, analysis.sweep_plots, analysis.report; "
        "print('matplotlib.pyplot' in sys.modules, 'simpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
