"""simcore optimize: known answers from queueing theory (an M/M/c payment gateway, Erlang C),
the winner's curse kept out, the KPI objective's selection, resuming, the same answer whatever
the workers, and bad optimisation files refused like bad sweep files.

The M/M/c scenario: one order an arrival (20 an hour, flat), no retries, no verification, the
gateway's service exponential with a 6-minute mean: the gateway is an M/M/c queue with offered
load a = 2 erlangs, whose mean wait in queue is Erlang C's C(c, a) / (c mu - lambda): 0.0444 h
with 3 servers, 0.0087 h with 4 (measured over 5 replications of 3 days: 0.050 and 0.0092)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from simcore.cli import main
from simcore.errors import ScenarioError
from simcore.experiments.executors import make_executor
from simcore.experiments.optfile import read_optimization
from simcore.experiments.optimize import NOT_SEPARABLE, OPTIMAL, _optimize, optimize
from tests.conftest import QUIET, seed

SERVICE_MIN, RATE = 6.0, 20.0
SECOND = "platform.fraud.analyst_cost_per_hour"  # costs money, moves no gateway wait


def erlang_c_wait(c: int, lam: float = RATE, mu: float = 60.0 / SERVICE_MIN) -> float:
    """Mean wait in queue (hours) of an M/M/c queue."""
    a = lam / mu
    if c <= a:
        return math.inf
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top) / (c * mu - lam)


def mmc_base(folder: Path, days: float = 2.0) -> Path:
    base = copy.deepcopy(QUIET)
    base.update(horizon_days=days, warmup_days=0.25)
    base["buyers"]["orders_per_hour"] = RATE
    base["payment"]["gateway"] = {
        "servers": 3,
        "service_time": {"dist": "exponential", "mean": SERVICE_MIN, "unit": "minutes"},
    }
    base["sellers"]["count"] = 20
    path = folder / "mmc.yaml"
    path.write_text(yaml.safe_dump(base), encoding="utf-8")
    return path


def opt_file(folder: Path, bound: float, opt_seed: int, extra: str = "", top: int = 5, **selection) -> Path:
    mmc_base(folder)
    sel = {
        "confidence": 0.95,
        "indifference": {"queues.gateway.mean_wait_hours": 0.1 * bound},
        "replications": {"first": 8, "max": 40},
        **selection,
    }
    text = f"""\
base: mmc.yaml
seed: {opt_seed}
levers:
  payment.gateway.servers: {{low: 3, high: {top}, integer: true, cost_per_unit: 10}}
  {SECOND}: {{values: [20, 30], cost: {{20: 2, 30: 0}}}}
constraints:
  queues.gateway.mean_wait_hours: {{max: {bound}}}
search: {{method: grid, budget: 20, replications: 1}}
selection: {json.dumps(sel)}
{extra}"""
    path = folder / "opt.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pool():
    """Two worker processes for the statistical tests' many small optimisations (the answer is
    the same whatever the executor: tested below)."""
    with make_executor("process", 2) as executor:
        yield executor


def test_erlang_c_puts_the_answer_at_four_servers():
    bound = 0.02
    assert erlang_c_wait(3) > 1.2 * bound > bound > erlang_c_wait(4)  # 3 misses by 122%


@pytest.mark.statistical
def test_the_fewest_servers_meeting_the_wait_and_the_cheapest_second_lever(tmp_path, pool):
    # 40 seeds; the answer (4 servers, the second lever at its free value 30) in at least 95%.
    right, answers = 0, []
    for i in range(40):
        folder = tmp_path / f"s{i}"
        folder.mkdir()
        out = optimize(read_optimization(opt_file(folder, 0.02, seed(100 + i))), folder / "store", pool)
        got = out.best["levers"] if out.best else out.status
        answers.append(got)
        right += got == {"payment.gateway.servers": 4, SECOND: 30}
    assert right >= 38, answers


@pytest.mark.statistical
def test_near_the_boundary_it_answers_right_or_not_separable_never_the_infeasible(tmp_path, pool):
    # The bound 0.043 h: 3 servers miss it by 3% (0.0444), outside the tolerance (0.0002); at
    # most 20 clean-up replications cannot settle 3 servers either way: the answer is 4 servers,
    # or not_separable with 3 and 4 tied, never 3.
    for i in range(4):
        folder = tmp_path / f"s{i}"
        folder.mkdir()
        opt = read_optimization(
            opt_file(
                folder,
                0.043,
                seed(300 + i),
                indifference={"queues.gateway.mean_wait_hours": 0.0002},
                replications={"first": 8, "max": 20},
            )
        )
        out = optimize(opt, folder / "store", pool)
        assert out.status in (OPTIMAL, NOT_SEPARABLE)
        if out.status == OPTIMAL:
            assert out.best["levers"]["payment.gateway.servers"] == 4
        else:
            assert {t["levers"]["payment.gateway.servers"] for t in out.tied} >= {3}


class StandIn:
    """A stand-in for the simulator: each replication's mean wait is Erlang C's times a
    lognormal factor (CV ~40%, a 2-day run's), shared by every candidate in a replication when
    ``crn`` (common random numbers). It serves the optimiser as its runs do (``ensure`` and
    ``values``), in microseconds."""

    def __init__(self, rng_seed: int, crn: bool = True, cv: float = 0.4):
        self.rng_seed, self.crn, self.sd = rng_seed, crn, math.sqrt(math.log(1 + cv**2))
        self.cache: dict = {}
        self.done = self.reused = 0

    def _factor(self, c, r: int) -> float:
        key = (self.rng_seed, r) if self.crn else (self.rng_seed, r, c.levers["payment.gateway.servers"])
        z = np.random.default_rng(abs(hash(key)) % 2**32).standard_normal()
        return math.exp(self.sd * z - self.sd**2 / 2)

    def ensure(self, cands, reps) -> None:
        for c in cands:
            for r in reps:
                if (c.hash, r) not in self.cache:
                    wait = erlang_c_wait(c.levers["payment.gateway.servers"])
                    self.cache[c.hash, r] = {"queues.gateway.mean_wait_hours": wait * self._factor(c, r)}
                    self.done += 1

    def values(self, c, reps, names):
        self.ensure([c], reps)
        return np.array([[self.cache[c.hash, r][n] for n in names] for r in reps])


@pytest.mark.statistical
def test_one_search_replication_does_not_pick_an_infeasible_mix(tmp_path):
    # The winner's curse: with one replication per candidate, 3 servers' search mean falls under
    # the bound in a fair share of seeds (the bound 0.035 h is 21% under its true 0.0444 h);
    # the clean-up on fresh replications must not choose it. 100 seeds, at most 5 infeasible
    # (measured at writing: fooled searches in 34 seeds, infeasible answers 0, not_separable 26).
    opt = read_optimization(
        opt_file(tmp_path, 0.035, 1, indifference={"queues.gateway.mean_wait_hours": 0.003})
    )
    infeasible = lucky = 0
    for i in range(100):
        runs = StandIn(rng_seed=i)
        out = _optimize(opt, runs)
        three = [r for r in out.candidates if r["levers"]["payment.gateway.servers"] == 3]
        lucky += any(r["search_mean"]["queues.gateway.mean_wait_hours"] <= 0.035 for r in three)
        if out.best is not None:
            infeasible += erlang_c_wait(out.best["levers"]["payment.gateway.servers"]) > 0.035
    assert lucky >= 20  # the search alone would often have been fooled
    assert infeasible <= 5


def test_a_kpi_objective_is_chosen_by_kim_and_nelson(tmp_path):
    # Minimise the wait, no constraint: 6 servers (the least wait) whatever the cost.
    mmc_base(tmp_path)
    path = tmp_path / "opt.yaml"
    path.write_text(
        f"""\
base: mmc.yaml
seed: 3
levers:
  payment.gateway.servers: {{low: 3, high: 6, integer: true, cost_per_unit: 10}}
  {SECOND}: {{values: [20, 30], cost: {{20: 2, 30: 0}}}}
objective: {{minimize: queues.gateway.mean_wait_hours}}
search: {{method: grid, budget: 20, replications: 1}}
selection: {{indifference: {{queues.gateway.mean_wait_hours: 0.0003}}, replications: {{first: 8, max: 200}}}}
""",
        encoding="utf-8",
    )
    out = _optimize(read_optimization(path), StandIn(rng_seed=5))
    assert out.status in (OPTIMAL, NOT_SEPARABLE)
    if out.status == OPTIMAL:
        assert out.best["levers"]["payment.gateway.servers"] == 6
    else:  # 6 servers' two second-lever values wait alike: they may stay tied
        assert {t["levers"]["payment.gateway.servers"] for t in out.tied} == {6}
    assert any(r["phase"] == "selection" for r in out.rounds)


def test_the_command_resumes_and_gives_the_same_answer_whatever_the_workers(tmp_path, capsys):
    path = opt_file(tmp_path, 0.02, seed(7))
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["optimize", str(path), "--out", str(one), "--jobs", "1", "--quiet"]) == 0
    assert main(["optimize", str(path), "--out", str(two), "--jobs", "2", "--quiet"]) == 0
    a = json.loads((one / "result.json").read_text())
    b = json.loads((two / "result.json").read_text())
    assert a == b and a["status"] == OPTIMAL
    assert set(a["best"]) == {"levers", "cost", "kpis", "p_feasible", "replications"}
    assert set(a["best"]["kpis"]["queues.gateway.mean_wait_hours"]) == {"mean", "ci_low", "ci_high"}
    files = sorted((one / "runs").iterdir())
    assert len(files) == a["runs"]
    # Resumed: nothing runs again, the same answer.
    before = {f: f.stat().st_mtime_ns for f in files}
    assert main(["optimize", str(path), "--out", str(one), "--jobs", "1", "--quiet"]) == 0
    assert {f: f.stat().st_mtime_ns for f in sorted((one / "runs").iterdir())} == before
    assert json.loads((one / "result.json").read_text()) == a
    # Read back, and reported.
    import analysis

    res = analysis.load_optimization(one)
    assert res.status == OPTIMAL and len(res.candidates) == 6
    assert set(res.runs_frame["phase"]) == {"search", "clean-up"}
    assert main(["report", str(one), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "The chosen mix" in html and "Selection rounds" in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("payment.gateway.servers:", "payment.gateway.servrs:"), "payment.gateway.servrs"),
        (("queues.gateway.mean_wait_hours: {max", "queues.gateway.mean_wait: {max"), "no such KPI"),
        (("budget: 20", "budget: 4"), "the grid has 6 candidates, more than the budget 4"),
        (("{20: 2, 30: 0}", "{20: 2}"), "cost must price every value"),
        (("low: 3, high: 5", "low: 0, high: 5"), "payment.gateway.servers"),
        (("base: mmc.yaml", "base: nowhere.yaml"), "base: file not found"),
        (("search:", "objective: {maximize: completed_rate}\nsearch:"), "give completed_rate's tolerance"),
    ],
)
def test_a_bad_optimisation_file_is_refused_at_its_line(tmp_path, capsys, change, message):
    path = opt_file(tmp_path, 0.02, 1)
    path.write_text(path.read_text().replace(*change))
    assert main(["optimize", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and f"{path}:" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ScenarioError):
        read_optimization(path)


@pytest.mark.parametrize("method", ["lhs", "tpe"])
def test_sampled_searches_find_the_answer_on_the_stand_in(tmp_path, method):
    path = opt_file(tmp_path, 0.02, 4, top=6)
    path.write_text(path.read_text().replace("method: grid, budget: 20", f"method: {method}, budget: 16"))
    opt = read_optimization(path)
    assert (len(opt.candidates) > 0) == (method == "lhs")  # TPE proposes as it goes
    out = _optimize(opt, StandIn(rng_seed=11))
    assert out.status == OPTIMAL and out.best["levers"]["payment.gateway.servers"] == 4
    assert len(out.candidates) >= 4


def test_dask_gives_the_same_answer(tmp_path):
    pytest.importorskip("distributed")
    path = opt_file(tmp_path, 0.02, seed(9), top=4)
    outs = [tmp_path / "inline", tmp_path / "dask"]
    assert main(["optimize", str(path), "--out", str(outs[0]), "--jobs", "1", "--quiet"]) == 0
    assert (
        main(["optimize", str(path), "--out", str(outs[1]), "--jobs", "2", "--executor", "dask", "--quiet"])
        == 0
    )
    a, b = (json.loads((out / "result.json").read_text()) for out in outs)
    assert a == b and a["status"] == OPTIMAL


def test_tpe_without_optuna_is_refused_at_its_line_before_anything_runs(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a)
    )
    path = opt_file(tmp_path, 0.02, 1)
    path.write_text(path.read_text().replace("method: grid", "method: tpe"))
    assert main(["optimize", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "tpe needs Optuna" in err and not (tmp_path / "out").exists()
