"""Warm-up detection: MSER-5 against series with a known transient (and without one), Welch's
moving average against a hand computation, the orders-in-system count against an independent
count, and the suggestion and its plot on short baseline pilots."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import simcore
from analysis.plots import plot_warmup
from analysis.warmup import (
    DEFAULT_COLUMNS,
    SETTLE_DAYS,
    calendar_events,
    event_near,
    mser,
    suggest_warmup,
    warmup_series,
    welch,
)
from tests.conftest import BASELINE_SEED, SCENARIOS, quiet, seed, shipped

PILOT_DAYS = 45


@pytest.fixture(scope="module")
def pilot():
    """Three short baseline pilots with no warm-up (about 1.5 s in all)."""
    scn = shipped(
        "baseline",
        {"horizon_days": PILOT_DAYS, "warmup_days": 0, "cooldown_days": 0, "buyers.orders_per_hour": 3},
    )
    series = [warmup_series(simcore.run(scn, replication=r)) for r in range(3)]
    return suggest_warmup(series, columns=JUDGED)


#: The default (placement-day shares) and the backlog, which fills from no orders in the system.
JUDGED = (*DEFAULT_COLUMNS, "orders_in_system")


# --- MSER -----------------------------------------------------------------------------------


def exponential_approach(seed: int, n: int = 300) -> np.ndarray:
    """Rises to 20 with time constant 10: the bias drops below the noise (sd 1) at t = 30."""
    t = np.arange(n)
    return 20 * (1 - np.exp(-t / 10)) + np.random.default_rng(seed).normal(0, 1, n)


@pytest.mark.statistical
def test_mser5_cuts_an_exponential_transient_near_its_end():
    cuts = np.array([mser(exponential_approach(seed(s))) for s in range(50)])
    assert (cuts % 5 == 0).all()
    # Never keeps days where the bias is still 2.7 noise sds (t = 20)...
    assert cuts.min() >= 20
    # ...typically cuts where the bias has fallen below the noise, and rarely far beyond.
    assert 30 <= np.median(cuts) <= 45
    assert np.mean(cuts <= 60) >= 0.8


@pytest.mark.statistical
def test_mser5_cuts_little_from_a_stationary_series():
    cuts = np.array([mser(np.random.default_rng(seed(s)).normal(5, 1, 500)) for s in range(50)])
    assert np.median(cuts) == 0
    assert np.mean(cuts <= 50) >= 0.9  # at most 10% of the series in nine runs of ten


@pytest.mark.trace
def test_mser_by_hand_and_the_trailing_partial_batch_is_dropped():
    # batch 1, d = 0..3: MSER = 78/36, 1.2/25, 1/16, (2/3)/9 -> d = 1.
    assert mser([10, 0, 1, 0, 1, 0], batch=1) == 1
    # batch 2: means [5, 0.5, 0.5], d = 0..1: MSER = 13.5/9, 0 -> d = 1, two observations.
    assert mser([10, 0, 1, 0, 1, 0], batch=2) == 2
    # A 7th observation is an incomplete batch of 2 and must not count (kept, it gives 0).
    assert mser([10, 0, 1, 0, 1, 0, 100], batch=2) == 2


@pytest.mark.trace
def test_batch_size_is_honoured():
    # 23 observations of a step, then an exact alternation 0, 1, 0, 1, ...
    y = np.concatenate([np.full(23, 5.0), np.tile([0.0, 1.0], 90)])
    assert mser(y, batch=1) == 23
    assert mser(y, batch=5) == 25  # the batch holding observations 20..24 goes too
    assert mser(y, batch=10) == 30  # later batch means all equal: ties go to the first
    assert mser(y) == mser(y, batch=5)


@pytest.mark.trace
@pytest.mark.parametrize("y", [np.full(60, 0.1), [np.nan] * 3 + [7.3] * 20, np.zeros(10)])
def test_a_constant_series_is_not_truncated(y):
    assert mser(y) == 0
    assert mser(y, batch=1) == 0


@pytest.mark.trace
def test_nans_are_dropped_and_the_cut_is_counted_in_the_original_series():
    assert mser([np.nan, 10, 0, 1, 0, 1, 0], batch=1) == 2
    assert mser([10, np.nan, 0, 1, 0, 1, 0], batch=1) == 1


@pytest.mark.parametrize(
    ("y", "batch", "match"),
    [
        (np.arange(9.0), 5, r"need at least 2 full batches of 5 non-NaN observations \(got 9 of 9\)"),
        ([*range(9), np.nan], 5, r"got 9 of 10"),
        (np.ones((4, 5)), 5, r"one-dimensional \(got shape \(4, 5\)\)"),
        (np.arange(20.0), 0, r"batch must be an integer >= 1 \(got 0\)"),
    ],
)
def test_mser_rejects_bad_input(y, batch, match):
    with pytest.raises(ValueError, match=match):
        mser(y, batch=batch)


# --- Welch ----------------------------------------------------------------------------------


@pytest.mark.trace
def test_welch_matches_law_and_kelton_by_hand():
    matrix = [[0, 4, 2, 8, 6, 10, 4, 12], [2, 0, 4, 4, 8, 2, 6, 0]]
    # Means 1, 2, 3, 6, 7, 6, 5, 6; w = 2: i = 1, 2 shrink to 1 and 3 points, then 5-point
    # windows up to i = m - w = 6.
    expected = [1, (1 + 2 + 3) / 3, (1 + 2 + 3 + 6 + 7) / 5, (2 + 3 + 6 + 7 + 6) / 5, 27 / 5, 30 / 5]
    np.testing.assert_array_equal(welch(matrix, 2), expected)
    np.testing.assert_array_equal(welch(matrix, 0), [1, 2, 3, 6, 7, 6, 5, 6])
    np.testing.assert_array_equal(
        welch([1, 2, 3, 6, 7, 6, 5, 6], 1), [1, 2, 11 / 3, 16 / 3, 19 / 3, 6, 17 / 3]
    )


@pytest.mark.parametrize("window", [3, -1, 1.5])
def test_welch_window_outside_law_and_kelton_range_is_rejected(window):
    with pytest.raises(ValueError, match=r"window must be an integer in 0\.\.2"):
        welch(np.ones((2, 8)), window)


# --- The series of one run ------------------------------------------------------------------


#: Two days with next to no orders (the rate times 1e-6: an order in them once in ~200,000
#: runs), so that days before the first order can be checked whatever the seed.
SLOW_START = {"name": "slow start", "start": "2026-01-05", "days": 2, "multiplier": 1e-6}


@pytest.mark.property
def test_orders_in_system_matches_an_independent_count():
    # About 43 orders from day 3: every way out is used, and more than 3 of days 3 to 10 (whose
    # shares are kept) see an order, on all but a few seeds in 10,000. (0.03 orders an hour from
    # hour 0, as first written, left days 1 and 2 empty on a quarter of the seeds only.)
    run = simcore.run(
        quiet(
            {
                "seed": 5,
                "horizon_days": 20,
                "buyers.orders_per_hour": 0.1,
                "buyers.arrival_profile": {"promotions": [SLOW_START]},
                "buyers.cancel.change_of_mind": 0.3,
            }
        )
    )
    series = warmup_series(run)
    orders = run.orders
    assert {"completed", "cancelled", "open"} <= set(orders["status"])  # every way out is used
    assert list(series.index) == list(range(1, 21)) and series.index.name == "day"
    start = pd.Timestamp(run.scenario.start)
    counts = []
    for day in series.index:
        midnight = start + pd.Timedelta(days=int(day))
        gone = (orders["completed_at"] < midnight) | (orders["cancelled_at"] < midnight)
        counts.append(int(((orders["placed_at"] < midnight) & ~gone).sum()))
    assert series["orders_in_system"].tolist() == counts
    first_day = int(orders["placed_hour"].min() // 24) + 1
    assert first_day >= 3  # so there are days before the first order to check
    assert (series["orders_in_system"].loc[: first_day - 1] == 0).all()
    assert series["orders_in_system"].loc[first_day] > 0
    ts = run.timeseries.set_index("day")
    assert series["completed"].tolist() == ts["completed"].tolist()
    cancelled = ts["cancelled_buyer"] + ts["cancelled_seller"] + ts["cancelled_system"]
    assert series["cancelled"].tolist() == cancelled.tolist()
    assert series["cancelled"].sum() == (orders["status"] == "cancelled").sum()
    # Shares by placement day, left out for the last SETTLE_DAYS days.
    placed_day = (orders["placed_hour"] // 24 + 1).astype(int)
    for day in series.index[: 20 - SETTLE_DAYS]:
        mine = orders[placed_day == day]
        expected = (mine["status"] == "cancelled").mean() if len(mine) else np.nan
        assert series.loc[day, "cancelled_share"] == pytest.approx(expected, nan_ok=True)
    assert series["cancelled_share"].iloc[20 - SETTLE_DAYS :].isna().all()
    assert series["cancelled_share"].notna().sum() > 3


# --- The suggestion ---------------------------------------------------------------------------


@pytest.mark.statistical
def test_pilots_from_an_empty_start_suggest_a_warmup(pilot):
    assert pilot.replications == 3
    assert list(pilot.by_series.columns) == ["column", "truncation_days", "mean_after", "at_limit"]
    assert list(pilot.by_series["column"]) == list(JUDGED)
    assert len(pilot.mean) == PILOT_DAYS and pilot.mean.index[0] == 1
    assert 0 < pilot.days < PILOT_DAYS / 2
    assert pilot.days == pilot.by_series["truncation_days"].max()
    row = pilot.by_series.set_index("column").loc["orders_in_system"]
    # The backlog fills for weeks (shipping ~10-25 days, then confirmation).
    assert row["truncation_days"] >= 10
    backlog = pilot.mean["orders_in_system"]
    assert backlog.iloc[0] < 0.1 * row["mean_after"]
    assert row["mean_after"] == pytest.approx(backlog.iloc[-10:].mean(), rel=0.05)


def frames(values: dict[str, list[float]], replications: int = 3) -> list[pd.DataFrame]:
    days = pd.Index(range(1, len(next(iter(values.values()))) + 1), name="day")
    return [pd.DataFrame(values, index=days).mul(1 + 0.1 * r) for r in range(replications)]


@pytest.mark.trace
def test_suggestion_is_the_largest_cut_of_the_mean_and_flat_series_get_none():
    ramp = np.minimum(np.arange(40.0), 12) + np.tile([0.0, 1.0], 20)
    data = {"ramp": list(ramp), "flat": [3.0] * 40, "empty": [np.nan] * 40}
    series = frames(data)
    s = suggest_warmup(series, columns=["ramp", "flat", "empty"])
    mean = (series[0] + series[1] + series[2]) / 3
    pd.testing.assert_frame_equal(s.mean, mean)
    cuts = s.by_series.set_index("column")["truncation_days"]
    assert cuts["ramp"] == mser(mean["ramp"]) >= 10
    assert cuts["flat"] == cuts["empty"] == 0
    assert s.days == cuts["ramp"]
    assert np.isnan(s.by_series.set_index("column").loc["empty", "mean_after"])
    # A frame with ``day`` as a column is read the same way.
    again = suggest_warmup([f.reset_index() for f in series], columns=["ramp"])
    assert again.days == s.days


@pytest.mark.trace
def test_a_series_still_rising_at_half_the_pilot_is_flagged():
    s = suggest_warmup(frames({"trend": list(np.arange(40.0))}), columns=["trend"])
    row = s.by_series.iloc[0]
    assert row["truncation_days"] == 20 and row["at_limit"]


@pytest.mark.parametrize(
    ("series", "columns", "match"),
    [
        ([], DEFAULT_COLUMNS, "no pilot series"),
        (
            frames({"a": [1.0] * 20})[:1] + frames({"a": [1.0] * 21})[:1],
            ["a"],
            "replication 1 covers days 1..21",
        ),
        (frames({"a": [1.0] * 20}), ["a", "b"], r"unknown series \['b'\]"),
        (frames({"a": list(np.arange(8.0))}), ["a"], "need at least 2 full batches"),
    ],
)
def test_suggest_warmup_rejects_bad_input(series, columns, match):
    with pytest.raises(ValueError, match=match):
        suggest_warmup(series, columns=columns)


# --- The Welch plot -------------------------------------------------------------------------


@pytest.mark.property
def test_plot_warmup_draws_mean_welch_and_both_cuts(pilot):
    ax = plot_warmup(pilot, "orders_in_system", window=7)
    assert isinstance(ax.figure, Figure)
    mean_line, welch_line, cut_line, days_line = ax.get_lines()
    assert list(mean_line.get_xdata()) == list(range(1, PILOT_DAYS + 1))
    np.testing.assert_array_equal(welch_line.get_ydata(), welch(pilot.mean["orders_in_system"], 7))
    assert len(welch_line.get_xdata()) == PILOT_DAYS - 7
    cut = pilot.by_series.set_index("column").loc["orders_in_system", "truncation_days"]
    assert list(cut_line.get_xdata()) == [cut, cut]
    assert list(days_line.get_xdata()) == [pilot.days, pilot.days]
    assert welch_line.get_linewidth() > mean_line.get_linewidth()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "mean of 3 replications"
    assert labels[1] == "Welch average (w = 7 d)"
    assert labels[2].startswith(f"MSER-5 cut for this series: {cut} d")
    assert labels[3] == f"suggested warm-up: {pilot.days} d"
    assert ax.get_xlabel() == "day of run"
    assert ax.get_ylabel().startswith("orders in system")
    assert ax.get_title() == "Warm-up: orders in system, 3 pilot replications"


@pytest.mark.property
def test_plot_warmup_draws_on_given_axes_and_rejects_unknown_series(pilot):
    ax = Figure().subplots()
    assert plot_warmup(pilot, "completed", window=3, ax=ax) is ax
    assert ax.get_ylabel() == "orders completed / day"
    with pytest.raises(KeyError, match="no series 'nope'"):
        plot_warmup(pilot, "nope")


# --- The command --------------------------------------------------------------------------------


@pytest.mark.property
def test_warmup_command_prints_each_cut_and_draws_the_welch_plots(tmp_path, capsys):
    from simcore.cli import main

    png = tmp_path / "welch.png"
    args = ["--horizon-days", "40", "--replications", "2", "--set", "buyers.orders_per_hour=3"]
    args += ["--seed", str(seed(BASELINE_SEED))]
    assert main(["warmup", str(SCENARIOS / "baseline.yaml"), *args, "--plot", str(png), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 pilot runs of 40 days with no warm-up, MSER-5 per series:" in out
    cuts = dict(re.findall(r"^  (\w+) +cut +(\d+) days", out, flags=re.M))
    assert set(cuts) == set(DEFAULT_COLUMNS)
    has = int(simcore.load_scenario(SCENARIOS / "baseline.yaml").warmup_days)
    assert f"suggested warmup_days: {max(map(int, cuts.values()))} (the scenario has {has})" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".tmp-*"))


def test_scheduled_events_are_named_in_run_days_and_a_cut_after_one_is_flagged():
    # The baseline starts on 5 January 2026; Chinese New Year closes the sellers and halves
    # demand from 15 February for 9 days: days 41-50.
    events = calendar_events(simcore.load_scenario(SCENARIOS / "baseline.yaml"))
    assert events == [
        ("Chinese New Year lull, demand x0.5", 41.0, 50.0),
        ("Chinese New Year, a sellers' holiday", 41.0, 50.0),
    ]
    assert event_near(55, events) == "Chinese New Year lull, demand x0.5"  # within 14 days after
    assert event_near(45, events) is not None and event_near(65, events) is None
    assert event_near(40, events) is None  # before it: a start transient's cut, if any
    # 11.11's peak and warm-up days; its holiday fell before the run (negative days).
    promo = calendar_events(simcore.load_scenario(SCENARIOS / "promo_1111.yaml"))
    assert [round(first) for _, first, _ in promo] == [-211, 55, 58]
    assert calendar_events(quiet()) == []


@pytest.mark.property
def test_warmup_command_names_the_scheduled_events_its_pilots_span(tmp_path, capsys):
    from simcore.cli import main

    args = ["--horizon-days", "60", "--replications", "2", "--set", "buyers.orders_per_hour=3"]
    assert main(["warmup", str(SCENARIOS / "baseline.yaml"), *args, "--quiet"]) == 0
    out = capsys.readouterr().out
    listed = (
        "Chinese New Year lull, demand x0.5, days 41-50; Chinese New Year, a sellers' holiday, days 41-50"
    )
    assert f"scheduled in the pilots: {listed}." in out
    for column, cut in re.findall(r"^  (\w+) +cut +(\d+) days", out, flags=re.M):
        flagged = re.search(rf"^  {column} .*at or after Chinese New Year", out, flags=re.M)
        assert bool(flagged) == (41 <= int(cut) <= 64), (column, cut)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replications", "0"], "--replications: must be >= 1 (got 0)"),
        (["--series", "orders_in_sistem"], "--series: unknown orders_in_sistem (have orders_in_system,"),
        (["--horizon-days", "15"], "--horizon-days: pilots must run at least 20 days for MSER-5 (got 15)"),
        (["--plot", "{tmp}/w.txt"], "--plot: must end in .png, .pdf or .svg"),
        (["--plot", "{tmp}"], "--plot: is a folder, not a file"),
    ],
)
def test_warmup_command_refuses_bad_input_with_exit_2(tmp_path, capsys, args, message):
    from simcore.cli import main

    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    base = ["--set", "buyers.orders_per_hour=2", "--replications", "1", "--quiet"]
    assert main(["warmup", str(SCENARIOS / "baseline.yaml"), *base, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
