"""The fraud decision as a policy (``platform.fraud.decision``): the default kind is today's rule,
a researcher's class is called on every scored order with the documented values, and the
referee does exactly what it answers (an exact trace)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore import ScenarioError
from simcore.policies.fraud import DECLINE, PASS, REVIEW, Threshold, fraud_decision
from tests.conftest import SCENARIOS, quiet, shipped
from tests.policies.sample_policies import Recording

SAMPLE = "tests.policies.sample_policies"


def test_the_threshold_kind_is_the_thresholds():
    rule = Threshold(decline_threshold=0.75, review_threshold=0.35)
    scores = np.linspace(0.0, 1.0, 1001).tolist() + [0.35, 0.75, np.nextafter(0.35, 0), np.nextafter(0.75, 0)]
    for s in scores:
        expected = DECLINE if s >= 0.75 else REVIEW if s >= 0.35 else PASS
        assert rule.decide(s, 0, 0.0, 10.0, True) == expected


def test_the_default_kind_is_threshold_and_reads_the_sections_thresholds():
    cfg = shipped("baseline", {"platform.fraud.decline_threshold": 0.9}).platform.fraud
    assert cfg.decision.kind == "threshold"
    rule = fraud_decision(cfg)
    assert isinstance(rule, Threshold)
    assert (rule.decline_threshold, rule.review_threshold) == (0.9, cfg.review_threshold)


def _run(overrides: dict) -> simcore.RunResult:
    return simcore.run(
        shipped("fraud_wave", {"horizon_days": 40, "warmup_days": 5, "cooldown_days": 5, **overrides})
    )


def test_a_researchers_class_with_todays_rule_gives_todays_run_bit_for_bit():
    today = _run({})
    mine = _run(
        {
            "platform.fraud.decision": {
                "kind": f"{SAMPLE}:Recording",
                "params": {"decline": 0.75, "review": 0.35},
            }
        }
    )
    fraud = today.scenario.platform.fraud
    assert (fraud.decline_threshold, fraud.review_threshold) == (0.75, 0.35)
    pd.testing.assert_frame_equal(today.orders, mine.orders)
    assert today.kpis == mine.kpis


def test_the_referee_does_exactly_what_the_policy_answers():
    """Every scored order was asked once, with its own score, amount and verification, and its
    record shows the answer: declined orders cancelled as fraud_suspected without review,
    reviewed ones entered review, passed ones neither."""
    res = _run(
        {
            "platform.fraud.decision": {
                "kind": f"{SAMPLE}:Recording",
                "params": {"decline": 0.6, "review": 0.2},
            }
        }
    )
    calls = Recording.calls
    o = res.orders
    scored = o[o["risk_score"].notna()]
    assert len(calls) == len(scored) > 1000
    # Scores name the order, but for a rare tie (single-precision noise, the same signals): a
    # tied score's calls are told apart by amount.
    by_score: dict[float, list[tuple]] = {}
    for c in calls:
        by_score.setdefault(c[0], []).append(c)
    assert len(by_score) >= 0.999 * len(calls)
    answers = {DECLINE: 0, REVIEW: 0, PASS: 0}
    for row in scored.itertuples():
        match = [c for c in by_score[row.risk_score] if c[3] == row.amount]
        assert len(match) >= 1
        score, queue, hour, amount, verified, answer = match[0]
        answers[answer] += 1
        assert row.placed_hour <= hour < row.placed_hour + 24 * 30  # asked once paid, the clock's hour
        assert amount == row.amount and verified == row.buyer_verified and queue >= 0
        reviewed = pd.notna(row.fraud_review_started_at)
        if answer == DECLINE:
            assert row.cancel_reason == "fraud_suspected" and not reviewed
        elif answer == REVIEW:
            assert reviewed
        else:
            assert not reviewed and row.cancel_reason != "fraud_suspected"
    assert min(answers.values()) > 20  # every answer was exercised
    assert max(c[1] for c in calls) >= 1  # some orders met a queue


def test_a_policy_by_segment_changes_only_what_it_says():
    res = _run({"platform.fraud.decision": {"kind": f"{SAMPLE}:ReviewUnverified"}})
    o = res.orders
    scored = o[o["risk_score"].notna()]
    reviewed = scored["fraud_review_started_at"].notna()
    assert not (scored["cancel_reason"] == "fraud_suspected")[scored["buyer_verified"]].any()
    assert (reviewed == ~scored["buyer_verified"]).all()


def test_an_unknown_answer_stops_the_run_naming_the_policy():
    with pytest.raises(ValueError, match=r"Shouting.*'DECLINE'.*decline, review, pass"):
        _run({"platform.fraud.decision": {"kind": f"{SAMPLE}:Shouting"}})


def test_a_policy_that_raises_stops_the_run_naming_the_policy():
    with pytest.raises(ScenarioError, match=r"Failing'.* raised ZeroDivisionError: division by zero"):
        _run({"platform.fraud.decision": {"kind": f"{SAMPLE}:Failing"}})


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ({"kind": "strictest"}, "kind 'strictest': not a built-in kind (threshold) nor module:Class"),
        ({"kind": "threshold", "params": {"x": 1}}, "kind 'threshold' takes no parameter x (it takes: none)"),
        ({"kind": "no_such_module_xyz:Rule"}, "cannot import 'no_such_module_xyz'"),
        ({"kind": f"{SAMPLE}:Missing"}, f"module '{SAMPLE}' has no class 'Missing'"),
        ({"kind": f"{SAMPLE}:NoDecide"}, "the class has no method decide"),
        (
            {"kind": f"{SAMPLE}:Recording", "params": {"strictness": 2}},
            "its constructor does not take params ['strictness']",
        ),
        ({"kind": "a:b:c"}, "a researcher's policy is named module:Class"),
    ],
)
def test_a_bad_policy_is_a_scenario_error_at_its_key(decision, message):
    with pytest.raises(ScenarioError) as info:
        quiet({"platform.fraud.decision": decision})
    text = str(info.value)
    assert "platform.fraud.decision" in text and message in text


def _module(folder, name: str, line: float) -> None:
    """A researcher's module ``name`` in ``folder``: class Strict declines at or above ``line``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(
        "class Strict:\n"
        f"    def __init__(self, line={line}):\n"
        "        self.line = line\n"
        "    def decide(self, score, queue, hour, amount, verified):\n"
        "        return 'decline' if score >= self.line else 'pass'\n",
        encoding="utf-8",
    )


def _naming(path, kind: str, extra: str = "") -> None:
    """A scenario file at ``path`` extending the baseline, its fraud decision ``kind``."""
    path.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\n{extra}"
        f"platform:\n  fraud:\n    decision: {{kind: '{kind}', params: {{}}}}\n",
        encoding="utf-8",
    )


def test_a_module_next_to_the_scenario_file_is_found_there(tmp_path):
    _module(tmp_path, "my_rules_for_test", 0.3)
    scenario = tmp_path / "mine.yaml"
    _naming(scenario, "my_rules_for_test:Strict", "horizon_days: 30\nwarmup_days: 5\ncooldown_days: 5\n")
    scn = simcore.load_scenario(scenario)
    assert scn.platform.fraud.decision.search_path == str(tmp_path.resolve())
    res = simcore.run(scn)
    o = res.orders
    declined = o["risk_score"] >= 0.3
    assert (o.loc[declined, "cancel_reason"] == "fraud_suspected").all()
    assert o["fraud_review_started_at"].isna().all()


def test_the_module_is_looked_for_next_to_the_file_that_names_it(tmp_path):
    """A scenario that only extends another finds the policy next to the file that set the kind;
    a sweep's strategy finds it next to the sweep file."""
    _module(tmp_path / "policies_here", "rules_next_to_parent", 0.3)
    parent = tmp_path / "policies_here" / "parent.yaml"
    _naming(parent, "rules_next_to_parent:Strict")
    (tmp_path / "elsewhere").mkdir()
    child = tmp_path / "elsewhere" / "child.yaml"
    child.write_text(f"extends: {parent}\n", encoding="utf-8")
    scn = simcore.load_scenario(child)
    assert scn.platform.fraud.decision.search_path == str((tmp_path / "policies_here").resolve())

    from simcore.experiments.sweep import read_sweep

    _module(tmp_path / "sweeps", "rules_next_to_sweep", 0.4)
    sweep = tmp_path / "sweeps" / "sweep.yaml"
    sweep.write_text(
        f"base: {SCENARIOS / 'baseline.yaml'}\nreplications: 1\n"
        "strategies: {strict: {platform.fraud.decision: {kind: 'rules_next_to_sweep:Strict'}}}\n",
        encoding="utf-8",
    )
    design = read_sweep(sweep)
    (strict,) = [s for (_, name), s in design.scenarios.items() if name == "strict"]
    assert strict.platform.fraud.decision.search_path == str((tmp_path / "sweeps").resolve())


def test_two_folders_with_a_module_of_one_name_are_an_error_not_a_silent_mix(tmp_path):
    for folder, line in (("a", 0.3), ("b", 0.6)):
        _module(tmp_path / folder, "same_name_rules", line)
        _naming(tmp_path / folder / "s.yaml", "same_name_rules:Strict")
    simcore.load_scenario(tmp_path / "a" / "s.yaml")
    with pytest.raises(
        ScenarioError, match="already imported from .*/a, so the one in .*/b cannot be loaded"
    ):
        simcore.load_scenario(tmp_path / "b" / "s.yaml")


def test_a_module_that_fails_to_import_is_reported_with_its_file_and_line(tmp_path):
    (tmp_path / "broken_rules_mod.py").write_text("x = 1\nraise RuntimeError('oops')\n", encoding="utf-8")
    _naming(tmp_path / "s.yaml", "broken_rules_mod:Rule")
    with pytest.raises(ScenarioError, match=r"RuntimeError: oops at .*broken_rules_mod\.py:2"):
        simcore.load_scenario(tmp_path / "s.yaml")
