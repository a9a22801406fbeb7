"""Every file simcore writes gets the mode the user's umask gives (a shared group folder stays
readable by the group), including those written through a temporary file and renamed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from simcore.cli import main
from simcore.paths import create_unique, write_atomic
from tests.conftest import QUIET, SCENARIOS, seed

#: Not the common 022, so a hard-coded 0o644 (or mkstemp's 0o600) shows as a wrong mode.
UMASK = 0o027
FILE_MODE = 0o666 & ~UMASK  # 0o640
DIR_MODE = 0o777 & ~UMASK  # 0o750


@pytest.fixture
def umask():
    old = os.umask(UMASK)
    try:
        yield
    finally:
        os.umask(old)


def modes(folder: Path) -> dict[str, int]:
    """Permission bits of everything under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in sorted(folder.rglob("*"))}


def expected(found: dict[str, int], folder: Path) -> dict[str, int]:
    return {name: DIR_MODE if (folder / name).is_dir() else FILE_MODE for name in found}


def test_write_atomic_and_unique_files_follow_the_umask(umask, tmp_path):
    path = write_atomic(tmp_path / "a.txt", b"x")
    fd, other = create_unique(tmp_path, "crash-", ".txt")
    os.close(fd)
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    assert stat.S_IMODE(other.stat().st_mode) == FILE_MODE
    assert other.name.startswith("crash-") and other.name.endswith(".txt")


@pytest.mark.slow
def test_run_plot_and_report_files_follow_the_umask(umask, tmp_path):
    scenario = tmp_path / "quiet.yaml"
    scenario.write_text(yaml.safe_dump({**QUIET, "horizon_days": 3, "seed": seed(7)}), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--plot", "--quiet"]) == 0
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    found = modes(tmp_path)
    assert {"out/kpis.json", "out/orders.parquet", "report.html"} <= found.keys()
    assert any(name.endswith(".png") for name in found)
    assert found == expected(found, tmp_path)


@pytest.mark.slow
def test_sweep_store_files_follow_the_umask(umask, tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"base: {(SCENARIOS / 'baseline.yaml').as_posix()}\n"
        f"replications: 1\nseed: {seed(5)}\n"
        "set: {horizon_days: 4, warmup_days: 1, cooldown_days: 1, buyers.orders_per_hour: 2}\n"
        "grid:\n  sellers.inventory_accuracy: [0.5]\n",
        encoding="utf-8",
    )
    store = tmp_path / "store"
    assert main(["sweep", str(sweep), "--out", str(store), "--jobs", "1", "--quiet"]) == 0
    found = modes(store)
    assert ".lock" in found and any(name.endswith(".parquet") for name in found)
    assert found == expected(found, store)
