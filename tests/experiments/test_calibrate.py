"""simcore calibrate: twin experiments with known truths (the issue's, a coverage study, a pair
of parameters that trade off), the outputs a researcher reads back, the same answer whatever the
workers or executor, and bad calibration files refused at their line.

The small twin: a scenario where every order pays once by card and the issuer declines with
probability ``payment.issuer_decline_rate``, so the expected payment failure rate is that rate
exactly. A second parameter, ``buyers.cancel.change_of_mind``, moves no payment: the data say
nothing about it, and its posterior must stay spread over its prior. Twins' targets are made by
the model (simcore.experiments.twin.twin_targets): one run on a seed the calibration does not
use, with the sd of more runs on that seed (8 for the issue's twin, 5 for the small ones)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import simcore
from simcore.cli import main
from simcore.cli.common import EXIT_INTERNAL
from simcore.errors import ScenarioError
from simcore.experiments.calibfile import Calibration, read_calibration
from simcore.experiments.calibrate import calibrate
from simcore.experiments.executors import InlineExecutor, make_executor
from simcore.experiments.twin import twin_targets
from tests.conftest import QUIET, in_workers, seed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SMALL_PARAMETERS = """\
  payment.issuer_decline_rate: {low: 0.01, high: 0.3}
  buyers.cancel.change_of_mind: {low: 0.001, high: 0.1, scale: log}
"""


def twin_files(
    folder: Path,
    cal_seed: int,
    method: str = "waves: 3, runs_per_wave: 32",
    parameters: str = SMALL_PARAMETERS,
    targets: str = "payment_failure_rate: {value: 0.08, sd: 0.004}",
    payment: dict | None = None,
) -> Path:
    """The small twin's base scenario and a calibration file of it in ``folder``."""
    base = copy.deepcopy(QUIET)
    base.update(horizon_days=3, warmup_days=0.5)
    base["buyers"]["orders_per_hour"] = 20.0
    base["sellers"]["count"] = 20
    base["payment"].update(payment or {})
    (folder / "twin.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    path = folder / "cal.yaml"
    path.write_text(
        f"""\
base: twin.yaml
seed: {cal_seed}
parameters:
{parameters}targets:
  {targets}
method: {{{method}, replications: 2, cutoff: 3}}
""",
        encoding="utf-8",
    )
    return path


def _small_twin(folder: Path, i: int, truth: float) -> dict:
    """One small twin at issuer decline rate ``truth`` (a worker's task): its posterior."""
    path = twin_files(folder, seed(7), method="waves: 2, runs_per_wave: 12")
    cal = read_calibration(path)
    truth_of = {"payment.issuer_decline_rate": truth, "buyers.cancel.change_of_mind": 0.01}
    targets = twin_targets(cal, truth_of, seed(2001 + i), folder / "truth", 5, InlineExecutor())
    return calibrate(cal.with_targets(targets), folder / "calibration").result


@pytest.fixture(scope="module")
def small_twins(tmp_path_factory) -> list[tuple[float, dict]]:
    """Ten small twins at truths drawn from the prior, each calibrated in a worker."""
    truths = np.random.default_rng(seed(20261207)).uniform(0.01, 0.3, 10)
    folders = [tmp_path_factory.mktemp(f"twin{i}") for i in range(len(truths))]
    results = in_workers(_small_twin, folders, range(len(truths)), [float(x) for x in truths])
    return list(zip(truths, results, strict=True))


def test_small_twins_cover_their_truths_as_a_90_percent_interval_should(small_twins):
    # The coverage study in small (benchmarks/calibration_twins.py --coverage 20 runs the full one
    # on the baseline: README). A calibrated 90% interval holds its truth in 9 of 10 twins on
    # average; fewer than 8 of 10 happens with probability 7% if the coverage is 90%, 1% at 95%.
    covered = []
    for truth, r in small_twins:
        rate = r["parameters"]["payment.issuer_decline_rate"]
        covered.append(rate["q05"] <= truth <= rate["q95"])
        # Far narrower than the prior (0.01-0.3): the target pins the rate to ~+-0.02.
        assert rate["q95"] - rate["q05"] < 0.08, (truth, rate)
        # The parameter the data do not touch keeps its prior's spread (log-uniform 0.001-0.1).
        other = r["parameters"]["buyers.cancel.change_of_mind"]
        assert other["q05"] < 0.004 and other["q95"] > 0.03, other
        assert r["status"] == "matched" and r["posterior"]["method"] == "emulator"
    assert sum(covered) >= 8, covered


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("twin")
    path = twin_files(folder, seed(7), method="waves: 2, runs_per_wave: 12")
    assert main(["calibrate", str(path), "--out", str(folder / "one"), "--jobs", "2", "--quiet"]) == 0
    return folder, path


def test_a_calibration_writes_what_a_researcher_reads_back(twin):
    folder, _ = twin
    import analysis

    res = analysis.load_calibration(folder / "one")
    r = res.result
    assert res.status == "matched"
    rate = r["parameters"]["payment.issuer_decline_rate"]
    assert rate["q05"] <= 0.08 <= rate["q95"] and rate["q95"] - rate["q05"] < 0.08, rate
    # The region not ruled out shrinks, and the predictive check covers the target.
    shares = r["nroy_share"]
    assert shares[0] < 0.5 and shares == sorted(shares, reverse=True)
    assert r["predictive"]["payment_failure_rate"]["covered"]
    assert r["runs"] == len(list((folder / "one" / "runs").iterdir()))
    assert r["posterior"]["method"] == "emulator" and r["effective_sample_size"] > 100
    # Every output a researcher reads back.
    assert res.posterior["weight"].sum() == pytest.approx(1.0)
    assert set(res.waves["wave"]) == {1, 2} and "implausibility" in res.waves
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


#: The issue's twin (examples/calibration/twin.yaml).
ISSUE_TRUTH = {"buyers.fraud_rate": 0.02, "payment.issuer_decline_rate": 0.04}


def test_the_issues_twin_holds_its_truth_in_intervals_narrower_than_half_the_prior(tmp_path):
    # Fraud rate 0.02 and issuer decline rate 0.04 on the baseline's 30-day window; targets the
    # model made on seed 1001 (the file's, checked here to 4 digits), the calibration on seed 7
    # with 2 waves of 20 (the README's runs 3 of 40: benchmarks/calibration_twins.py).
    cal = read_calibration(EXAMPLES / "calibration" / "twin.yaml")
    with make_executor("process", 2) as executor:
        made = twin_targets(cal, ISSUE_TRUTH, 1001, tmp_path / "truth", 8, executor)
        for name, target in made.items():
            shipped = cal.spec.targets[name]
            assert f"{target.value:.4g}|{target.sd:.4g}" == f"{shipped.value:.4g}|{shipped.sd:.4g}", name
        quick = cal.spec.method.model_copy(update={"waves": 2, "runs_per_wave": 20})
        spec = cal.spec.model_copy(update={"method": quick, "seed": seed(7)})
        r = calibrate(Calibration(cal.path, spec, cal.base), tmp_path / "cal", executor).result
    for key, truth in ISSUE_TRUTH.items():
        p, prior = r["parameters"][key], cal.spec.parameters[key]
        assert p["q05"] <= truth <= p["q95"], (key, p)
        assert p["q95"] - p["q05"] < (prior.high - prior.low) / 2, (key, p)


def test_parameters_that_trade_off_get_a_wide_joint_posterior_with_its_correlation(tmp_path, capsys):
    # One retry, declined again independently: the failure rate is d (1 - r (1 - d)), so a
    # higher decline rate d with more retries r gives the same failures. The one target pins a
    # curve, not a point: both marginals stay wide, and the correlation says how they trade.
    path = twin_files(
        tmp_path,
        seed(5),
        method="waves: 2, runs_per_wave: 24",
        parameters="  payment.issuer_decline_rate: {low: 0.02, high: 0.3}\n"
        "  buyers.retry_probability: {low: 0.0, high: 0.9}\n",
        targets="payment_failure_rate: {value: 0.067, sd: 0.004}",  # d 0.12, r 0.5
        payment={"max_retries": 1, "decline_persistence": 0.0},
    )
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--jobs", "2", "--quiet"]) == 0
    r = json.loads((tmp_path / "out" / "result.json").read_text())
    d, retry = r["parameters"]["payment.issuer_decline_rate"], r["parameters"]["buyers.retry_probability"]
    assert d["q05"] <= 0.12 <= d["q95"] and retry["q05"] <= 0.5 <= retry["q95"], (d, retry)
    # Along the curve d runs from 0.067 (no retries) to 0.22 (r = 0.9): wide, not a point.
    assert d["q95"] - d["q05"] > 0.08 and retry["q95"] - retry["q05"] > 0.5, (d, retry)
    rho = r["correlation"]["payment.issuer_decline_rate"]["buyers.retry_probability"]
    assert rho > 0.7
    said = (
        f"payment.issuer_decline_rate and buyers.retry_probability trade off: posterior correlation {rho:.2f}"
    )
    assert said in capsys.readouterr().out


def test_the_same_answer_with_one_or_two_workers_and_with_dask(tmp_path):
    path = twin_files(tmp_path, seed(8), method="waves: 2, runs_per_wave: 8")
    runs = {"one": ["--jobs", "1"], "two": ["--jobs", "2"]}
    try:
        import distributed  # noqa: F401

        runs["dask"] = ["--jobs", "2", "--executor", "dask"]
    except ImportError:
        pass
    for name, how in runs.items():
        assert main(["calibrate", str(path), "--out", str(tmp_path / name), *how, "--quiet"]) == 0
    first, *others = [tmp_path / name for name in runs]
    a = json.loads((first / "result.json").read_text())
    for out in others:
        assert json.loads((out / "result.json").read_text()) == a, out.name
        pd.testing.assert_frame_equal(
            pd.read_parquet(first / "posterior.parquet"), pd.read_parquet(out / "posterior.parquet")
        )
    assert main(["report", str(first), "--out", str(tmp_path / "cal.html")]) == 0
    assert "Predictive check" in (tmp_path / "cal.html").read_text()


def test_a_run_that_fails_stops_the_calibration_with_its_traceback_filed(tmp_path, monkeypatch, capsys):
    import simcore.experiments.arms as arms

    def failing(scenario, seed, reps):
        return [{"replication": r, "error": "ValueError: boom", "trace": "Traceback: boom"} for r in reps]

    monkeypatch.setattr(arms, "run_chunk", failing)
    path = twin_files(tmp_path, 1, method="waves: 1, runs_per_wave: 4")
    assert (
        main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--jobs", "1", "--quiet"])
        == EXIT_INTERNAL
    )
    err = capsys.readouterr().err
    assert "a run failed" in err and "rerun the same command to resume" in err and "Traceback" not in err
    assert len(list((tmp_path / "out" / "failures").iterdir())) == 1


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
        (("seed:", "sede:"), "sede"),
        (("cutoff: 3}", "cutof: 3}"), "cutof"),
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


def test_a_discrepancy_must_name_an_observed_target(tmp_path, capsys):
    text = (EXAMPLES / "calibration" / "observed.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "discrepancy: {cancellation_rate_by_reason.out_of_stock", "discrepancy: {dispute_rate"
    )
    (tmp_path / "observed.yaml").write_text(
        text.replace("../../scenarios", str(EXAMPLES.parent / "scenarios"))
    )
    assert main(["calibrate", str(tmp_path / "observed.yaml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "dispute_rate, which are not targets" in err and "observed.yaml:" in err
    assert not (tmp_path / "out").exists()


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
