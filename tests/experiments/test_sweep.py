"""Sweeps: design expansion, validation, bit-for-bit results whatever the executor, resuming
after a kill or a corrupted file, and the analysis of the store (CIs, paired differences)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import analysis
from simcore.cli import main
from simcore.errors import ScenarioError
from simcore.experiments.sweep import read_sweep, run_sweep
from tests.conftest import SCENARIOS, seed

BASE = (SCENARIOS / "baseline.yaml").as_posix()
SMALL = f"""\
base: {BASE}
replications: 3
seed: {seed(5)}
set: {{horizon_days: 12, warmup_days: 2, cooldown_days: 2, buyers.orders_per_hour: 3}}
grid:
  sellers.inventory_accuracy: [0.3, 0.9]
strategies:
  status_quo: {{}}
  same_again: {{}}
  strict_fraud: {{platform.fraud.review_threshold: 0.1, platform.fraud.decline_threshold: 0.3}}
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sweep")
    sweep = write(d, SMALL)
    assert main(["sweep", str(sweep), "--out", str(d / "serial"), "--jobs", "1", "--quiet"]) == 0
    return d


@pytest.mark.trace
@pytest.mark.slow
def test_design_crosses_cells_strategies_and_replications(small_store):
    sweep = read_sweep(small_store / "sweep.yaml")
    assert sweep.cells == [{"sellers.inventory_accuracy": 0.3}, {"sellers.inventory_accuracy": 0.9}]
    assert len(sweep.tasks()) == 2 * 3 * 3
    df = analysis.load_sweep(small_store / "serial")
    assert list(df.columns) == [
        "cell_id",
        "strategy",
        "replication",
        "seed",
        "sellers.inventory_accuracy",
        "kpi",
        "value",
    ]
    assert df.groupby(["cell_id", "strategy", "replication"]).ngroups == 18
    assert "cancellations_by_reason.out_of_stock" in set(df["kpi"])
    assert (df["seed"] == seed(5)).all()


@pytest.mark.property
@pytest.mark.slow
def test_same_results_with_two_workers_and_with_dask(small_store):
    serial = analysis.load_sweep(small_store / "serial")
    sweep = small_store / "sweep.yaml"
    assert main(["sweep", str(sweep), "--out", str(small_store / "two"), "--jobs", "2", "--quiet"]) == 0
    assert analysis.load_sweep(small_store / "two").equals(serial)
    pytest.importorskip("distributed")
    out = small_store / "dask"
    assert main(["sweep", str(sweep), "--out", str(out), "--jobs", "2", "--executor", "dask", "--quiet"]) == 0
    assert analysis.load_sweep(out).equals(serial)


@pytest.mark.property
@pytest.mark.slow
def test_identical_arms_differ_by_exactly_zero_and_a_real_change_shows(small_store):
    diff = analysis.compare(analysis.load_sweep(small_store / "serial"), baseline="status_quo")
    same = diff[(diff["strategy"] == "same_again") & (diff["n"] >= 2)]
    assert len(same) > 50
    assert (same[["diff_mean", "ci_low", "ci_high"]] == 0.0).all().all()
    strict = diff[
        (diff["strategy"] == "strict_fraud") & (diff["kpi"] == "cancellations_by_reason.fraud_suspected")
    ]
    assert len(strict) == 2 and (strict["ci_low"] > 0).all()


@pytest.mark.trace
@pytest.mark.slow
def test_summarize_gives_t_intervals_and_a_bootstrap_option(small_store):
    df = analysis.load_sweep(small_store / "serial")
    s = analysis.summarize(df)
    row = s[(s.cell_id == 0) & (s.strategy == "status_quo") & (s.kpi == "cancellation_rate")].iloc[0]
    values = df[(df.cell_id == 0) & (df.strategy == "status_quo") & (df.kpi == "cancellation_rate")]["value"]
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
    assert row["mean"] == pytest.approx(values.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((values.mean() - half, values.mean() + half))
    assert row["n"] == 3
    b = analysis.summarize(df, bootstrap=True, seed=seed(1))
    brow = b[(b.cell_id == 0) & (b.strategy == "status_quo") & (b.kpi == "cancellation_rate")].iloc[0]
    # A resample of three equal values averages to that value give or take a rounding (seen on
    # one seed: an interval end 1 ulp past the largest value).
    ulp = 1e-12 * values.abs().max()
    assert values.min() - ulp <= brow["ci_low"] <= brow["mean"] <= brow["ci_high"] <= values.max() + ulp
    assert analysis.summarize(df, bootstrap=True, seed=seed(1)).equals(b)


@pytest.mark.property
@pytest.mark.slow
def test_rerun_skips_finished_runs_and_redoes_a_corrupted_one(small_store, tmp_path):
    sweep = read_sweep(small_store / "sweep.yaml")
    store = tmp_path / "store"
    first = run_sweep(sweep, store)
    # status_quo and same_again are one arm (the same scenario and seed): its runs, done once, are
    # found done the second time.
    assert (first.done, first.skipped) == (12, 6)
    assert len(list((store / "runs").glob("*.parquet"))) == 12
    victim = sorted((store / "runs").glob("*.parquet"))[4]
    victim.write_bytes(victim.read_bytes()[:100])  # truncated on disk
    (sorted((store / "runs").glob("*.parquet"))[7]).unlink()
    second = run_sweep(sweep, store)
    assert (second.done, second.skipped) == (2, 16)
    assert analysis.load_sweep(store).equals(analysis.load_sweep(small_store / "serial"))


@pytest.mark.property
@pytest.mark.slow
def test_a_sweep_killed_midway_and_rerun_equals_an_uninterrupted_one(small_store, tmp_path):
    sweep = small_store / "sweep.yaml"
    store = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "simcore",
        "sweep",
        str(sweep),
        "--out",
        str(store),
        "--jobs",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((store / "runs").glob("*.parquet"))) < 4:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(list((store / "runs").glob("*.parquet")))
    assert 4 <= partial < 12  # 12 arms' runs (two of the three strategies are the same arm)
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert analysis.load_sweep(store).equals(analysis.load_sweep(small_store / "serial"))


@pytest.mark.property
def test_sampled_designs_stay_in_their_ranges_and_repeat(tmp_path):
    text = f"""\
base: {BASE}
replications: 1
seed: {seed(3)}
set: {{horizon_days: 5, warmup_days: 1, cooldown_days: 1}}
sample:
  method: lhs
  n: 8
  params:
    buyers.fraud_rate: {{low: 0.005, high: 0.05}}
    sellers.inventory_accuracy: {{low: 0.2, high: 0.9}}
"""
    sweep = read_sweep(write(tmp_path, text))
    assert len(sweep.cells) == 8 and sweep.varied == ["buyers.fraud_rate", "sellers.inventory_accuracy"]
    fraud = np.array([c["buyers.fraud_rate"] for c in sweep.cells])
    assert ((fraud >= 0.005) & (fraud <= 0.05)).all()
    # Latin hypercube: one point in each eighth of every range.
    assert sorted(((fraud - 0.005) / 0.045 * 8).astype(int)) == list(range(8))
    assert read_sweep(write(tmp_path, text)).cells == sweep.cells


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "grid:\n  sellers.inventory_acuracy: [0.3]\n",
            r"sweep.yaml:5: design cell .*inventory_acuracy: unknown key "
            r"\(did you mean 'inventory_accuracy'\?\)",
        ),
        (
            "grid:\n  sellers.inventory_accuracy: [0.3, 1.5]\n",
            r"sweep.yaml:5: design cell \{'sellers.inventory_accuracy': 1.5\}: "
            r"sellers.inventory_accuracy: .*less than or equal to 1 \(got 1.5\)",
        ),
        (
            "strategies:\n  fast: {platform.ship_by_days: -1}\n",
            r"sweep.yaml:5: strategy 'fast': platform.ship_by_days: .*greater than 0",
        ),
        (
            "grid: {buyers.fraud_rate: [0.01]}\nzip: {buyers.fraud_rate: [0.01]}\n",
            r"give one of grid, zip or sample",
        ),
        (
            "zip: {buyers.fraud_rate: [0.01, 0.02], sellers.inventory_accuracy: [0.5]}\n",
            r"zip lists must have equal lengths",
        ),
        ("grid: {buyers.fraud_rate: []}\n", r"grid.buyers.fraud_rate: List should have at least 1 item"),
        ("replicatons: 3\n", r"replicatons: unknown key"),
    ],
)
def test_bad_sweep_files_are_refused_with_file_line_key_and_value(tmp_path, capsys, body, expected):
    head = f"base: {BASE}\nreplications: 2\nseed: {seed(1)}\n"
    path = write(tmp_path, head + body)
    with pytest.raises(ScenarioError) as err:
        read_sweep(path)
    assert any(__import__("re").search(expected, p) for p in err.value.problems), err.value.problems
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "error:" in captured.err
    assert not out.exists()


def test_missing_base_and_bad_flags_exit_2(tmp_path, capsys):
    path = write(tmp_path, "base: nowhere.yaml\nreplications: 1\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "base: file not found" in capsys.readouterr().err
    ok = write(tmp_path, f"base: {BASE}\nreplications: 1\n", "ok.yaml")
    assert main(["sweep", str(ok), "--out", str(tmp_path / "o"), "--jobs", "0"]) == 2
    assert main(["sweep", str(ok), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"]) == 2
    assert not (tmp_path / "o").exists()


def test_shipped_sweep_files_validate():
    files = sorted(SCENARIOS.glob("sweep_*.yaml"))
    assert len(files) >= 2
    for f in files:
        sweep = read_sweep(f)
        assert len(sweep.strategies) >= 2 and sweep.spec.replications >= 5
