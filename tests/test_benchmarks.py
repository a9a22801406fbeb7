"""The benchmarks' own inputs stay valid as the scenarios change (the benchmarks are not run
by the tests: speed and memory are measured, not asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import simcore

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", _module("fingerprint").CASES, ids=lambda case: case[0])
def test_every_fingerprint_case_is_a_valid_scenario(case):
    # A case the loader refuses makes `fingerprint.py --write` fail (a 90-day case did once the
    # baseline's cool-down was derived: 96 days).
    _, file, overrides, seed, _ = case
    scn = simcore.load_scenario(BENCHMARKS.parent / "scenarios" / file, overrides)
    assert seed is None or isinstance(seed, int)
    assert scn.kpi_window_hours[1] > scn.kpi_window_hours[0]


def test_bench_cache_reads_cachegrinds_summary_and_costs_an_order():
    bench = _module("bench_cache")
    summary = """==1== Command: python x.py
==1== I   refs:      16,412,515,020
==1== I1  misses:       266,311,868
==1== LLi misses:            95,792
==1== I1  miss rate:           1.62%
==1== D   refs:       7,655,373,696  (5,269,104,286 rd   + 2,386,269,410 wr)
==1== D1  misses:       237,441,120  (  208,351,771 rd   +    29,089,349 wr)
==1== LL refs:          503,752,988  (  474,663,639 rd   +    29,089,349 wr)
==1== LL misses:          2,175,588  (      494,871 rd   +     1,680,717 wr)
"""
    full = bench.parse_summary(summary) | {"orders": 1000}
    assert full["instructions"] == 16_412_515_020 and full["I1 misses"] == 266_311_868
    assert full["data refs"] == 7_655_373_696 and full["LL misses"] == 2_175_588
    build = {name: value // 4 for name, value in full.items()}
    cost = bench.per_order(build, full)
    assert cost["D1 misses"] == (237_441_120 - 237_441_120 // 4) / 1000
    # Without the cache simulation cachegrind prints no misses: refused, not read as zero.
    with pytest.raises(ValueError, match="I1 misses"):
        bench.parse_summary("==1== I   refs:      16,412,515,020\n")


def test_bench_cache_scenario_loads():
    scn = simcore.load_scenario(
        BENCHMARKS.parent / "scenarios" / "baseline.yaml", _module("bench_cache").scenario_overrides(40, 3.7)
    )
    assert scn.horizon_days == 40 and scn.scale == 3.7


def test_bench_cache_simulates_this_machines_cache_as_linux_describes_it(tmp_path):
    bench = _module("bench_cache")

    def index(i: int, level: int, kind: str, size: str, ways: int) -> None:
        d = tmp_path / f"index{i}"
        d.mkdir()
        for name, value in [
            ("level", level),
            ("type", kind),
            ("size", size),
            ("ways_of_associativity", ways),
            ("coherency_line_size", 64),
        ]:
            (d / name).write_text(f"{value}\n")

    index(0, 1, "Data", "48K", 12)
    index(2, 2, "Unified", "1024K", 16)
    index(3, 3, "Unified", "32M", 16)
    assert bench.cache_flag(3, tmp_path) == f"--LL={32 * 2**20},16,64"
    assert bench.cache_flag(2, tmp_path) == f"--LL={2**20},16,64"
    assert bench.cache_flag(3, tmp_path / "missing") is None  # no description: cachegrind's guess
