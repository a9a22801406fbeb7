"""The ``simcore`` command line: exit codes, messages, the files ``run`` writes, reproducibility.

Runs go through ``main([...])`` in-process on a 3-day scenario derived from ``QUIET``; one test
calls the installed console script in a subprocess.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from simcore import Scenario, ScenarioError, __version__, load_scenario
from simcore.cli import main
from tests.conftest import QUIET, SCENARIOS, seed

RUN_FILES = {
    "orders.parquet",
    "events.parquet",
    "timeseries.parquet",
    "sellers.parquet",
    "lost_visits.parquet",
    "kpis.json",
    "scenario.yaml",
}

REASONS = {
    "out_of_stock",
    "pricing_error",
    "shipping_restriction",
    "change_of_mind",
    "better_deal",
    "wrong_item",
    "payment_failed",
    "verification_timeout",
    "fraud_suspected",
    "prohibited_item",
    "ship_deadline_missed",
    "address_conflict",
    "seller_suspended",
}

ORDER_COLUMNS = {
    "order_id",
    "buyer_id",
    "seller_id",
    "destination",
    "amount",
    "placed_at",
    "status",
    "cancel_initiator",
    "cancel_reason",
    "cancelled_at",
    "is_fraud",
    "refund_amount",
    "refund_method",
    "refund_delay_bdays",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
}

QUEUE_KEYS = {"mean_wait_hours", "p90_wait_hours", "mean_queue_length", "utilization"}

#: QUIET over 3 days, with a few random paths switched on so that seeds make a difference:
#: buyer cancels, issuer declines, fraud and an exponential retry delay. Its seed, QUIET's 7, is
#: moved by SIMCORE_TEST_SEED like every seed of these tests.
TINY_CHANGES: dict[str, Any] = {
    "name": "tiny",
    "seed": seed(QUIET["seed"]),
    "horizon_days": 3,
    "buyers.cancel.change_of_mind": 0.2,
    "buyers.fraud_rate": 0.1,
    "buyers.retry_delay": {"dist": "exponential", "mean": 0.5, "unit": "hours"},
    "payment.issuer_decline_rate": 0.2,
}


def tiny_data(changes: dict[str, Any] | None = None) -> dict:
    """The tiny scenario as a plain dict, with dotted ``changes`` applied on top."""
    data = copy.deepcopy(QUIET)
    for dotted, value in {**TINY_CHANGES, **(changes or {})}.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def write_scenario(folder: Path, changes: dict[str, Any] | None = None, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(tiny_data(changes), sort_keys=False), encoding="utf-8")
    return path


BAD_TEXT = """\
name: bad
horizon_days: 30
buyers:
  fraud_rate: 1.5
  orders_per_hr: 2
platform:
  fraud:
    review_threshold: 0.9
    decline_threshold: 0.1
"""


@pytest.fixture
def bad_scenario(tmp_path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_TEXT, encoding="utf-8")
    return path


def expected_problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def run_quiet(scenario: Path, out: Path, *extra: str) -> int:
    return main(["run", str(scenario), "--out", str(out), "--quiet", *extra])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, Path]:
    """(scenario file, output folder) of one quiet run of the tiny scenario."""
    folder = tmp_path_factory.mktemp("tiny_run")
    scenario = write_scenario(folder)
    out = folder / "results" / "run1"  # the parent does not exist yet either
    assert run_quiet(scenario, out) == 0
    return scenario, out


# --------------------------------------------------------------------------- validate


def test_validate_ok(tmp_path, capsys):
    path = write_scenario(tmp_path)
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        f"{path}: ok (scenario 'tiny', 3 days, seed {seed(7)}; KPIs count orders placed on days [0, 3), "
        "cool-down 0 days)\n"
    )
    # The tiny scenario counts every order, settled or not: validate says what that censors.
    assert captured.err.startswith(f"warning: {path}: cooldown_days: 0 days is shorter than the ")


def test_validate_applies_set(tmp_path, capsys):
    path = write_scenario(tmp_path)
    assert main(["validate", str(path), "--set", "seed=42", "--set", "horizon_days=5"]) == 0
    assert "5 days, seed 42" in capsys.readouterr().out


def test_validate_bad_file_prints_every_problem(bad_scenario, capsys):
    problems = expected_problems(bad_scenario)
    assert len(problems) == 3
    assert main(["validate", str(bad_scenario)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    header = "error: invalid scenario (3 problems):"
    assert captured.err.splitlines() == [header] + [f"  {p}" for p in problems]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "buyers.fraud_rat=0.02"],
            "--set: buyers.fraud_rat: unknown key (did you mean 'fraud_rate'?)",
        ),
        (["--set", "novalue"], "--set 'novalue': expected dotted.key=value"),
        (["--set", "buyers.fraud_rate=[1"], "--set buyers.fraud_rate: value is not valid YAML (got '[1')"),
    ],
)
def test_validate_bad_set_exits_2(tmp_path, capsys, args, message):
    path = write_scenario(tmp_path)
    assert main(["validate", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["error: invalid scenario (1 problem):", f"  {message}"]


def test_validate_missing_file_exits_2(tmp_path, capsys):
    path = tmp_path / "nowhere.yaml"
    assert main(["validate", str(path)]) == 2
    assert f"{path}: file not found" in capsys.readouterr().err


def test_validate_impossible_date_is_bad_input(tmp_path, capsys):
    path = tmp_path / "date.yaml"
    path.write_text("start: 2026-02-30\n", encoding="utf-8")
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 2


def test_set_impossible_date_is_bad_input(tmp_path, capsys):
    path = write_scenario(tmp_path)
    code = main(["validate", str(path), "--set", "start=2026-02-30"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 2


# --------------------------------------------------------------------------- run: bad input writes nothing


def assert_nothing_written(folder: Path, out: Path, *keep: Path) -> None:
    """``out`` is absent and ``folder`` (its parent) holds only ``keep``: no temp folders left."""
    assert not out.exists()
    assert sorted(folder.iterdir()) == sorted(keep)


def test_run_bad_scenario_exits_2_and_writes_nothing(bad_scenario, capsys):
    out = bad_scenario.parent / "out"
    problems = expected_problems(bad_scenario)
    assert run_quiet(bad_scenario, out) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    for problem in problems:
        assert f"  {problem}\n" in captured.err
    assert "Traceback" not in captured.err
    assert_nothing_written(bad_scenario.parent, out, bad_scenario)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "buyers.fraud_rat=0.02"], "did you mean 'fraud_rate'?"),
        (
            ["--set", "buyers.fraud_rate=2"],
            "--set: buyers.fraud_rate: Input should be less than or equal to 1",
        ),
        (["--set", "novalue"], "expected dotted.key=value"),
        (["--seed", "-1"], "--seed: must be >= 0 (got -1)"),
    ],
)
def test_run_bad_option_exits_2_and_writes_nothing(tmp_path, capsys, extra, message):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    assert run_quiet(scenario, out, *extra) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert_nothing_written(tmp_path, out, scenario)


def test_run_missing_scenario_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_quiet(tmp_path / "nowhere.yaml", out) == 2
    assert "file not found" in capsys.readouterr().err
    assert_nothing_written(tmp_path, out)


def test_run_out_is_an_existing_file_exits_2(tmp_path, capsys):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "taken"
    out.write_text("keep me", encoding="utf-8")
    assert run_quiet(scenario, out) == 2
    err = capsys.readouterr().err
    assert f"--out: exists and is not a folder (got {str(out)!r})" in err
    assert out.read_text(encoding="utf-8") == "keep me"
    assert sorted(tmp_path.iterdir()) == sorted([scenario, out])


def test_run_out_below_a_file_exits_2(tmp_path, capsys):
    scenario = write_scenario(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    code = run_quiet(scenario, blocker / "out")
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == 2


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run", "x.yaml"],  # --out is required
        ["run", "x.yaml", "--out", "o", "--seed", "abc"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: simcore" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"simcore {__version__}\n"


def test_console_script_bad_input_exits_2_without_traceback(bad_scenario):
    script = shutil.which("simcore", path=str(Path(sys.executable).parent)) or shutil.which("simcore")
    command = [script] if script else [sys.executable, "-m", "simcore"]
    proc = subprocess.run(
        [*command, "validate", str(bad_scenario)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: invalid scenario (3 problems):\n")
    assert f"{bad_scenario.resolve()}:4: buyers.fraud_rate:" in proc.stderr


# --------------------------------------------------------------------------- run: outputs


def test_run_writes_the_run_files_and_no_temp_folders(tiny_run):
    _, out = tiny_run
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert [p.name for p in out.parent.iterdir()] == [out.name]


@pytest.mark.property
def test_kpis_json_has_the_documented_keys(tiny_run):
    _, out = tiny_run
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    for key in (
        "orders",
        "cancellation_rate",
        "fraud_caught_share",
        "false_decline_rate",
        "payment_failure_rate",
        "seller_revenue_lost",
        "gmv_completed",
        "inventory_record_accuracy",
    ):
        assert key in kpis, key
    assert kpis["orders"] > 0
    assert set(kpis["cancellation_rate_by_initiator"]) == {"buyer", "seller", "system"}
    assert set(kpis["cancellations_by_reason"]) == REASONS
    assert all(isinstance(n, int) for n in kpis["cancellations_by_reason"].values())
    assert {"mean", "p50", "p90", "max"} <= set(kpis["refund_delay_bdays"])
    for queue in ("gateway", "fraud_review"):
        assert set(kpis["queues"][queue]) >= QUEUE_KEYS, queue
    # The tiny scenario switches on buyer cancels: the counts must agree with the rate.
    assert kpis["cancellations_by_reason"]["change_of_mind"] > 0
    assert sum(kpis["cancellations_by_reason"].values()) == round(kpis["cancellation_rate"] * kpis["orders"])


@pytest.mark.property
def test_orders_parquet_has_the_documented_columns(tiny_run):
    _, out = tiny_run
    orders = pd.read_parquet(out / "orders.parquet")
    assert set(orders.columns) >= ORDER_COLUMNS, ORDER_COLUMNS - set(orders.columns)
    assert len(orders) > 0
    assert orders["order_id"].is_unique


@pytest.mark.property
def test_resolved_scenario_reloads_as_the_same_scenario(tiny_run):
    scenario, out = tiny_run
    text = (out / "scenario.yaml").read_text(encoding="utf-8")
    assert text.startswith("#")
    assert f"simcore {__version__}" in text.split("\n", 1)[0]
    assert load_scenario(out / "scenario.yaml") == load_scenario(scenario)


@pytest.mark.property
def test_rerunning_the_resolved_scenario_gives_identical_outputs(tiny_run, tmp_path):
    _, out = tiny_run
    again = tmp_path / "again"
    assert run_quiet(out / "scenario.yaml", again) == 0
    first = (out / "kpis.json").read_text(encoding="utf-8")
    assert (again / "kpis.json").read_text(encoding="utf-8") == first
    pd.testing.assert_frame_equal(
        pd.read_parquet(again / "orders.parquet"), pd.read_parquet(out / "orders.parquet")
    )


@pytest.mark.property
def test_seed_changes_results_and_is_written(tiny_run, tmp_path):
    scenario, out = tiny_run
    seeded = tmp_path / "seeded"
    other_seed = seed(11)  # the tiny scenario's own is seed(7)
    assert run_quiet(scenario, seeded, "--seed", str(other_seed)) == 0
    assert load_scenario(seeded / "scenario.yaml").seed == other_seed
    assert re.search(rf"^seed: {other_seed}$", (seeded / "scenario.yaml").read_text(encoding="utf-8"), re.M)
    base = pd.read_parquet(out / "orders.parquet")
    other = pd.read_parquet(seeded / "orders.parquet")
    assert not base[["placed_at", "amount"]].equals(other[["placed_at", "amount"]])
    assert json.loads((seeded / "kpis.json").read_text()) != json.loads((out / "kpis.json").read_text())


def test_set_is_applied_to_the_run_and_recorded(tmp_path):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    assert run_quiet(scenario, out, "--set", "buyers.fraud_rate=0.0", "--set", "name=overridden") == 0
    resolved = load_scenario(out / "scenario.yaml")
    assert (resolved.name, resolved.buyers.fraud_rate) == ("overridden", 0.0)
    orders = pd.read_parquet(out / "orders.parquet")
    assert not orders["is_fraud"].any()


def test_run_into_an_existing_folder_replaces_the_outputs(tmp_path):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "kpis.json").write_text("stale", encoding="utf-8")
    assert run_quiet(scenario, out) == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert json.loads((out / "kpis.json").read_text(encoding="utf-8"))["orders"] > 0


def test_run_prints_the_kpi_report_unless_quiet(tmp_path, capsys):
    scenario = write_scenario(tmp_path)
    assert main(["run", str(scenario), "--out", str(tmp_path / "loud"), "--seed", str(seed(3))]) == 0
    loud = capsys.readouterr().out
    kpis = json.loads((tmp_path / "loud" / "kpis.json").read_text(encoding="utf-8"))
    assert loud.startswith(
        f"scenario 'tiny', seed {seed(3)}; KPIs count orders placed on days [0, 3) "
        "(warm-up 0, cool-down 0 days)\n"
    )
    assert f"orders (after warm-up)   {kpis['orders']:,} " in loud
    assert f"cancellation rate        {100 * kpis['cancellation_rate']:.2f}%" in loud
    # Every reason is listed with its count.
    for reason, count in kpis["cancellations_by_reason"].items():
        assert re.search(rf"^  {reason}\s+\w+\s+{count:,}\s", loud, re.M), reason
    assert loud.rstrip().endswith(f"to {tmp_path / 'loud'}")
    assert run_quiet(scenario, tmp_path / "quiet") == 0
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------- schema


def test_schema_prints_the_json_schema(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    schema = json.loads(out)
    assert {"buyers", "sellers", "platform", "refunds"} <= set(schema["properties"])
    assert schema == Scenario.model_json_schema()
    # Byte for byte what is shipped beside the scenarios, so editors validate against the current schema.
    assert out == (SCENARIOS / "scenario.schema.json").read_text(encoding="utf-8")


def test_schema_out_writes_a_file(tmp_path, capsys):
    target = tmp_path / "schema.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text(encoding="utf-8")) == Scenario.model_json_schema()


def test_internal_error_prints_a_short_message_and_files_the_traceback(monkeypatch, capsys, tmp_path):
    import simcore.cli as cli

    def boom(args):
        raise RuntimeError("a bug deep inside")

    monkeypatch.setitem(cli.COMMANDS, "validate", boom)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    assert main(["validate", "whatever.yaml"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "simcore: internal error: RuntimeError: a bug deep inside"
    assert len(err) == 2 and "Traceback" not in "".join(err)
    (report,) = tmp_path.glob("simcore-crash-*.txt")
    assert str(report) in err[1]
    text = report.read_text()
    assert "command: simcore validate whatever.yaml" in text
    assert "Traceback (most recent call last)" in text and "in boom" in text


def test_a_reader_gone_from_standard_output_ends_the_command_quietly(monkeypatch, capsys):
    # `simcore schema | head -c 10`: head exits, and the next write to the pipe fails. That is no
    # internal error (no crash file, no traceback): exit 141, as a command SIGPIPE ends.
    import io
    import os

    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    stdout = io.TextIOWrapper(io.FileIO(write, "w"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["schema"]) == 141
    stdout.close()  # flushes into the null device the pipe was pointed at: no second error
    assert "internal error" not in capsys.readouterr().err


def test_a_broken_pipe_that_is_not_standard_output_stays_an_internal_error(monkeypatch, capsys, tmp_path):
    import simcore.cli as cli

    def lost(args):
        raise BrokenPipeError(32, "a cluster's connection broke")

    monkeypatch.setitem(cli.COMMANDS, "validate", lost)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    assert main(["validate", "whatever.yaml"]) == 1
    assert capsys.readouterr().err.startswith("simcore: internal error: BrokenPipeError")
