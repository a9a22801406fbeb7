"""Sweeps beyond one pass: replications until a precision target, the store's lock and identity,
and sensitivity designs (Morris, Sobol') with their indices."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import analysis
from analysis.precision import PrecisionRule, Target, _next_size, parse_target, precision_table
from simcore.cli import main
from simcore.errors import ArgumentError, ScenarioError, StoreError
from simcore.experiments.store import store_lock
from simcore.experiments.sweep import read_sweep, run_sweep, run_until
from tests.conftest import SCENARIOS, seed

BASE = (SCENARIOS / "baseline.yaml").as_posix()
SMALL = f"""\
base: {BASE}
replications: 3
seed: {seed(11)}
set: {{horizon_days: 12, warmup_days: 2, cooldown_days: 2, buyers.orders_per_hour: 3}}
grid:
  sellers.inventory_accuracy: [0.3, 0.9]
strategies:
  status_quo: {{}}
  strict_fraud: {{platform.fraud.review_threshold: 0.1, platform.fraud.decline_threshold: 0.3}}
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- precision


@pytest.mark.trace
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cancellation_rate=0.002", Target("cancellation_rate", 0.002, False)),
        ("disputes = 5%", Target("disputes", 0.05, True)),
    ],
)
def test_targets_parse_absolute_and_relative(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["rate", "=0.1", "x=0", "x=-1", "x=nan", "x=inf", "x=abc", "x=%"])
def test_bad_targets_are_refused(text):
    with pytest.raises(ArgumentError, match=re.escape(f"(got {text!r})")):
        parse_target(text)


@pytest.mark.trace
def test_next_size_is_the_smallest_n_whose_t_interval_meets_the_target():
    import pandas as pd

    n, conf = 4, 0.95
    sd = np.array([2.0, 0.5])
    half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    table = pd.DataFrame({"half_width": half, "target": [0.5, 0.1], "met": [False, False]})

    def smallest(s, target):
        i = n
        while stats.t.ppf(0.975, i - 1) * s / np.sqrt(i) > target:
            i += 1
        return i

    assert _next_size(table, n, 10_000, conf) == max(smallest(2.0, 0.5), smallest(0.5, 0.1))
    assert _next_size(table, n, 20, conf) == 20  # capped
    undefined = table.assign(half_width=[np.nan, np.nan])
    assert _next_size(undefined, n, 10_000, conf) == 2 * n


@pytest.mark.property
@pytest.mark.slow
def test_precision_adds_replications_until_every_arm_meets_its_target(tmp_path):
    sweep = read_sweep(write(tmp_path, SMALL))
    store = tmp_path / "store"
    # The target is 3/4 of the widest interval of the first round (3 replications), so that round
    # cannot meet it whatever the seed (a fixed 0.012 was met at once on 1 seed in 31 tried), and
    # a few more replications usually do. The cap is out of reach unless every arm's first three
    # replications agree to within a tenth of their usual spread.
    run_sweep(sweep, store)
    first = precision_table(store, 3, [parse_target("cancellation_rate=1")])
    target = 0.75 * float(first["half_width"].max())
    rule = PrecisionRule(store, [parse_target(f"cancellation_rate={target!r}")], max_replications=200)
    rounds = run_until(sweep, store, rule)
    assert rule.met and len(rounds) >= 2 and rounds[0].replications == 3
    n = rule.replications
    assert rounds[-1].replications == n and 3 < n < 200
    # Checked independently: every arm's t-interval over the n replications meets the target...
    df = analysis.load_sweep(store)
    rates = df[df.kpi == "cancellation_rate"]
    for _, arm in rates.groupby(["cell_id", "strategy"]):
        v = arm["value"].to_numpy()
        assert v.size == n
        assert stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n) <= target
    # ... and the round before did not.
    before = precision_table(store, rounds[-2].replications, rule.targets)
    assert not before["met"].all()


@pytest.mark.property
@pytest.mark.slow
def test_precision_gives_the_same_replications_whatever_the_workers(tmp_path):
    # One replication per arm to start: it gives no interval, so there is always a second round,
    # whose size the results decide (2 to 7 replications on the seeds tried). Started at 3, the
    # target was met at once on two seeds in nine and the test ran a single round.
    sweep_file = write(tmp_path, SMALL.replace("replications: 3", "replications: 1"))
    args = ["--precision", "cancellation_rate=30%", "--precision-baseline", "status_quo", "--quiet"]
    out1, out2 = tmp_path / "one", tmp_path / "two"
    assert main(["sweep", str(sweep_file), "--out", str(out1), "--jobs", "1", *args]) == 0
    assert main(["sweep", str(sweep_file), "--out", str(out2), "--jobs", "2", *args]) == 0
    a, b = analysis.load_sweep(out1), analysis.load_sweep(out2)
    assert a.equals(b) and a["replication"].max() + 1 > 1


@pytest.mark.slow
def test_precision_stops_at_the_cap_and_says_so(tmp_path, capsys):
    sweep_file = write(tmp_path, SMALL)
    out = tmp_path / "out"
    args = ["--precision", "cancellation_rate=0.00001", "--max-replications", "5", "--jobs", "1", "--quiet"]
    assert main(["sweep", str(sweep_file), "--out", str(out), *args]) == 0
    text = capsys.readouterr().out
    assert "NOT met within --max-replications with 5 replications per arm" in text
    assert "0/4 met" in text
    assert analysis.load_sweep(out)["replication"].max() == 4


def test_a_precision_baseline_needs_another_strategy(tmp_path, capsys):
    one = SMALL.split("strategies:")[0]
    args = ["--precision", "cancellation_rate=0.01", "--precision-baseline", "base", "--quiet"]
    assert main(["sweep", str(write(tmp_path, one)), "--out", str(tmp_path / "o"), *args]) == 2
    assert "the sweep has one strategy, so there is no difference to measure" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_precision_arguments_are_all_reported_before_any_run(tmp_path, capsys):
    sweep_file = write(tmp_path, SMALL)
    out = tmp_path / "out"
    args = ["--precision", "cancelation_rate=0.01", "--precision", "x", "--precision-baseline", "nope"]
    assert main(["sweep", str(sweep_file), "--out", str(out), "--max-replications", "2", *args]) == 2
    err = capsys.readouterr().err
    assert "error: invalid arguments (4 problems):" in err
    assert "did you mean 'cancellation_rate'?" in err
    assert "--max-replications: must be >= the sweep file's replications 3 (got 2)" in err
    assert "--precision-baseline: not a strategy of the sweep (got 'nope'" in err
    assert not out.exists()
    assert main(["sweep", str(sweep_file), "--out", str(out), "--max-replications", "9"]) == 2
    assert "only with --precision" in capsys.readouterr().err


# --------------------------------------------------------------------------- the store


HOLD = """\
import sys, time
from pathlib import Path
from simcore.experiments.store import store_lock
with store_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.mark.slow
def test_a_store_in_use_is_refused_and_freed_when_its_holder_dies(tmp_path, capsys):
    sweep_file = write(tmp_path, SMALL)
    store = tmp_path / "store"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        assert main(["sweep", str(sweep_file), "--out", str(store), "--jobs", "1", "--quiet"]) == 2
        assert time.monotonic() - started < 10  # refused, not waited for
        err = capsys.readouterr().err
        assert f"in use by another sweep (pid {holder.pid} on " in err
        assert not (store / "runs").exists()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # The OS released the dead holder's lock: nothing to clean up by hand.
    assert main(["sweep", str(sweep_file), "--out", str(store), "--jobs", "1", "--quiet"]) == 0


TRY_LOCK = """\
import sys
from pathlib import Path
from simcore.experiments.store import store_lock
try:
    with store_lock(Path(sys.argv[1])):
        print("got it")
except Exception as exc:
    print("refused")
"""


def try_lock(store: Path) -> str:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(store)], capture_output=True, text=True).stdout


def test_a_second_sweep_in_the_same_process_is_refused_and_the_first_keeps_its_lock(tmp_path):
    with store_lock(tmp_path):
        with pytest.raises(StoreError, match="in use by another sweep"):
            run_sweep(read_sweep(write(tmp_path, SMALL)), tmp_path)
        assert try_lock(tmp_path).strip() == "refused"  # the refusal did not free the lock
    assert try_lock(tmp_path).strip() == "got it"


@pytest.mark.slow
def test_the_store_stays_locked_between_precision_rounds(tmp_path):
    sweep = read_sweep(write(tmp_path, SMALL))
    store = tmp_path / "store"
    seen = []

    def more(n):
        seen.append(try_lock(store).strip())
        return n + 1 if n < 4 else None

    rounds = run_until(sweep, store, more)
    assert [r.replications for r in rounds] == [3, 4] and seen == ["refused", "refused"]


@pytest.mark.property
@pytest.mark.slow
def test_pool_workers_forked_during_a_sweep_do_not_keep_the_store_locked(tmp_path):
    sweep = read_sweep(write(tmp_path, SMALL))
    store = tmp_path / "store"
    with ProcessPoolExecutor(max_workers=2) as pool:
        run_sweep(sweep, store, pool)  # forks the workers while the lock is held
        report = run_sweep(sweep.with_replications(4), store, pool)  # the workers are still alive
    assert (report.done, report.skipped) == (4, 12)


@pytest.mark.slow
def test_a_store_holding_another_design_is_refused_untouched(tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["sweep", str(write(tmp_path, SMALL)), "--out", str(store), "--jobs", "1", "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}
    other = write(tmp_path, SMALL.replace("[0.3, 0.9]", "[0.3, 0.6]"), "other.yaml")
    assert main(["sweep", str(other), "--out", str(store), "--jobs", "1", "--quiet"]) == 2
    assert "holds the results of a sweep with another design" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()} == before


@pytest.mark.property
@pytest.mark.slow
def test_a_new_seed_redoes_every_run_and_leftovers_are_not_read(tmp_path):
    store = tmp_path / "store"
    first = run_sweep(read_sweep(write(tmp_path, SMALL)), store)
    fewer = SMALL.replace(f"seed: {seed(11)}", f"seed: {seed(12)}")
    fewer = fewer.replace("replications: 3", "replications: 2")
    again = run_sweep(read_sweep(write(tmp_path, fewer)), store)
    assert (first.done, again.done, again.skipped) == (12, 8, 0)
    df = analysis.load_sweep(store)
    # The first seed's files of replication 2 are still on disk, but not part of the sweep as last run.
    assert len(list((store / "runs").glob(f"*-s{seed(11)}-r00002.parquet"))) == 4
    assert set(df["seed"]) == {seed(12)} and set(df["replication"]) == {0, 1}


@pytest.mark.property
@pytest.mark.slow
def test_a_run_file_changed_on_disk_is_caught_and_recomputed_exactly(tmp_path):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sweep = read_sweep(write(tmp_path, SMALL))
    store = tmp_path / "store"
    run_sweep(sweep, store)
    clean = analysis.load_sweep(store)
    files = sorted((store / "runs").glob("*.parquet"))
    # A value changed but the file still valid Parquet, metadata intact (a hand edit, a bad copy).
    table = pq.read_table(files[2])
    column = table.column_names.index("value")
    edited = table.set_column(column, "value", pc.multiply(table.column("value"), 1.001))
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), files[2])
    # Bytes flipped in the middle of another file.
    raw = bytearray(files[5].read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 8] = bytes(8)
    files[5].write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="2 run file") as err:
        analysis.load_sweep(store)
    assert files[2].name in str(err.value) and "do not match their checksum" in str(err.value)
    assert files[5].name in str(err.value)
    report = run_sweep(sweep, store)
    assert (report.done, report.skipped) == (2, 10)
    assert analysis.load_sweep(store).equals(clean)


@pytest.mark.slow
def test_a_failing_run_is_reported_filed_and_retried_by_a_rerun(tmp_path, monkeypatch, capsys):
    import simcore.experiments.runner

    real_run = simcore.experiments.runner.run

    def flaky(scn, seed=None, replication=0, **kw):
        if replication == 1 and scn.sellers.inventory_accuracy == 0.9:
            raise RuntimeError("disk on fire")
        return real_run(scn, seed=seed, replication=replication, **kw)

    sweep_file, store = write(tmp_path, SMALL), tmp_path / "store"
    cmd = ["sweep", str(sweep_file), "--out", str(store), "--jobs", "1", "--quiet"]
    monkeypatch.setattr(simcore.experiments.runner, "run", flaky)
    assert main(cmd) == 1
    err = capsys.readouterr().err
    assert err.count("failed: cell 1 {'sellers.inventory_accuracy': 0.9}") == 2  # both strategies
    assert f"seed {seed(11)}, replication 1: RuntimeError: disk on fire" in err
    traces = sorted((store / "failures").glob("*.txt"))
    assert [t.name for t in traces] == ["c0001-status_quo-r00001.txt", "c0001-strict_fraud-r00001.txt"]
    assert "disk on fire" in traces[0].read_text() and "Traceback" in traces[0].read_text()
    assert len(list((store / "runs").glob("*.parquet"))) == 10  # the others finished
    monkeypatch.setattr(simcore.experiments.runner, "run", real_run)
    assert main(cmd) == 0
    assert not list((store / "failures").glob("*.txt"))  # mended runs leave no stale trace
    assert len(analysis.load_sweep(store).groupby(["cell_id", "strategy", "replication"])) == 12


# --------------------------------------------------------------------------- sensitivity


def sampled(method: str, n: int) -> str:
    return f"""\
base: {BASE}
replications: 1
seed: {seed(4)}
set: {{horizon_days: 10, warmup_days: 2, cooldown_days: 2, buyers.orders_per_hour: 4}}
sample:
  method: {method}
  n: {n}
  params:
    buyers.fraud_rate: {{low: 0.0, high: 0.08}}
    sellers.inventory_accuracy: {{low: 0.3, high: 1.0}}
"""


@pytest.mark.statistical
def test_morris_design_and_indices_rank_the_parameter_that_drives_a_kpi(tmp_path):
    pytest.importorskip("SALib")
    from SALib.analyze import morris

    sweep = read_sweep(write(tmp_path, sampled("morris", 4)))
    assert len(sweep.cells) == 4 * (2 + 1)  # n trajectories of (parameters + 1) points
    x = np.array([[c["buyers.fraud_rate"], c["sellers.inventory_accuracy"]] for c in sweep.cells])
    assert set(np.round(x[:, 0] / 0.08 * 3, 9)) <= {0.0, 1.0, 2.0, 3.0}  # a 4-level grid
    store = tmp_path / "store"
    run_sweep(sweep, store)
    got = analysis.sensitivity(store, "fraud_rate_observed")
    assert list(got.columns) == ["strategy", "kpi", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    star = dict(zip(got["parameter"], got["mu_star"], strict=True))
    assert star["buyers.fraud_rate"] > 5 * star["sellers.inventory_accuracy"]
    # The same numbers as SALib's analyser handed the runs by hand.
    df = analysis.load_sweep(store)
    y = df[df.kpi == "fraud_rate_observed"].sort_values("cell_id")["value"].to_numpy()
    problem = {"num_vars": 2, "names": sweep.varied, "bounds": [[0.0, 0.08], [0.3, 1.0]]}
    ref = morris.analyze(problem, x, y, num_levels=4, seed=0)
    assert np.allclose(got["mu_star"], ref["mu_star"])


@pytest.mark.statistical
@pytest.mark.slow
def test_sobol_design_gives_first_order_and_total_indices(tmp_path):
    pytest.importorskip("SALib")
    # n = 4 (16 runs; 8 took twice as long): the total index of the fraud rate on the observed
    # fraud rate came out 0.6 to 1.5 on the seeds tried, the inventory accuracy's 0.0 (CRN: it
    # moves no fraud draw), so the ranking below does not hang on the sample size.
    sweep = read_sweep(write(tmp_path, sampled("sobol", 4)))
    assert len(sweep.cells) == 4 * (2 + 2)
    store = tmp_path / "store"
    run_sweep(sweep, store)
    got = analysis.sensitivity(store, "fraud_rate_observed")
    assert list(got.columns) == ["strategy", "kpi", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    st = dict(zip(got["parameter"], got["ST"], strict=True))
    assert st["buyers.fraud_rate"] > st["sellers.inventory_accuracy"]
    assert analysis.sensitivity(store, "fraud_rate_observed").equals(got)  # reproducible


def test_sensitivity_refuses_other_designs_and_unknown_kpis(tmp_path):
    store = tmp_path / "store"
    run_sweep(read_sweep(write(tmp_path, SMALL.replace("replications: 3", "replications: 1"))), store)
    with pytest.raises(ValueError, match="needs a sweep with sample"):
        analysis.sensitivity(store, "cancellation_rate")
    power = r"sweep.yaml:7: sample.n: must be a power of 2 for method sobol \(got 6\)"
    with pytest.raises(ScenarioError, match=power):
        read_sweep(write(tmp_path, sampled("sobol", 6)))


# --------------------------------------------------------------------------- progress in Jupyter


@pytest.mark.slow
def test_progress_bar_runs_in_a_jupyter_kernel(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    sweep_file = write(tmp_path, SMALL.replace("replications: 3", "replications: 1"))
    code = f"""\
from simcore.experiments.sweep import progress_bar, read_sweep, run_sweep
sweep = read_sweep({str(sweep_file)!r})
with progress_bar("small") as progress:
    report = run_sweep(sweep, {str(tmp_path / "store")!r}, progress=progress)
report.done
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    assert outputs[-1]["data"]["text/plain"] == "4"
    shown = "".join(o.get("text", "") for o in outputs if o.output_type == "stream") + "".join(
        str(o.get("data", {})) for o in outputs if o.output_type == "display_data"
    )
    # A widget where ipywidgets is installed, else tqdm's text bar on stderr: either way 4 of 4.
    assert "4/4" in shown or "'value': 4" in shown, shown


# --------------------------------------------------------------------------- hostile sweep files

BOMB = """\
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


HEAD = f"base: {BASE}\nreplications: 1\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BOMB, "more than 10,000 values once aliases are expanded"),
        ("base: x.yaml\nreplications: !!python/object/apply:os.system [echo hi]\n", "could not determine"),
        (
            HEAD + "sample:\n  n: 4\n  params: {buyers.fraud_rate: {low: 0, high: .inf}}\n",
            "sample.params.buyers.fraud_rate.high: Input should be a finite number",
        ),
        (HEAD + "set: {buyers.orders_per_hour: 1.0e+12}\n", "run too large for memory"),
        (
            HEAD.replace("replications: 1", "replications: 100000")
            + "grid: {a: [1, 2, 3, 4], b: [1, 2, 3]}\n",
            "sweep too large: 12 arms (design cells x strategies) and 1,200,000 runs",
        ),
        (
            HEAD
            + "grid: {"
            + ", ".join(f"k{i}: [{', '.join(map(str, range(40)))}]" for i in range(8))
            + "}\n",
            "sweep too large: 6,553,600,000,000 arms",
        ),
        (  # the literal limit of a 64-bit seed, not a seed to move
            HEAD + "seed: 9223372036854775808\n",
            "seed: Input should be less than or equal to 9223372036854775807",
        ),
    ],
)
def test_hostile_sweep_files_are_refused_fast(tmp_path, capsys, text, message):
    path = write(tmp_path, text)
    started = time.monotonic()
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
