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
