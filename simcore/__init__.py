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

from simcore.errors import ScenarioError
from simcore.scenario.loader import load_scenario, parse_overrides, scenario_from_dict
from simcore.scenario.schema import Scenario
from simcore.version import __version__

if TYPE_CHECKING:
    from simcore.results.collect import RunResult
    from simcore.experiments.runner import run, write_outputs

_LAZY = {"run": "simcore.experiments.runner", "write_outputs": "simcore.experiments.runner", "RunResult": "simcore.results.collect"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simcore' has no attribute {name!r}")


__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "parse_overrides",
    "run",
    "scenario_from_dict",
    "write_outputs",
]
