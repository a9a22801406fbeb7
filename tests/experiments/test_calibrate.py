"""simcore calibrate: a twin experiment with a known truth, the outputs a researcher reads back,
the same answer whatever the workers, and bad calibration files refused at their line.

The twin: a scenario where every order pays once by card and the issuer declines with
probability ``payment.issuer_decline_rate``, so the expected payment failure rate is that rate
exactly. The target is its value at the truth, 0.08, with sd 0.004. A second parameter,
``buyers.cancel.change_of_mind``, moves no payment: the data say nothing about it, and its
posterior must stay spread over its prior."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import simcore
from simcore.cli import main
from simcore.errors import ScenarioError
from simcore.experiments.calibfile import read_calibration
from tests.conftest import QUIET, seed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TRUTH = 0.08


def twin_files(folder: Path, cal_seed: int, method: str = "waves: 3, runs_per_wave: 32") -> Path:
    base = copy.deepcopy(QUIET)
    base.update(horizon_days=3, warmup_days=0.5)
    base["buyers"]["orders_per_hour"] = 20.0
    base["sellers"]["count"] = 20
    (folder / "twin.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    path = folder / "cal.yaml"
    path.write_text(
        f"""\
base: twin.yaml
seed: {cal_seed}
parameters:
  payment.issuer_decline_rate: {{low: 0.01, high: 0.3}}
  buyers.cancel.change_of_mind: {{low: 0.001, high: 0.1, scale: log}}
targets:
  payment_failure_rate: {{value: {TRUTH}, sd: 0.004}}
method: {{{method}, replications: 2, cutoff: 3}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("twin")
    path = twin_files(folder, seed(7))
    assert main(["calibrate", str(path), "--out", str(folder / "one"), "--jobs", "2", "--quiet"]) == 0
    return folder, path


def test_the_twin_recovers_the_truth_and_learns_nothing_it_cannot(twin):
    folder, _ = twin
    import analysis

    res = analysis.load_calibration(folder / "one")
    r = res.result
    assert res.status == "matched"
    rate = r["parameters"]["payment.issuer_decline_rate"]
    # The posterior's 90% interval holds the truth (its half-width ~0.015, around a centre off by
    # the two replications' common noise, sd ~0.006: covered ~98% of the time) and is far
    # narrower than the prior (0.01-0.3).
    assert rate["q05"] <= TRUTH <= rate["q95"], rate
    assert rate["q95"] - rate["q05"] < 0.05
    # The parameter the data do not touch keeps its prior's spread (log-uniform 0.001-0.1).
    other = r["parameters"]["buyers.cancel.change_of_mind"]
    assert other["q05"] < 0.004 and other["q95"] > 0.03, other
    # The region not ruled out shrinks, and the predictive check covers the target.
    shares = r["nroy_share"]
    assert shares[0] < 0.5 and shares == sorted(shares, reverse=True)
    assert r["predictive"]["payment_failure_rate"]["covered"]
    assert r["runs"] == len(list((folder / "one" / "runs").iterdir()))
    # Every output a researcher reads back.
    assert res.posterior["weight"].sum() == pytest.approx(1.0)
    assert set(res.waves["wave"]) == {1, 2, 3} and "implausibility" in res.waves
    assert len(res.draws(50)) == 50


def test_calibrated_yaml_validates_and_runs(twin):
    folder, _ = twin
    text = (folder / "one" / "calibrated.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Calibrated by simcore calibrate")
    scn = simcore.load_scenario(folder / "one" / "calibrated.yaml", {"horizon_days": 1})
    median = json.loads((folder / "one" / "result.json").read_text())["parameters"]
    assert scn.payment.issuer_decline_rate == pytest.approx(
        median["payment.issuer_decline_rate"]["q50"], rel=1e-5
    )
    assert simcore.run(scn).kpis["orders"] > 0


def test_the_same_answer_with_two_workers_and_a_report(tmp_path):
    path = twin_files(tmp_path, seed(8), method="waves: 2, runs_per_wave: 8")
    outs = [tmp_path / "one", tmp_path / "two"]
    for jobs, out in zip(("1", "2"), outs, strict=True):
        assert main(["calibrate", str(path), "--out", str(out), "--jobs", jobs, "--quiet"]) == 0
    a, b = (json.loads((out / "result.json").read_text()) for out in outs)
    assert a == b
    pd.testing.assert_frame_equal(*(pd.read_parquet(out / "posterior.parquet") for out in outs))
    assert main(["report", str(outs[0]), "--out", str(tmp_path / "cal.html")]) == 0
    assert "Predictive check" in (tmp_path / "cal.html").read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("payment_failure_rate: {", "payment_failure: {"), "no such KPI"),
        (("payment.issuer_decline_rate: {low", "payment.issuer_declines: {low"), "payment.issuer_declines"),
        (("{low: 0.01, high: 0.3}", "{low: 0.3, high: 0.01}"), "high must be > low"),
        (
            ("{low: 0.001, high: 0.1, scale: log}", "{low: 0, high: 0.1, scale: log}"),
            "a log scale needs low > 0",
        ),
        (("sd: 0.004", "sd: 0"), "greater than 0"),
        (("{low: 0.01, high: 0.3}", "{low: 0.01, high: 1.5}"), "payment.issuer_decline_rate"),
    ],
)
def test_a_bad_calibration_file_is_refused_at_its_line(tmp_path, capsys, change, message):
    path = twin_files(tmp_path, 1)
    path.write_text(path.read_text().replace(*change))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and f"{path}:" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScenarioError):
        read_calibration(path)


def test_an_observed_orders_table_gives_the_runs_own_kpis(baseline_result):
    # The KPIs of a run's own orders table, as observed data, are the run's KPIs: the same code.
    from simcore.results.kpis import flatten_kpis
    from simcore.results.observed import observed_kpis

    res = baseline_result
    lo, hi = res.scenario.kpi_window_hours
    start = res.scenario.start
    window = (start + dt.timedelta(hours=lo), start + dt.timedelta(hours=hi))
    names = [
        "orders",
        "cancellation_rate",
        "completed_rate",
        "payment_failure_rate",
        "cancellation_rate_by_reason.out_of_stock",
        "cancellation_rate_by_initiator.seller",
        "dispute_rate",
    ]
    columns = ["placed_at", "status", "cancel_reason", "cancel_initiator", "dispute_reason"]
    got = observed_kpis(res.orders[columns], window, names)
    want = flatten_kpis(res.kpis)
    assert got == pytest.approx({n: want[n] for n in names}, rel=1e-12)
    with pytest.raises(ValueError, match="needs the column"):
        observed_kpis(res.orders[["placed_at", "status"]], window, ["payment_failure_rate"])
    with pytest.raises(ValueError, match="not computable from an orders table"):
        observed_kpis(res.orders[columns], window, ["queues.gateway.utilization"])


def test_the_shipped_observed_table_calibration_file_reads_its_targets():
    cal = read_calibration(EXAMPLES / "calibration" / "observed.yaml")
    targets = cal.spec.targets
    assert set(targets) == set(cal.spec.targets_from.kpis)
    for t in targets.values():
        assert 0.0 < t.sd < max(abs(t.value), 1e-3)  # a bootstrap sd well under the value
    published = read_calibration(EXAMPLES / "calibration" / "published.yaml")
    assert "cancellation_rate_by_reason.out_of_stock" in published.spec.targets


def test_observed_targets_need_the_runs_kpi_window_to_be_the_tables(tmp_path):
    text = (EXAMPLES / "calibration" / "observed.yaml").read_text(encoding="utf-8")
    text = text.replace("horizon_days: 70", "horizon_days: 120").replace(
        "../../scenarios", str(EXAMPLES.parent / "scenarios")
    )
    (tmp_path / "observed.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "observed_orders.csv.gz").write_bytes(
        (EXAMPLES / "calibration" / "observed_orders.csv.gz").read_bytes()
    )
    with pytest.raises(ScenarioError, match="is not the runs' KPI window 2026-01-15 to 2026-04-05"):
        read_calibration(tmp_path / "observed.yaml")
