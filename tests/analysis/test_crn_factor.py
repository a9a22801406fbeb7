"""The variance-reduction factor of common random numbers: ``crn_factor``, its column in
``compare`` and its sentence in the sweep report.

Oracles: a hand-computed table; the t-interval arithmetic of the paired and unpaired
differences; and theory. For normal arms ``A = X + e_A``, ``B = X + e_B`` the sum ``S = A + B``
and the difference ``D = A - B`` are independent, and ``s_A^2 + s_B^2 = (s_S^2 + s_D^2) / 2``, so
the factor is exactly ``(1 + rho F) / 2`` with ``F ~ F(R-1, R-1)`` and
``rho = Var S / Var D`` (``1`` for independent arms of equal variance). Tolerances are that
distribution's quantiles at a failure probability of 1e-6 per check, so they hold for any seed
(``SIMCORE_TEST_SEED`` moves them) and still catch a wrong formula (see each test).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.report import HEADLINE_KPIS, _crn_table, crn_phrase, write_report
from analysis.sweep_plots import varied_keys
from analysis.sweeps import compare, crn_factor
from simcore.experiments.sweep import read_sweep, run_sweep
from tests.conftest import SCENARIOS, seed

#: Failure probability of each statistical check.
ALPHA = 1e-6


def factor_band(rho: float, replications: int) -> tuple[float, float]:
    """The central 1 - ALPHA range of ``(1 + rho F) / 2``, ``F ~ F(R-1, R-1)``."""
    lo, hi = stats.f.ppf([ALPHA / 2, 1 - ALPHA / 2], replications - 1, replications - 1)
    return (1 + rho * lo) / 2, (1 + rho * hi) / 2


def twins(rng: np.random.Generator, replications: int, shared_sd: float, noise_sd: float):
    """Two arms sharing ``X ~ N(0, shared_sd^2)`` per replication, each with its own noise."""
    x = rng.normal(0.0, shared_sd, replications)
    return x + rng.normal(0.0, noise_sd, replications), x + rng.normal(0.0, noise_sd, replications)


# --- the factor itself ------------------------------------------------------------------------


def test_factor_of_a_hand_computed_table():
    # A = 1 2 3 4: s_A^2 = 5/3; B = 1 2 3 5: s_B^2 = 35/12; D = 0 0 0 -1: s_D^2 = 1/4.
    assert crn_factor(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 5])) == pytest.approx(
        (5 / 3 + 35 / 12) / (1 / 4)
    )


@pytest.mark.parametrize(
    ("arm", "base", "expected"),
    [
        ([0.1, 0.2, 0.7], [0.1, 0.2, 0.7], np.inf),  # identical arms: the difference is exact
        ([1.0, 2.0, 7.0], [1.5, 2.5, 7.5], np.inf),  # a constant shift (exact in binary) too
        ([0.3, 0.3, 0.3], [0.3, 0.3, 0.3], np.nan),  # neither arm varies: 0 / 0
        ([0.1, 0.3, 0.3], [0.2, 0.2, 0.2], 1.0),  # one arm constant: the pairing cannot help
        ([0.3], [0.1], np.nan),  # one replication has no variance
        ([], [], np.nan),
        ([0.1, np.nan, np.nan], [0.1, 0.2, 0.7], np.nan),  # one replication where both exist
    ],
)
def test_edge_cases(arm, base, expected):
    got = crn_factor(np.array(arm, dtype=float), np.array(base, dtype=float))
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected)


def test_a_replication_missing_in_either_arm_is_left_out_of_both():
    a, b = np.array([1.0, 2, np.nan, 3, 4]), np.array([1.0, 2, 9, 3, 5])
    assert crn_factor(a, b) == crn_factor(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 5]))


def test_arms_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="3 arm values but 2 baseline values"):
        crn_factor(np.zeros(3), np.zeros(2))


@pytest.mark.statistical
@pytest.mark.parametrize("n", range(5))
def test_shared_randomness_gives_a_large_factor(n):
    # Var X = 100, Var e = 1: true factor (2*100 + 2) / 2 = 101, rho = (4*100 + 2) / 2 = 201.
    # With R = 5000 the band is about [88, 116]; half the factor (s_A^2 / s_D^2 alone) or its
    # square root would fall far outside.
    replications = 5000
    a, b = twins(np.random.default_rng(seed(100 + n)), replications, shared_sd=10.0, noise_sd=1.0)
    lo, hi = factor_band(201.0, replications)
    assert 80 < lo < 101 < hi < 120
    assert lo <= crn_factor(a, b) <= hi


@pytest.mark.statistical
@pytest.mark.parametrize("n", range(5))
def test_independent_arms_give_a_factor_near_one(n):
    # No shared randomness: the factor is (1 + F) / 2, within about [0.93, 1.07] for R = 5000;
    # a factor reporting the width ratio (its square root) would pass too, but not a sign error
    # in the covariance or a sum of standard deviations.
    replications = 5000
    a, b = twins(np.random.default_rng(seed(200 + n)), replications, shared_sd=0.0, noise_sd=1.0)
    lo, hi = factor_band(1.0, replications)
    assert 0.9 < lo < 1 < hi < 1.1
    assert lo <= crn_factor(a, b) <= hi


@pytest.mark.statistical
def test_with_few_replications_the_factor_of_independent_arms_is_half_of_one_plus_an_f_ratio():
    # The docstring's warning: with R = 5 the factor of arms with no common randomness spreads
    # as (1 + F(4, 4)) / 2 (middle 95%: 0.55 to 5.3). 4000 sweeps of 5 replications; the KS test
    # rejects a wrong distribution (F(4, 8), or the square root) at p << 1e-6 with this many.
    rng = np.random.default_rng(seed(300))
    factors = np.array([crn_factor(*twins(rng, 5, 0.0, 1.0)) for _ in range(4000)])
    fit = stats.kstest(2 * factors - 1, stats.f(4, 4).cdf)
    assert fit.pvalue > ALPHA
    assert np.median(factors) == pytest.approx(1.0, abs=0.1)  # F(d, d) has median 1


# --- the column of compare ------------------------------------------------------------------


def sweep_frame(replications: int = 8) -> pd.DataFrame:
    """A tidy sweep frame (as from load_sweep): two cells, a baseline and three arms, a KPI."""
    rng = np.random.default_rng(seed(400))
    rows = []
    for cell, accuracy in enumerate((0.2, 0.65)):
        x = rng.normal(10.0, 3.0, replications)  # the replication's shared randomness
        arms = {
            "status_quo": x + rng.normal(0, 0.3, replications),
            "paired": x + 1.0 + rng.normal(0, 0.3, replications),
            "same_again": None,  # the baseline's values exactly
            "unpaired": rng.normal(10.0, 3.0, replications),
        }
        arms["same_again"] = arms["status_quo"].copy()
        for strategy, values in arms.items():
            for r, v in enumerate(values):
                rows.append((cell, strategy, r, 7, accuracy, "refund_delay_bdays.mean", float(v)))
    columns = ["cell_id", "strategy", "replication", "seed", "sellers.inventory_accuracy", "kpi", "value"]
    return pd.DataFrame(rows, columns=columns)


def test_compare_gives_the_factor_next_to_the_difference_and_its_interval():
    df = sweep_frame()
    diffs = compare(df, baseline="status_quo")
    assert list(diffs.columns[-5:]) == ["diff_mean", "ci_low", "ci_high", "crn_factor", "n"]
    assert varied_keys(diffs) == ["sellers.inventory_accuracy"]  # the factor is no design key
    for row in diffs.itertuples(index=False):
        pick = (df["cell_id"] == row.cell_id) & (df["kpi"] == row.kpi)
        a = df[pick & (df["strategy"] == row.strategy)]["value"].to_numpy()
        b = df[pick & (df["strategy"] == "status_quo")]["value"].to_numpy()
        if row.strategy == "same_again":
            assert (row.diff_mean, row.ci_low, row.ci_high, row.crn_factor) == (0.0, 0.0, 0.0, np.inf)
            continue
        unpaired = a.var(ddof=1) + b.var(ddof=1)
        assert row.crn_factor == pytest.approx(unpaired / (a - b).var(ddof=1))
        # The width of the paired t-interval times the factor's square root is the width the
        # same interval would have with the independent-replications variance.
        t = stats.t.ppf(0.975, row.n - 1)
        width = 2 * t * np.sqrt(unpaired / row.n)
        assert (row.ci_high - row.ci_low) * np.sqrt(row.crn_factor) == pytest.approx(width)
    paired = diffs[diffs["strategy"] == "paired"]["crn_factor"]
    unpaired = diffs[diffs["strategy"] == "unpaired"]["crn_factor"]
    # Var X = 9, Var e = 0.09: true factor 101 (paired) against about 1 (unpaired).
    assert (paired > 10).all() and (unpaired < 10).all()


def test_compare_leaves_out_missing_replications_and_gives_nan_below_two():
    df = sweep_frame(replications=3)
    df.loc[(df["strategy"] == "paired") & (df["replication"] == 0), "value"] = np.nan
    one = df[df["replication"] == 0]
    diffs = compare(df, baseline="status_quo").set_index(["cell_id", "strategy"])
    assert (diffs.loc[(slice(None), "paired"), "n"] == 2).all()
    assert np.isfinite(diffs.loc[(slice(None), "paired"), "crn_factor"]).all()
    single = compare(one, baseline="status_quo")
    assert (single["n"] <= 1).all() and single["crn_factor"].isna().all()


# --- the report -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "diff", "n", "phrase"),
    [
        (12.345, 0.1, 5, "common random numbers made this comparison 12.3 times sharper"),
        # A ratio of sample variances that large is known only in its order of magnitude.
        (1.17e9, 0.1, 5, "common random numbers made this comparison over 1,000 times sharper"),
        (1.0, 0.1, 5, "common random numbers made this comparison 1.0 times sharper"),
        (0.62, 0.1, 5, "common random numbers made this comparison 0.6 times as sharp (no gain)"),
        (np.inf, 0.0, 5, "identical arms: common random numbers made the difference exactly zero"),
        (np.inf, 0.5, 5, "common random numbers made the difference the same in every replication (exact)"),
        (np.nan, np.nan, 1, "cannot be measured with fewer than 2 replications"),
        (
            np.nan,
            0.0,
            5,
            "neither arm varies across replications: nothing for common random numbers to sharpen",
        ),
    ],
)
def test_phrases(factor, diff, n, phrase):
    assert crn_phrase(factor, diff, n) == phrase


def table_cells(table: str) -> list[list[str]]:
    """The body of an HTML table from the report: its rows' cell texts."""
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]]


def test_the_report_table_has_a_sentence_for_every_comparison():
    diffs = compare(sweep_frame(), baseline="status_quo")
    table = _crn_table(
        diffs,
        ["sellers.inventory_accuracy"],
        ["status_quo", "paired", "same_again", "unpaired"],
        ["refund_delay_bdays.mean"],
    )
    heads = re.findall(r"<th>([^<]*)</th>", table)
    assert heads == [
        "KPI",
        "sellers.inventory_accuracy",
        "paired: difference [95% CI]",  # the strategies in the sweep's order, the baseline left out
        "same_again: difference [95% CI]",
        "unpaired: difference [95% CI]",
    ]
    rows = table_cells(table)
    assert [r[:2] for r in rows] == [["refund delay: mean (business days)", v] for v in ("0.2", "0.65")]
    by = diffs.set_index(["cell_id", "strategy"])["crn_factor"]
    for cell, row in enumerate(rows):
        paired, same, unpaired = row[2:]
        assert paired.endswith(
            f"common random numbers made this comparison {by[cell, 'paired']:.1f} times sharper"
        )
        d = diffs[(diffs["cell_id"] == cell) & (diffs["strategy"] == "paired")].iloc[0]
        assert paired.startswith(f"{d.diff_mean:+.2f} [{d.ci_low:+.2f}, {d.ci_high:+.2f}]; ")
        assert (
            same
            == "+0.00 [+0.00, +0.00]; identical arms: common random numbers made the difference exactly zero"
        )
        assert re.search(
            r"; common random numbers made this comparison \d+\.\d times (sharper|as sharp)", unpaired
        )


TINY_SWEEP = f"""\
base: {(SCENARIOS / "baseline.yaml").as_posix()}
replications: 3
seed: {seed(5)}
set: {{horizon_days: 10, warmup_days: 2, cooldown_days: 2, buyers.orders_per_hour: 2}}
grid:
  sellers.inventory_accuracy: [0.3, 0.9]
strategies:
  status_quo: {{}}
  weekly_count: {{sellers.strategy.sync_interval_days: 7}}
  same_again: {{}}
"""


@pytest.mark.slow
def test_the_sweep_report_says_what_common_random_numbers_did(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_SWEEP, encoding="utf-8")
    run_sweep(read_sweep(tmp_path / "tiny.yaml"), tmp_path / "store")
    out = tmp_path / "sweep.html"
    write_report(tmp_path / "store", out, dpi=20)
    section = out.read_text(encoding="utf-8").split("<h2>Paired differences from status_quo</h2>")[1]
    # First, a line per strategy; after the forest plot, a row per comparison it draws.
    summary, table = section.split("<figure>")
    assert (
        "<b>same_again</b>: identical arms: common random numbers made the difference exactly zero" in summary
    )
    assert re.search(r"<b>weekly_count</b>: common random numbers made its comparisons [\d.]+ to", summary)
    assert "With 3 replications the factor is itself an estimate" in summary
    rows = table_cells(table)
    assert len(rows) == 2 * len(HEADLINE_KPIS)  # a row per cell and KPI drawn
    assert all(len(row) == 2 + 2 for row in rows)  # ... and a cell per strategy but the baseline
    said = [cell.split("; ", 1)[1] for row in rows for cell in row[2:]]
    same = [row[3].split("; ", 1)[1] for row in rows]
    # A KPI neither arm moves (none of a rare event in 3 short runs) has nothing to sharpen.
    assert set(same) <= {
        "identical arms: common random numbers made the difference exactly zero",
        "neither arm varies across replications: nothing for common random numbers to sharpen",
    }
    assert "identical arms: common random numbers made the difference exactly zero" in same
    assert any(
        re.fullmatch(r"common random numbers made this comparison \d+\.\d times sharper", s) for s in said
    )
