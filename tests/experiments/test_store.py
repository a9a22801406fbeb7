"""The store keyed by arm: file names, shared arms, arms added later, and stores of the earlier
layout (files named by design cell), which are read as they are and adopted by the next sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import analysis
from simcore.cli import main
from simcore.experiments.store import (
    arm_key,
    is_finished,
    read_run,
    run_digest,
    run_file,
    write_run,
)
from simcore.experiments.sweep import read_sweep, run_sweep
from simcore.version import __version__
from tests.conftest import SCENARIOS, seed

pytestmark = pytest.mark.property

SWEEP = """\
base: {base}
replications: 2
seed: {seed}
set: {{horizon_days: 8, warmup_days: 2, cooldown_days: 2, buyers.orders_per_hour: 2}}
grid:
  sellers.inventory_accuracy: [0.3, 0.9]
strategies:
  status_quo: {{}}
  strict_fraud: {{platform.fraud.review_threshold: 0.1, platform.fraud.decline_threshold: 0.3}}
"""


def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        SWEEP.format(base=(SCENARIOS / "baseline.yaml").as_posix(), seed=seed(3)), encoding="utf-8"
    )
    return path


def test_run_files_are_named_by_what_was_run(tmp_path):
    sweep = read_sweep(sweep_file(tmp_path))
    store = tmp_path / "store"
    report = run_sweep(sweep, store)
    assert (report.done, report.skipped, report.adopted) == (8, 0, 0)
    expected = {f"{h}-s{seed(3)}-r{r:05d}.parquet" for h in sweep.hashes.values() for r in range(2)}
    assert {p.name for p in (store / "runs").iterdir()} == expected
    design = json.loads((store / "design.json").read_text())
    assert design["layout"] == 2
    assert design["scenario_hashes"] == {f"{c}/{s}": h for (c, s), h in sweep.hashes.items()}
    # A file holds one run's KPIs, without the design's labels: the arm is in its name and metadata.
    table = read_run(next((store / "runs").iterdir()))
    assert table.column_names == ["replication", "seed", "kpi", "value"]
    assert table.schema.metadata[b"scenario_hash"].decode() in sweep.hashes.values()


def test_an_experiment_can_add_arms_to_a_store(tmp_path):
    # Arms are keys, not positions: an arm written later neither moves nor disturbs the others.
    store = tmp_path / "store"
    (store / "runs").mkdir(parents=True)
    kpis = {"cancellation_rate": 0.1, "queues.gateway.utilization": None}
    write_run(
        run_file(store, arm_key("a" * 16, 5), 0), replication=0, seed=5, scenario_hash="a" * 16, kpis=kpis
    )
    before = run_file(store, arm_key("a" * 16, 5), 0).read_bytes()
    write_run(
        run_file(store, arm_key("b" * 16, 5), 0), replication=0, seed=5, scenario_hash="b" * 16, kpis=kpis
    )
    assert run_file(store, arm_key("a" * 16, 5), 0).read_bytes() == before
    assert is_finished(run_file(store, arm_key("b" * 16, 5), 0), "b" * 16, 5)
    # The same scenario with another seed is another arm; a file claimed by another arm is not it.
    assert not is_finished(run_file(store, arm_key("b" * 16, 6), 0), "b" * 16, 6)
    assert not is_finished(run_file(store, arm_key("a" * 16, 5), 0), "b" * 16, 5)


#: Run files of layout 1 (``c0000-status_quo-r00000.parquet``); an arm's hash may start with c too.
LAYOUT_1 = "c[0-9][0-9][0-9][0-9]-*-r[0-9][0-9][0-9][0-9][0-9].parquet"


def _to_layout_1(store: Path) -> int:
    """Rewrite a store as simcore wrote stores before arms (layout 1): files
    ``c<cell>-<strategy>-r<replication>.parquet`` holding the labels as columns, the digest over
    those six columns, and a design.json without ``layout``. Returns the files written."""
    design = json.loads((store / "design.json").read_text())
    by_hash: dict[str, list[tuple[int, str]]] = {}
    for label, h in design["scenario_hashes"].items():
        cell, _, strategy = label.partition("/")
        by_hash.setdefault(h, []).append((int(cell), strategy))
    written = 0
    for file in sorted((store / "runs").glob("*.parquet")):
        new = read_run(file)
        meta = new.schema.metadata
        for cell, strategy in by_hash[meta[b"scenario_hash"].decode()]:
            n = new.num_rows
            old = pa.table(
                {
                    "cell_id": pa.array([cell] * n, pa.int64()),
                    "strategy": pa.array([strategy] * n, pa.string()),
                    "replication": new.column("replication"),
                    "seed": new.column("seed"),
                    "kpi": new.column("kpi"),
                    "value": new.column("value"),
                }
            )
            old = old.replace_schema_metadata({**meta, b"digest": run_digest(old).encode()})
            r = new.column("replication")[0].as_py()
            pq.write_table(old, store / "runs" / f"c{cell:04d}-{strategy}-r{r:05d}.parquet")
            written += 1
        file.unlink()
    del design["layout"]
    (store / "design.json").write_text(json.dumps(design, indent=2))
    return written


def test_a_store_of_the_earlier_layout_is_read_and_adopted(tmp_path, capsys):
    path = sweep_file(tmp_path)
    store = tmp_path / "store"
    run_sweep(read_sweep(path), store)
    fresh = analysis.load_sweep(store)
    assert _to_layout_1(store) == 8
    # Read as it is, by the analysis, without running anything.
    assert analysis.load_sweep(store).equals(fresh)
    # The next sweep into it moves the finished runs into the arm layout instead of redoing them,
    # and says so.
    assert main(["sweep", str(path), "--out", str(store), "--jobs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"{store}: moved 8 finished runs of an earlier store layout into this one" in out
    assert "0 run now, 8 already done" in out
    assert not list((store / "runs").glob(LAYOUT_1))
    assert json.loads((store / "design.json").read_text())["layout"] == 2
    assert analysis.load_sweep(store).equals(fresh)


def test_runs_of_another_version_in_an_old_store_are_redone_not_adopted(tmp_path):
    path = sweep_file(tmp_path)
    store = tmp_path / "store"
    run_sweep(read_sweep(path), store)
    _to_layout_1(store)
    victim = sorted((store / "runs").glob(LAYOUT_1))[0]
    table = pq.read_table(victim)
    meta = {**table.schema.metadata, b"simcore_version": b"0.0.1"}
    pq.write_table(table.replace_schema_metadata(meta), victim)
    assert __version__ != "0.0.1"
    report = run_sweep(read_sweep(path), store)
    assert (report.adopted, report.done, report.skipped) == (7, 1, 7)
    assert victim.exists()  # left as it was, unread
