"""Scenario loading: bad input reported as ``file:line: key: rule (got value)``, ``extends``,
dotted overrides, defaults, frozenness, and the shipped scenarios and JSON Schema."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from simcore import Scenario, ScenarioError, load_scenario, parse_overrides, scenario_from_dict
from tests.conftest import SCENARIOS, quiet

MODELINE = "# yaml-language-server: $schema=./scenario.schema.json"
SHIPPED = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.name.startswith("sweep_"))  # sweeps: test_sweep


def write(folder: Path, text: str, name: str = "bad.yaml") -> Path:
    """Write dedented ``text`` to ``folder/name`` and return the resolved path (as messages show it)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path.resolve()


def problems_of(path: Path, overrides: dict | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value.problems


# --------------------------------------------------------------------------- one bad value


BAD_VALUES = [
    # (yaml text, line, dotted key, rule and value as a regex)
    pytest.param(
        "buyers:\n  fraud_rate: 1.5\n",
        2,
        "buyers.fraud_rate",
        r"Input should be less than or equal to 1 \(got 1\.5\)",
        id="share-above-one",
    ),
    pytest.param(
        "platform:\n  fraud:\n    review_sensitivity: -0.1\n",
        3,
        "platform.fraud.review_sensitivity",
        r"Input should be greater than or equal to 0 \(got -0\.1\)",
        id="share-negative",
    ),
    pytest.param(
        "sellers:\n  handling_time: {dist: constant, value: -2, unit: days}\n",
        2,
        "sellers.handling_time.value",
        r"Input should be greater than or equal to 0 \(got -2\)",
        id="negative-constant-duration",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: exponential, mean: 0, unit: minutes}\n",
        2,
        "buyers.retry_delay.mean",
        r"Input should be greater than 0 \(got 0\)",
        id="zero-exponential-mean",
    ),
    pytest.param(
        "payment:\n  gateway:\n    service_time: {dist: lognormal, mean: 30, sd: -1, unit: seconds}\n",
        3,
        "payment.gateway.service_time.sd",
        r"Input should be greater than 0 \(got -1\)",
        id="negative-lognormal-sd",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: gamma, mean: 2}\n",
        2,
        "buyers.retry_delay.sd",
        r"required key is missing",
        id="missing-dist-parameter",
    ),
    pytest.param(
        "horizon_days: 0\n",
        1,
        "horizon_days",
        r"Input should be greater than 0 \(got 0\)",
        id="zero-horizon",
    ),
    pytest.param(
        "seed: -1\n",
        1,
        "seed",
        r"Input should be greater than or equal to 0 \(got -1\)",
        id="negative-seed",
    ),
    pytest.param(
        "buyers:\n  fraud_rate: lots\n",
        2,
        "buyers.fraud_rate",
        r"Input should be a valid number.* \(got 'lots'\)",
        id="type-number",
    ),
    pytest.param(
        "sellers:\n  count: 2.5\n",
        2,
        "sellers.count",
        r"Input should be a valid integer.* \(got 2\.5\)",
        id="type-integer",
    ),
    pytest.param(
        "sellers:\n  strategy:\n    low_stock_alert: maybe\n",
        3,
        "sellers.strategy.low_stock_alert",
        r"Input should be a valid boolean.* \(got 'maybe'\)",
        id="type-boolean",
    ),
    pytest.param(
        "buyers: 3\n",
        1,
        "buyers",
        r"Input should be a valid dictionary.* \(got 3\)",
        id="type-section",
    ),
    pytest.param(
        "buyers:\n  retry_delay: 5\n",
        2,
        "buyers.retry_delay",
        r"Input should be a valid dictionary.* \(got 5\)",
        id="type-duration-is-a-number",
    ),
    pytest.param(
        "horizn_days: 30\n",
        1,
        "horizn_days",
        r"unknown key \(did you mean 'horizon_days'\?\)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "buyers:\n  orders_per_hr: 3\n",
        2,
        "buyers.orders_per_hr",
        r"unknown key \(did you mean 'orders_per_hour'\?\)",
        id="unknown-section-key",
    ),
    pytest.param(
        "buyers:\n  cancel:\n    chang_of_mind: 0.1\n",
        3,
        "buyers.cancel.chang_of_mind",
        r"unknown key \(did you mean 'change_of_mind'\?\)",
        id="unknown-nested-key",
    ),
    pytest.param(
        "shipping:\n  destinations:\n    US: {wieght: 1}\n",
        3,
        "shipping.destinations.US.wieght",
        r"unknown key \(did you mean 'weight'\?\)",
        id="unknown-key-under-a-named-entry",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: exponential, mean: 1, mena: 2}\n",
        2,
        "buyers.retry_delay.mena",
        r"unknown key \(did you mean 'mean'\?\)",
        id="unknown-key-in-a-dist-spec",
    ),
    pytest.param(
        "zzzz: 1\n",
        1,
        "zzzz",
        r"unknown key",  # nothing close: no suggestion rather than a wrong one
        id="unknown-key-without-suggestion",
    ),
    pytest.param(
        "buyers:\n  verification_time: {dist: weibull, mean: 1}\n",
        2,
        "buyers.verification_time",
        r"Input tag 'weibull' found using 'dist' does not match any of the expected tags: "
        r"'constant', 'exponential', 'lognormal', 'gamma', 'uniform', 'triangular', 'empirical' "
        r"\(got \{'dist': 'weibull', 'mean': 1\}\)",
        id="unknown-dist-tag",
    ),
    pytest.param(
        "buyers:\n  verification_time: {mean: 1}\n",
        2,
        "buyers.verification_time",
        r"Unable to extract tag using discriminator 'dist' \(got \{'mean': 1\}\)",
        id="missing-dist-tag",
    ),
    pytest.param(
        "buyers:\n  confirm_time: {dist: exponential, mean: 1, unit: weeks}\n",
        2,
        "buyers.confirm_time.unit",
        r"Input should be 'seconds', 'minutes', 'hours' or 'days' \(got 'weeks'\)",
        id="bad-unit",
    ),
    pytest.param(
        "platform:\n  fraud:\n    review_threshold: 0.8\n    decline_threshold: 0.5\n",
        4,
        "platform.fraud.decline_threshold",
        r"must be >= review_threshold \(got decline_threshold=0\.5, review_threshold=0\.8\)",
        id="decline-below-review-threshold",
    ),
    pytest.param(
        "refunds:\n  card_delay_bdays: {dist: constant, value: 3, unit: hours}\n",
        2,
        "refunds.card_delay_bdays",
        r"counts business days: unit must be days \(got hours\)",
        id="card-delay-not-in-days",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: uniform, low: 5, high: 1}\n",
        2,
        "buyers.retry_delay",
        r"high must be >= low \(got low=5\.0, high=1\.0\)",
        id="uniform-high-below-low",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: triangular, low: 1, mode: 5, high: 3}\n",
        2,
        "buyers.retry_delay",
        r"needs low <= mode <= high and low < high \(got low=1\.0, mode=5\.0, high=3\.0\)",
        id="triangular-mode-above-high",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: triangular, low: 2, mode: 2, high: 2}\n",
        2,
        "buyers.retry_delay",
        r"needs low <= mode <= high and low < high \(got low=2\.0, mode=2\.0, high=2\.0\)",
        id="triangular-zero-width",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: empirical, values: [1, 2], weights: [1]}\n",
        2,
        "buyers.retry_delay",
        r"weights must have one entry per value \(got 1 weights for 2 values\)",
        id="empirical-weights-length",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: empirical, values: [1, 2], weights: [0, 0]}\n",
        2,
        "buyers.retry_delay",
        r"weights must not all be zero",
        id="empirical-zero-weights",
    ),
    pytest.param(
        "buyers:\n  retry_delay: {dist: empirical, values: []}\n",
        2,
        "buyers.retry_delay.values",
        r"List should have at least 1 item.* \(got \[\]\)",
        id="empirical-no-values",
    ),
    pytest.param(
        "shipping:\n  destinations: {}\n",
        2,
        "shipping.destinations",
        r"Dictionary should have at least 1 item.* \(got \{\}\)",
        id="no-destinations",
    ),
    pytest.param(
        "start: '2026-02-30'\n",
        1,
        "start",
        r"Input should be a valid date.* \(got '2026-02-30'\)",
        id="date-out-of-range",
    ),
    pytest.param(
        "start: next monday\n",
        1,
        "start",
        r"Input should be a valid date.* \(got 'next monday'\)",
        id="date-not-a-date",
    ),
    pytest.param(
        "extends: 5\n",
        1,
        "extends",
        r"must be a file path \(got 5\)",
        id="extends-not-a-path",
    ),
]


@pytest.mark.parametrize(("text", "line", "dotted", "rule"), BAD_VALUES)
def test_bad_value_names_file_line_key_rule_and_value(tmp_path, text, line, dotted, rule):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=re.escape(dotted)) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1, info.value.problems
    assert re.fullmatch(
        rf"{re.escape(str(path))}:{line}: {re.escape(dotted)}: {rule}", info.value.problems[0]
    )


def test_scenario_error_is_a_value_error_joining_its_problems(tmp_path):
    path = write(tmp_path, "seed: -1\nhorizn_days: 3\n")
    with pytest.raises(ValueError) as info:
        load_scenario(path)
    assert isinstance(info.value, ScenarioError)
    assert str(info.value) == "\n".join(info.value.problems)
    assert len(info.value.problems) == 2


def test_warmup_plus_cooldown_must_be_shorter_than_the_horizon(tmp_path):
    path = write(tmp_path, "horizon_days: 30\nwarmup_days: 20\ncooldown_days: 10\n")
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(str(path))
    assert problems[0].endswith(
        "warmup_days + cooldown_days must be < horizon_days (got 20.0 + 10.0 >= 30.0)"
    )
    # One day shorter is fine.
    assert load_scenario(write(tmp_path, "horizon_days: 31\nwarmup_days: 20\ncooldown_days: 10\n", "ok.yaml"))


def test_warmup_error_has_a_line_number(tmp_path):
    path = write(tmp_path, "horizon_days: 30\nwarmup_days: 20\ncooldown_days: 10\n")
    [problem] = problems_of(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: ", problem)


def test_warmup_error_is_reported_alongside_other_problems(tmp_path):
    path = write(tmp_path, "horizon_days: 10\nwarmup_days: 5\ncooldown_days: 5\nbuyers:\n  fraud_rate: 2\n")
    problems = problems_of(path)
    assert any("buyers.fraud_rate" in p for p in problems)
    assert any("warmup_days + cooldown_days must be < horizon_days" in p for p in problems)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("start: 2026-02-30\n", id="day-out-of-range"),
        pytest.param("start: 2026-13-01\n", id="month-out-of-range"),
    ],
)
def test_impossible_unquoted_date_is_a_scenario_error(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=re.escape(f"{path}:1:")):
        load_scenario(path)


def test_arrival_profile_mistake_is_one_problem(tmp_path):
    path = write(
        tmp_path,
        """
        buyers:
          arrival_profile:
            promotions:
              - {start: 2026-01-10, multiplier: 2}
              - {start: 2026-01-12, multiplier: -1}
        """,
    )
    problems = problems_of(path)
    assert problems == [
        f"{path}:5: buyers.arrival_profile.promotions.1.multiplier: Input should be greater than 0 (got -1)"
    ]


def test_every_problem_is_reported_in_one_error_in_line_order(tmp_path):
    path = write(
        tmp_path,
        """
        name: many mistakes
        horizn_days: 30
        buyers:
          fraud_rate: 1.5
          retry_delay: {dist: exponential, mean: -1}
          confirm_time: {dist: exponential, mean: 1, unit: weeks}
        sellers:
          count: many
        platform:
          fraud:
            review_threshold: 0.9
            decline_threshold: 0.1
        """,
    )
    problems = problems_of(path)
    lines_and_keys = [tuple(p[len(str(path)) + 1 :].split(": ")[:2]) for p in problems]
    assert lines_and_keys == [
        ("2", "horizn_days"),
        ("4", "buyers.fraud_rate"),
        ("5", "buyers.retry_delay.mean"),
        ("6", "buyers.confirm_time.unit"),
        ("8", "sellers.count"),
        ("12", "platform.fraud.decline_threshold"),
    ]


def test_scenario_from_dict_names_the_source(tmp_path):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"buyers": {"fraud_rate": 2}})
    assert info.value.problems == [
        "<dict>: buyers.fraud_rate: Input should be less than or equal to 1 (got 2)"
    ]


# --------------------------------------------------------------------------- files that are not scenarios


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        pytest.param(
            "name: a\nbuyers:\n  fraud_rate: 0.1\n population: 3\n",
            4,
            "expected <block end>, but found '<block mapping start>'",
            id="bad-indent",
        ),
        pytest.param(
            "name: a\nbuyers:\n  fraud_rate: [0.1\nseed: 3\n", 4, "expected ',' or ']'", id="open-list"
        ),
        pytest.param("name: a\n\tseed: 3\n", 2, "found character '\\t'", id="tab"),
    ],
)
def test_invalid_yaml_names_file_and_line(tmp_path, text, line, problem):
    path = write(tmp_path, text)
    [message] = problems_of(path)
    assert message.startswith(f"{path}:{line}: invalid YAML: ")
    assert problem in message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- 1\n- 2\n", "list"), ("just a string\n", "str"), ("42\n", "int")],
)
def test_top_level_must_be_a_mapping(tmp_path, text, kind):
    path = write(tmp_path, text)
    assert problems_of(path) == [f"{path}:1: the scenario must be a mapping of keys (got {kind})"]


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "\n\n  \n", "---\n# a document of comments\n", "{}\n"]
)
def test_a_file_with_no_scenario_in_it_is_refused(tmp_path, text):
    # Every key has a default: an empty file would otherwise run a 120-day scenario nobody wrote.
    path = write(tmp_path, text, "empty.yaml")
    assert problems_of(path) == [f"{path}: the file is empty: no scenario keys, only comments or blank lines"]


def test_an_empty_parent_is_refused_and_named(tmp_path):
    parent = write(tmp_path, "# to be written\n", "parent.yaml")
    child = write(tmp_path, "extends: parent.yaml\nseed: 4\n", "child.yaml")
    assert problems_of(child) == [
        f"{parent}: the file is empty: no scenario keys, only comments or blank lines"
    ]


def test_a_file_that_only_extends_is_its_parent(tmp_path):
    write(tmp_path, "name: p\nseed: 5\n", "parent.yaml")
    assert load_scenario(write(tmp_path, "extends: parent.yaml\n", "child.yaml")) == Scenario(
        name="p", seed=5
    )


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    assert problems_of(path) == [f"{path.resolve()}: file not found"]


def test_folder_is_not_a_scenario(tmp_path):
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path.resolve()}: cannot read file")


# --------------------------------------------------------------------------- extends


def test_extends_child_wins_sections_merge_lists_are_replaced(tmp_path):
    write(
        tmp_path,
        """
        name: parent
        seed: 3
        buyers:
          fraud_rate: 0.5
          population: 10
          arrival_profile:
            promotions:
              - {name: a, start: 2026-01-10, multiplier: 2}
              - {name: b, start: 2026-02-10, multiplier: 3}
        shipping:
          destinations:
            US: {weight: 1, cost_cap_usd: 10}
            BR: {weight: 2}
        """,
        "parent.yaml",
    )
    child = write(
        tmp_path,
        """
        extends: parent.yaml
        name: child
        buyers:
          population: 20
          arrival_profile:
            promotions:
              - {name: c, start: 2026-03-10, multiplier: 4}
        shipping:
          destinations:
            US: {weight: 5}
            FR: {weight: 1}
        """,
        "child.yaml",
    )
    scn = load_scenario(child)
    assert scn.name == "child"  # child wins
    assert scn.seed == 3  # parent-only key kept
    assert (scn.buyers.population, scn.buyers.fraud_rate) == (20, 0.5)  # section merged key by key
    assert [p.name for p in scn.buyers.arrival_profile.promotions] == ["c"]  # list replaced
    assert list(scn.shipping.destinations) == ["US", "BR", "FR"]  # mapping merged
    assert (scn.shipping.destinations["US"].weight, scn.shipping.destinations["US"].cost_cap_usd) == (5, 10)
    assert scn.extends is None


def test_extends_child_can_replace_a_mapping_or_null_a_value(tmp_path):
    write(
        tmp_path,
        """
        buyers:
          arrival_profile: {weekday: [1, 1, 1, 1, 1, 2, 2]}
        sellers:
          strategy: {sync_interval_days: 30}
        """,
        "parent.yaml",
    )
    child = write(
        tmp_path,
        """
        extends: parent.yaml
        buyers:
          arrival_profile: flat
        sellers:
          strategy: {sync_interval_days: null}
        """,
        "child.yaml",
    )
    scn = load_scenario(child)
    assert scn.buyers.arrival_profile == "flat"
    assert scn.sellers.strategy.sync_interval_days is None


LOGNORMAL_PARENT = """
    platform:
      fraud:
        review_time: {dist: lognormal, mean: 2, sd: 1.5, unit: hours}
    """


def test_extends_child_with_another_dist_replaces_the_parents_spec_whole(tmp_path):
    # The case: the parent's lognormal sd must not be merged into the child's exponential.
    write(tmp_path, LOGNORMAL_PARENT, "parent.yaml")
    child = write(
        tmp_path,
        "extends: parent.yaml\nplatform:\n  fraud:\n"
        "    review_time: {dist: exponential, mean: 30, unit: minutes}\n",
        "child.yaml",
    )
    spec = load_scenario(child).platform.fraud.review_time
    assert (spec.dist, spec.mean, spec.unit) == ("exponential", 30, "minutes")
    assert spec.mean_hours == 0.5


def test_extends_child_without_dist_or_with_the_same_dist_edits_the_parents_spec(tmp_path):
    write(tmp_path, LOGNORMAL_PARENT, "parent.yaml")
    for i, text in enumerate(["{mean: 3}", "{dist: lognormal, mean: 3}"]):
        child = write(
            tmp_path, f"extends: parent.yaml\nplatform:\n  fraud:\n    review_time: {text}\n", f"c{i}.yaml"
        )
        spec = load_scenario(child).platform.fraud.review_time
        assert (spec.dist, spec.mean, spec.sd, spec.unit) == ("lognormal", 3, 1.5, "hours")


def test_extends_a_replaced_specs_problems_point_at_the_child(tmp_path):
    # The parent's line for sd no longer applies once the child replaced the spec.
    write(tmp_path, LOGNORMAL_PARENT, "parent.yaml")
    child = write(
        tmp_path,
        "extends: parent.yaml\nplatform:\n  fraud:\n    review_time: {dist: exponential, mean: -1}\n",
        "child.yaml",
    )
    assert problems_of(child) == [
        f"{child}:4: platform.fraud.review_time.mean: Input should be greater than 0 (got -1)"
    ]


def test_a_parameter_of_another_dist_is_named_as_such_never_suggested_as_itself(tmp_path):
    path = write(tmp_path, "platform:\n  fraud:\n    review_time: {dist: exponential, mean: 30, sd: 3}\n")
    [problem] = problems_of(path)
    assert problem == f"{path}:3: platform.fraud.review_time.sd: unknown key for dist 'exponential'"
    assert "did you mean" not in problem


def test_a_misspelt_key_still_gets_its_suggestion(tmp_path):
    path = write(tmp_path, "platform:\n  fraud:\n    review_time: {dist: lognormal, mean: 30, sdd: 3}\n")
    assert f"{path}:3: platform.fraud.review_time.sdd: unknown key (did you mean 'sd'?)" in problems_of(path)


def test_extends_path_is_relative_to_each_files_folder(tmp_path, monkeypatch):
    # child -> ../base/parent.yaml -> deeper/grand.yaml: each path is read from its own file's folder,
    # not from the working directory.
    write(
        tmp_path / "base" / "deeper",
        "name: grand\nseed: 11\nhorizon_days: 60\nwarmup_days: 5\ncooldown_days: 10\n",
        "grand.yaml",
    )
    write(tmp_path / "base", "extends: deeper/grand.yaml\nname: parent\nseed: 12\n", "parent.yaml")
    child = write(tmp_path / "runs", "extends: ../base/parent.yaml\nname: child\n", "child.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scn = load_scenario(child)
    assert (scn.name, scn.seed, scn.horizon_days, scn.warmup_days) == ("child", 12, 60, 5)


def test_extends_problems_name_the_file_that_set_the_value(tmp_path):
    parent = write(tmp_path, "name: p\nbuyers:\n  fraud_rate: 2\n", "parent.yaml")
    child = write(tmp_path, "extends: parent.yaml\nseed: -1\n", "child.yaml")
    problems = problems_of(child)
    assert {tuple(p.split(": ")[:2]) for p in problems} == {
        (f"{child}:2", "seed"),
        (f"{parent}:3", "buyers.fraud_rate"),
    }
    assert len(problems) == 2


def test_extends_bad_child_value_points_at_the_child(tmp_path):
    write(tmp_path, "buyers:\n  fraud_rate: 0.1\n", "parent.yaml")
    child = write(tmp_path, "extends: parent.yaml\nname: c\nbuyers:\n  fraud_rate: 3\n", "child.yaml")
    assert problems_of(child) == [
        f"{child}:4: buyers.fraud_rate: Input should be less than or equal to 1 (got 3)"
    ]


def test_extends_cycle_is_reported_with_its_chain(tmp_path):
    x = write(tmp_path, "extends: y.yaml\n", "x.yaml")
    write(tmp_path, "extends: z.yaml\n", "y.yaml")
    z = write(tmp_path, "extends: x.yaml\n", "z.yaml")
    assert problems_of(x) == [f"{z}: extends: cycle detected (x.yaml -> y.yaml -> z.yaml -> x.yaml)"]


def test_extends_itself_is_a_cycle(tmp_path):
    path = write(tmp_path, "extends: self.yaml\n", "self.yaml")
    assert problems_of(path) == [f"{path}: extends: cycle detected (self.yaml -> self.yaml)"]


def test_extends_missing_parent(tmp_path):
    path = write(tmp_path, "name: orphan\nextends: nope.yaml\n", "orphan.yaml")
    assert problems_of(path) == [f"{path}:2: extends: file not found (got 'nope.yaml')"]


# --------------------------------------------------------------------------- overrides


def test_override_beats_the_file_and_keeps_its_siblings(tmp_path):
    path = write(tmp_path, "buyers:\n  fraud_rate: 0.5\n  population: 10\n", "s.yaml")
    scn = load_scenario(path, {"buyers.fraud_rate": 0.02})
    assert (scn.buyers.fraud_rate, scn.buyers.population) == (0.02, 10)


def test_dotted_override_creates_nested_sections_without_dropping_defaults():
    scn = scenario_from_dict({}, {"platform.fraud.analysts": 3, "sellers.strategy.reorder_point": 9})
    assert scn.platform.fraud.analysts == 3
    assert scn.sellers.strategy.reorder_point == 9
    default = Scenario()
    assert scn.platform.fraud.review_threshold == default.platform.fraud.review_threshold
    assert scn.sellers.strategy.reorder_quantity == default.sellers.strategy.reorder_quantity


def test_override_changes_one_parameter_of_a_duration_from_the_file():
    scn = quiet({"buyers.cancel.request_time.value": 4.0})
    assert scn.buyers.cancel.request_time.value == 4.0
    assert scn.buyers.cancel.request_time.dist == "constant"


def test_overrides_do_not_mutate_the_callers_data():
    data = {"buyers": {"fraud_rate": 0.1, "cancel": {"wrong_item": 0.0}}}
    snapshot = json.dumps(data, sort_keys=True)
    scn = scenario_from_dict(data, {"buyers.fraud_rate": 0.2, "buyers.cancel.wrong_item": 0.5})
    assert (scn.buyers.fraud_rate, scn.buyers.cancel.wrong_item) == (0.2, 0.5)
    assert json.dumps(data, sort_keys=True) == snapshot


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"buyers.fraud_rat": 0.02}, "override: buyers.fraud_rat: unknown key (did you mean 'fraud_rate'?)"),
        ({"horizn_days": 3}, "override: horizn_days: unknown key (did you mean 'horizon_days'?)"),
        (
            {"buyers.fraud_rate": 2},
            "override: buyers.fraud_rate: Input should be less than or equal to 1 (got 2)",
        ),
        ({"buyers..x": 1}, "override buyers..x: empty key segment"),
    ],
)
def test_bad_override_is_reported_as_an_override(tmp_path, overrides, expected):
    path = write(tmp_path, "buyers:\n  fraud_rate: 0.5\n", "s.yaml")
    assert problems_of(path, overrides) == [expected]


def test_problem_in_a_mapping_created_by_an_override_is_reported_as_one(tmp_path):
    path = write(tmp_path, "buyers:\n  population: 10\n", "s.yaml")
    [problem] = problems_of(path, {"buyers.cancel.request_time.mean": 3})
    assert problem.startswith("override: buyers.cancel.request_time: ")


def test_parse_overrides_reads_values_as_yaml():
    parsed = parse_overrides(
        [
            "buyers.fraud_rate=0.02",
            "sellers.strategy.sync_interval_days=null",
            "a.list=[1,2]",
            "b.flag=true",
            "c.int=7",
            "d.text=abc",
            " e.spaced =3",
            "f.eq=x=y",
            "g.empty=",
            "h.map={dist: constant, value: 1}",
        ]
    )
    assert parsed == {
        "buyers.fraud_rate": 0.02,
        "sellers.strategy.sync_interval_days": None,
        "a.list": [1, 2],
        "b.flag": True,
        "c.int": 7,
        "d.text": "abc",
        "e.spaced": 3,
        "f.eq": "x=y",
        "g.empty": "",
        "h.map": {"dist": "constant", "value": 1},
    }
    assert type(parsed["buyers.fraud_rate"]) is float
    assert type(parsed["c.int"]) is int


def test_parsed_overrides_apply_end_to_end(tmp_path):
    path = write(tmp_path, "sellers:\n  strategy:\n    sync_interval_days: 30\n", "s.yaml")
    scn = load_scenario(path, parse_overrides(["sellers.strategy.sync_interval_days=null", "seed=9"]))
    assert scn.sellers.strategy.sync_interval_days is None
    assert scn.seed == 9


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["novalue"], ["override 'novalue': expected dotted.key=value"]),
        (["=3"], ["override '=3': expected dotted.key=value"]),
        (["a=[1"], ["override a: value is not valid YAML (got '[1')"]),
        (["a=: b"], ["override a: value is not valid YAML (got ': b')"]),
        (
            ["a=[1", "ok=1", "novalue"],
            [
                "override a: value is not valid YAML (got '[1')",
                "override 'novalue': expected dotted.key=value",
            ],
        ),
    ],
)
def test_parse_overrides_errors(pairs, expected):
    with pytest.raises(ScenarioError) as info:
        parse_overrides(pairs)
    assert info.value.problems == expected


def test_impossible_date_override_is_a_scenario_error_of_the_override():
    # parse_overrides keeps dates as text; validation names the override.
    with pytest.raises(ScenarioError, match=r"override: start: "):
        scenario_from_dict({}, parse_overrides(["start=2026-02-30"]))


# --------------------------------------------------------------------------- the Scenario object


def test_every_section_has_defaults():
    scn = Scenario()
    for section in ("buyers", "sellers", "shipping", "payment", "platform", "refunds"):
        assert getattr(scn, section) == type(getattr(scn, section))(), section
    assert scenario_from_dict({}) == scn


def test_defaults_satisfy_the_cross_field_rules():
    scn = Scenario()
    assert scn.warmup_days + scn.cooldown_days < scn.horizon_days
    assert scn.platform.fraud.decline_threshold >= scn.platform.fraud.review_threshold
    assert scn.refunds.card_delay_bdays.unit == "days"


@pytest.mark.parametrize(
    ("obj", "attr", "value"),
    [
        (lambda s: s, "name", "changed"),
        (lambda s: s, "horizon_days", 1.0),
        (lambda s: s.buyers, "fraud_rate", 0.5),
        (lambda s: s.platform.fraud, "analysts", 9),
        (lambda s: s.buyers.cancel.request_time, "value", 9.0),
    ],
)
def test_scenario_is_frozen(obj, attr, value):
    scn = quiet()
    target = obj(scn)
    before = getattr(target, attr)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(target, attr, value)
    assert getattr(target, attr) == before


# --------------------------------------------------------------------------- shipped scenarios


def test_scenarios_are_shipped():
    assert SCENARIOS / "baseline.yaml" in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_validates(path):
    scn = load_scenario(path)
    assert isinstance(scn, Scenario)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_begins_with_the_schema_modeline(path):
    assert path.read_text(encoding="utf-8").splitlines()[0] == MODELINE


def test_shipped_json_schema_is_current():
    shipped = json.loads((SCENARIOS / "scenario.schema.json").read_text(encoding="utf-8"))
    assert shipped == Scenario.model_json_schema(), (
        "regenerate with: simcore schema --out scenarios/scenario.schema.json"
    )


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path):
    path = write(tmp_path, "buyers:\n  fraud_rate: 0.1\n  population: 5\n  fraud_rate: 0.9\n")
    assert problems_of(path) == [f"{path}:4: buyers.fraud_rate: duplicate key (first set on line 2)"]


def test_unquoted_and_quoted_dates_load_the_same(tmp_path):
    a = load_scenario(write(tmp_path, "start: 2026-03-02\n", "a.yaml"))
    b = load_scenario(write(tmp_path, "start: '2026-03-02'\n", "b.yaml"))
    assert a.start == b.start and a.start.isoformat() == "2026-03-02"


def test_more_destinations_than_one_byte_records_are_refused(tmp_path):
    # An order's destination is recorded in one byte (int8): 128 would be read back as -128.
    lines = "".join(f"    D{i}: {{weight: 1}}\n" for i in range(128))
    path = tmp_path / "many.yaml"
    path.write_text("shipping:\n  destinations:\n" + lines)
    with pytest.raises(ScenarioError, match=r"shipping\.destinations.*(127|at most)"):
        load_scenario(path)
    path.write_text("shipping:\n  destinations:\n" + "".join(lines.splitlines(True)[:127]))
    assert len(load_scenario(path).shipping.destinations) == 127
