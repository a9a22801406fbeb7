"""simcore: a discrete-event simulator of order cancellations on an AliExpress-like marketplace.

Quick use::

    import simcore
    scn = simcore.load_scenario("scenarios/baseline.yaml", overrides={"buyers.fraud_rate": 0.02})
    result = simcore.run(scn)
    result.kpis["cancellation_rate"]

The model-running names (``run``, ``write_outputs``, ``RunResult``) load on first use, so
that ``simcore.model.vocabulary`` (the vocabulary) and the scenario schema can be imported, e.g. by
``analysis``, without importing SimPy.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from simcore.engine.tuning import hold_mmap_threshold
from simcore.errors import ArgumentError, InputError, ScenarioError, StoreError
from simcore.scenario.loader import load_scenario, parse_overrides, scenario_from_dict
from simcore.scenario.schema import Scenario
from simcore.version import __version__

if TYPE_CHECKING:
    from simcore.experiments.runner import run
    from simcore.experiments.sweep import run_sweep, run_until
    from simcore.experiments.sweepfile import read_sweep
    from simcore.results.collect import RunResult
    from simcore.results.ledger import money_ledger
    from simcore.results.outputs import write_outputs

_LAZY = {
    "run": "simcore.experiments.runner",
    "write_outputs": "simcore.results.outputs",
    "RunResult": "simcore.results.collect",
    "money_ledger": "simcore.results.ledger",
    "read_sweep": "simcore.experiments.sweepfile",
    "run_sweep": "simcore.experiments.sweep",
    "run_until": "simcore.experiments.sweep",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simcore' has no attribute {name!r}")


__all__ = [
    "ArgumentError",
    "InputError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StoreError",
    "__version__",
    "hold_mmap_threshold",
    "load_scenario",
    "money_ledger",
    "parse_overrides",
    "read_sweep",
    "run",
    "run_sweep",
    "run_until",
    "scenario_from_dict",
    "write_outputs",
]
