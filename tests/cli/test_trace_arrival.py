"""``simcore trace DIR N --arrival``: a visit's story, by its arrival id.

One quiet 3-day run with one unit of stock per listing, so that some visits find nothing in
stock: those are lost sales, and every later order's id falls behind its arrival id.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simcore.cli import main
from tests.conftest import QUIET, seed


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("trace_arrival")
    data = copy.deepcopy(QUIET)
    data |= {"name": "scarce", "seed": seed(QUIET["seed"]), "horizon_days": 3}
    data["sellers"] = {**data["sellers"], "initial_stock_mean": 1}
    scenario = folder / "scarce.yaml"
    scenario.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = folder / "run"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    return out


def trace(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["trace", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_placed_arrival_is_traced_as_its_order(run_dir, capsys):
    orders = pd.read_parquet(run_dir / "orders.parquet")
    lost = pd.read_parquet(run_dir / "lost_visits.parquet")
    # An order after the first lost sale: its order id is not its arrival id.
    row = orders[orders["arrival_id"] > lost["arrival_id"].min()].iloc[0]
    arrival, oid = int(row["arrival_id"]), int(row["order_id"])
    assert arrival != oid
    code, out, err = trace(capsys, str(run_dir), str(arrival), "--arrival")
    assert (code, err) == (0, "")
    first, rest = out.split("\n", 1)
    assert first == f"arrival {arrival}: placed as order {oid}"
    assert rest.startswith(f"order {oid}: ")
    # The rest is the order's own trace, as `simcore trace DIR ORDER_ID` prints it.
    assert trace(capsys, str(run_dir), str(oid)) == (0, rest, "")
    # Without --arrival the number is an order id, as before.
    code, out, _ = trace(capsys, str(run_dir), str(arrival))
    assert code == 0 and out.startswith(f"order {arrival}: ")


def test_a_lost_arrival_is_told_in_one_line(run_dir, capsys):
    lost = pd.read_parquet(run_dir / "lost_visits.parquet")
    assert (lost["outcome"] == "lost_sale").all() and len(lost)
    visit = lost.iloc[-1]
    code, out, err = trace(capsys, str(run_dir), str(visit["arrival_id"]), "--arrival")
    assert (code, err) == (0, "")
    when = pd.Timestamp(visit["arrived_at"]).floor("s")
    assert out == (
        f"arrival {visit['arrival_id']}: {when:%Y-%m-%d %H:%M:%S} (hour {visit['arrived_hour']:.2f}), "
        f"buyer {visit['buyer_id']}, lost sale: nothing in stock the buyer would take; no order\n"
    )


@pytest.mark.parametrize(
    ("arrival", "message"),
    [
        ("{n}", r"arrival {n}: no such arrival in {run}; ids run from 0 to {last}"),
        ("-1", r"arrival -1: no such arrival in {run}; ids run from 0 to {last}"),
        ("seven", "arrival id: must be a whole number (got 'seven')"),
        ("2.5", "arrival id: must be a whole number (got '2.5')"),
    ],
)
def test_a_bad_arrival_id_exits_2_with_a_message(run_dir, capsys, arrival, message):
    n = sum(len(pd.read_parquet(run_dir / f)) for f in ("orders.parquet", "lost_visits.parquet"))
    arrival = arrival.format(n=n)
    code, out, err = trace(capsys, str(run_dir), arrival, "--arrival")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: invalid input (1 problem):",
        "  " + message.format(n=n, run=run_dir, last=n - 1),
    ]


def test_a_run_written_before_arrival_ids_cannot_be_traced_by_arrival(run_dir, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / "lost_visits.parquet").unlink()
    code, out, err = trace(capsys, str(old), "0", "--arrival")
    assert (code, out) == (2, "")
    assert f"{old}: no lost_visits.parquet: it was written before arrival ids" in err
    assert "Traceback" not in err
    # Order ids still trace.
    assert trace(capsys, str(old), "0")[0] == 0
