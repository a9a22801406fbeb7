"""simcore: a discrete-event simulator of order cancellations on an AliExpress-like marketplace.

Quick use::

    import simcore
    scn = simcore.load_scenario("scenarios/baseline.yaml", overrides={"buyers.fraud_rate": 0.02})
    result = simcore.run(scn)
    result.kpis["cancellation_rate"]
"""

from simcore.collect import RunResult
from simcore.errors import ScenarioError
from simcore.loader import load_scenario, parse_overrides, scenario_from_dict
from simcore.runner import run, write_outputs
from simcore.schema import Scenario
from simcore.version import __version__

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
