"""The README's policy example (``examples/queue_aware_fraud.py`` and ``.yaml``): a researcher's
class found next to its scenario, validated and run from the command line as from Python."""

from __future__ import annotations

import pandas as pd

import simcore
from simcore.cli import main
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "queue_aware_fraud.yaml"
SHORT = {"horizon_days": 60, "warmup_days": 5, "cooldown_days": 5}


def test_the_example_policy_is_found_next_to_its_scenario():
    scn = simcore.load_scenario(EXAMPLE)
    assert scn.platform.fraud.decision.kind == "queue_aware_fraud:QueueAwareThreshold"
    assert scn.platform.fraud.decision.search_path == str(EXAMPLE.parent.resolve())


def test_the_example_reviews_more_while_the_queue_is_short_and_declines_as_the_baseline():
    """Scores are the arrival's own (common random numbers), so the two runs decline the very
    same visits (among those scored alike); the example reviews every order the baseline
    reviews, and more, all with scores in [review_when_idle, review)."""
    base = simcore.run(simcore.load_scenario(ROOT / "scenarios" / "baseline.yaml", SHORT))
    mine = simcore.run(simcore.load_scenario(EXAMPLE, SHORT))
    params = mine.scenario.platform.fraud.decision.params

    def by_arrival(res: simcore.RunResult) -> pd.DataFrame:
        o = res.orders[res.orders["risk_score"].notna()]
        return o.drop_duplicates("arrival_id", keep="first").set_index("arrival_id")

    a, b = by_arrival(base), by_arrival(mine)
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    assert len(both) > 5000
    # A score is the arrival's own but for the velocity flag, which counts the device's orders
    # of the last day: where a visit's fate differs (a new order after a failed payment, a
    # sale lost to stock), a later order of that device may differ (0.006% here).
    same = a["risk_score"] == b["risk_score"]
    assert same.mean() > 0.999
    a, b = a[same], b[same]
    declined = a["risk_score"] >= params["decline"]
    assert ((a["cancel_reason"] == "fraud_suspected") == (b["cancel_reason"] == "fraud_suspected"))[
        declined
    ].all()
    reviewed_a, reviewed_b = a["fraud_review_started_at"].notna(), b["fraud_review_started_at"].notna()
    assert (reviewed_b | ~reviewed_a).all()
    extra = reviewed_b & ~reviewed_a
    assert extra.sum() > 50
    assert b.loc[extra, "risk_score"].between(params["review_when_idle"], params["review"]).all()


def test_validate_names_a_policy_that_cannot_be_imported(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {EXAMPLE}\nplatform:\n  fraud:\n    decision: {{kind: 'no_such_policies:Rule'}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{bad}:4: platform.fraud.decision:" in err
    assert "cannot import 'no_such_policies'" in err


def test_a_sweep_over_the_example_gives_the_same_numbers_in_worker_processes(tmp_path):
    """Workers started fresh (spawn: nothing inherited) import the researcher's module from the
    folder validation found it in, and the runs match those made in this process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from analysis import load_sweep
    from simcore.experiments.sweep import read_sweep, run_sweep

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"base: {EXAMPLE.as_posix()}\nreplications: 2\nseed: 5\n"
        "set: {horizon_days: 12, warmup_days: 1, cooldown_days: 1}\n"
        "grid: {platform.fraud.analysts: [1, 2]}\n",
        encoding="utf-8",
    )
    design = read_sweep(sweep)
    run_sweep(design, tmp_path / "here")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        report = run_sweep(design, tmp_path / "there", executor=pool)
    assert not report.failed
    here, there = (load_sweep(tmp_path / d) for d in ("here", "there"))
    keys = ["cell_id", "strategy", "replication", "kpi"]
    timing = here["kpi"].str.contains("seconds")
    assert len(here) > 100 and not here["value"][~timing].isna().all()
    pd.testing.assert_frame_equal(
        here[~timing].sort_values(keys).reset_index(drop=True),
        there[~timing.values].sort_values(keys).reset_index(drop=True),
    )
