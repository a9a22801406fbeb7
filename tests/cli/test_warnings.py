"""What ``simcore validate`` and ``simcore run`` warn about before (and after) a run that would
measure badly: a queue at or over capacity at the mean arrival rate. Warnings go to stderr and
the command still succeeds (exit 0)."""

from __future__ import annotations

from simcore.cli import main
from tests.cli.test_cli import run_quiet, write_scenario
from tests.conftest import SCENARIOS, const

BASELINE = str(SCENARIOS / "baseline.yaml")


def test_the_baseline_validates_without_a_warning(capsys):
    assert main(["validate", BASELINE]) == 0
    assert capsys.readouterr().err == ""


def test_demand_alone_x10_warns_of_the_analyst_queue_naming_the_key(capsys):
    assert main(["validate", BASELINE, "--set", "buyers.orders_per_hour=125"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {BASELINE}: platform.fraud.analysts: queue 'fraud_review'")
    assert "utilisation 2.77" in err and "grows without bound" in err
    assert "gateway" not in err  # 0.54: under capacity


def test_the_market_scaled_whole_does_not_warn(capsys):
    assert main(["validate", BASELINE, "--set", "scale=10"]) == 0
    assert capsys.readouterr().err == ""


def test_run_warns_before_and_after_an_overloaded_gateway(tmp_path, capsys):
    # 0.5 orders an hour at a gateway that takes 3 h each: utilisation 1.5 predicted; measured,
    # the one server is never idle once the first order comes.
    path = write_scenario(tmp_path, {"payment": {"gateway": {"servers": 1, "service_time": const(3.0)}}})
    assert run_quiet(path, tmp_path / "out") == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("warning:") and "gateway" in line]
    assert len(lines) == 2, err
    assert "payment.gateway.servers: queue 'gateway' is predicted at utilisation 1.5 " in lines[0]
    assert "queue 'gateway' was busy" in lines[1] and "grew through the run" in lines[1]
