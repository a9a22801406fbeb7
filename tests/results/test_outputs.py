"""Output files are written whole or not at all (tier 2: what a failure leaves behind)."""

from __future__ import annotations

import pytest

import simcore
import simcore.results.outputs as outputs
from tests.conftest import quiet

pytestmark = pytest.mark.property

FILES = [
    "events.parquet",
    "kpis.json",
    "lost_visits.parquet",
    "orders.parquet",
    "scenario.yaml",
    "sellers.parquet",
    "timeseries.parquet",
]


@pytest.fixture(scope="module")
def result() -> simcore.RunResult:
    return simcore.run(quiet({"horizon_days": 3}))


def test_a_new_folder_appears_whole(result, tmp_path):
    written = simcore.write_outputs(result, tmp_path / "a" / "run")
    assert sorted(p.name for p in written) == FILES
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["run"]  # no temporary left


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError])
def test_an_interrupted_write_leaves_no_folder(result, tmp_path, monkeypatch, stop):
    # The moment of the move: an interrupt or a failure there must not leave some files in.
    def rename(*_):
        raise stop("stopped at the move")

    monkeypatch.setattr(outputs.os, "rename", rename)
    monkeypatch.setattr(outputs.os, "replace", rename)
    with pytest.raises(stop):
        simcore.write_outputs(result, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_writer_that_fails_leaves_an_existing_folder_as_it_was(result, tmp_path):
    out = tmp_path / "run"
    simcore.write_outputs(result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(path):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        simcore.write_outputs(result, out, extra={"summary.png": broken})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
