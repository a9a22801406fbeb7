"""Hostile input through the command line: refused fast, exit 2, one readable message, nothing written.

Each case builds a scenario (or an environment) that would hang, exhaust memory or the stack, run
foreign code, or produce meaningless numbers, and runs it through ``main``. Plain bad values are
covered in test_loader.py, most ``--out`` problems in test_cli.py.
"""

from __future__ import annotations

import math
import os
import re
import signal
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

import simcore
from simcore import ArgumentError, ScenarioError, load_scenario
from simcore.cli import main
from simcore.experiments.admission import MEMORY_LIMIT_ENV, check_volume, expected_orders
from simcore.scenario.loader import MAX_EXTENDS
from simcore.scenario.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from tests.conftest import SCENARIOS

#: Wall-clock bound on a refusal, in seconds: generous for a loaded 2-core CI machine (each case
#: takes well under 0.5 s on an idle one).
FAST_S = 3.0
#: Past this the case is interrupted instead of hanging the test run.
HANG_S = 20

BOMB = "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.fixture(scope="module", autouse=True)
def _imports_done():
    """Load what ``simcore run`` imports first, so the clock measures the refusal, not imports."""
    import analysis.tables  # noqa: F401


@pytest.fixture(autouse=True)
def _default_memory_limit(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)


@contextmanager
def deadline(seconds: int):
    """Interrupt the block with TimeoutError after ``seconds`` (a regression should fail, not hang)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refuse(argv: list[str], capsys) -> str:
    """Run ``main(argv)``; assert a fast exit 2 with a message and no traceback; return stderr."""
    start = time.monotonic()
    with deadline(HANG_S):
        code = main(argv)
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert elapsed < FAST_S, f"took {elapsed:.1f} s"
    assert captured.err.startswith("error: invalid "), captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return captured.err


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def nested(depth: int) -> str:
    """Block mappings nested ``depth`` deep (keys k0, k1, ...), the last value ``depth + 2`` levels down."""
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}x: 1\n"


# --------------------------------------------------------------------------- cases
# Each builds its input in a folder and returns (scenario file, extra arguments, expected
# message lines as regexes; "{path}" stands for the scenario file as given).

Case = Callable[[Path], tuple[Path, list[str], list[str]]]


def _bomb(d):
    return (
        write(d, "bomb.yaml", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + BOMB),
        [],
        [
            rf"{{path}}:\d+: invalid YAML: more than {MAX_NODES:,} values once aliases are expanded "
            rf"\(limit {MAX_NODES:,}; a scenario holds a few hundred\)"
        ],
    )


def _recursive_alias(d):
    return (
        write(d, "loop.yaml", "name: x\nbuyers: &b {cancel: *b}\n"),
        [],
        [r"{path}:2: invalid YAML: an alias refers to a list or mapping containing it"],
    )


def _too_many_values(d):
    items = ", ".join(["1"] * (MAX_NODES + 1))
    return (
        write(d, "long.yaml", f"name: x\nbuyers:\n  retry_delay: {{dist: empirical, values: [{items}]}}\n"),
        [],
        [rf"{{path}}:3: invalid YAML: more than {MAX_NODES:,} values"],
    )


def _deep_flow(d):
    return (
        write(d, "deep.yaml", "name: x\na: " + "[" * 5000 + "]" * 5000 + "\n"),
        [],
        [
            rf"{{path}}:2: invalid YAML: values nested more than {MAX_DEPTH} levels deep "
            rf"\(limit {MAX_DEPTH}\)"
        ],
    )


def _deep_block(d):
    return (
        write(d, "deep.yaml", nested(MAX_DEPTH + 5)),
        [],
        [rf"{{path}}:{MAX_DEPTH}: invalid YAML: values nested more than {MAX_DEPTH} levels deep"],
    )


def _deep_through_aliases(d):
    # Each part is within the limit; the alias puts one inside the other.
    inner = "inner: &deep " + "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3) + "\n"
    outer = "outer: " + "[" * (MAX_DEPTH - 3) + "*deep" + "]" * (MAX_DEPTH - 3) + "\n"
    return (
        write(d, "deep.yaml", inner + outer),
        [],
        [
            rf"{{path}}:\d+: invalid YAML: values nested more than {MAX_DEPTH} levels deep "
            r"\(limit \d+\) once aliases are expanded"
        ],
    )


def _python_object(d):
    marker = d / "pwned"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    return (
        write(d, "evil.yaml", text),
        [],
        [
            r"{path}:1: invalid YAML: could not determine a constructor for the tag "
            r"'tag:yaml.org,2002:python/object/apply:os.system'"
        ],
    )


def _python_name(d):
    return (
        write(d, "evil.yaml", "seed: 1\nname: !!python/name:os.system\n"),
        [],
        [
            r"{path}:2: invalid YAML: could not determine a constructor for the tag "
            r"'tag:yaml.org,2002:python/name:os.system'"
        ],
    )


def _tag_that_cannot_convert(d):
    return (
        write(d, "tags.yaml", "name: x\nseed: !!int abc\n"),
        [],
        [
            r"{path}:2: invalid YAML: cannot read the value as !!int "
            r"\(invalid literal for int\(\) with base 10: 'abc'\)"
        ],
    )


def _impossible_tagged_date(d):
    return (
        write(d, "tags.yaml", "start: !!timestamp 2026-02-30\n"),
        [],
        [r"{path}:1: invalid YAML: cannot read the value as !!timestamp \(day is out of range for month\)"],
    )


def _integer_of_5000_digits(d):
    return (
        write(d, "big.yaml", "name: x\nseed: " + "9" * 5000 + "\n"),
        [],
        [r"{path}:2: invalid YAML: cannot read the value as !!int \(Exceeds the limit \(4300 digits\)"],
    )


def _binary(d):
    return (
        write(d, "blob.yaml", b"name: x\n" + bytes(range(256)) * 16),
        [],
        [r"{path}:2: not a text file \(a NUL byte at offset 8\): a scenario is YAML text"],
    )


def _latin1(d):
    return (
        write(d, "latin1.yaml", "name: x\ndescription: café\n".encode("latin-1")),
        [],
        [r"{path}:2: not UTF-8 text \(byte 0xe9 at column 17\); save the file as UTF-8"],
    )


def _utf16(d):
    return (
        write(d, "wide.yaml", "name: x\n".encode("utf-16")),
        [],
        [r"{path}:1: not UTF-8 text \(UTF-16, by its byte-order mark\); save the file as UTF-8"],
    )


def _control_character(d):
    return (
        write(d, "ctrl.yaml", "name: x\ndescription: a\x07b\n"),
        [],
        [r"{path}:2: invalid YAML: control character #x0007 is not allowed"],
    )


def _huge_file(d):
    path = d / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(11 * 2**20)  # sparse: 11 MiB on paper, nothing to parse
    return (
        path,
        [],
        [
            rf"{{path}}: file too large: a scenario file must be at most 256 KiB, {MAX_FILE_BYTES:,} bytes "
            r"\(got 11\.0 MiB, 11,534,336 bytes\)"
        ],
    )


def _device(d):
    return Path("/dev/zero"), [], [r"{path}: cannot read file \(not a regular file\)"]


def _fifo(d):
    path = d / "pipe.yaml"
    os.mkfifo(path)  # opening it would wait for a writer forever
    return path, [], [r"{path}: cannot read file \(not a regular file\)"]


def _symlink_loop(d):
    path = d / "loop.yaml"
    path.symlink_to(path)
    return path, [], [r"{path}: cannot read file \(a symbolic link loop\)"]


def _nan_and_infinity_anywhere(d):
    text = (
        "name: x\n"
        "horizon_days: .nan\n"
        "buyers:\n"
        "  orders_per_hour: .inf\n"
        "  retry_delay: {dist: empirical, values: [1, .NaN]}\n"
        "  arrival_profile:\n"
        "    promotions: [{start: 2026-01-10, multiplier: .inf}]\n"
        "sellers:\n"
        "  pricing: {margin_mean: -.inf}\n"  # a plain float, with no bound to catch it
        "platform:\n"
        "  fraud: {intercept: .nan}\n"
    )
    finite = "Input should be a finite number"
    return (
        write(d, "nan.yaml", text),
        [],
        [
            rf"{{path}}:2: horizon_days: {finite} \(got nan\)",
            rf"{{path}}:4: buyers.orders_per_hour: {finite} \(got inf\)",
            rf"{{path}}:5: buyers.retry_delay.values.1: {finite} \(got nan\)",
            rf"{{path}}:7: buyers.arrival_profile.promotions.0.multiplier: {finite} \(got inf\)",
            rf"{{path}}:9: sellers.pricing.margin_mean: {finite} \(got -inf\)",
            rf"{{path}}:11: platform.fraud.intercept: {finite} \(got nan\)",
        ],
    )


def _nan_from_set(d):
    return (
        write(d, "ok.yaml", "name: x\n"),
        ["--set", "buyers.fraud_rate=.nan", "--set", "seed=.inf"],
        [
            r"--set: seed: Input should be a finite number \(got inf\)",
            r"--set: buyers.fraud_rate: Input should be a finite number \(got nan\)",
        ],
    )


def _impossible_durations(d):
    text = (
        "buyers:\n"
        "  retry_delay: {dist: constant, value: -2, unit: minutes}\n"
        "  verification_time: {dist: lognormal, mean: 5, sd: -1}\n"
        "  confirm_time: {dist: exponential, mean: 0, unit: days}\n"
        "  cancel:\n"
        "    request_time: {dist: lognormal, mean: 1.0e-300, sd: 1.0e+300}\n"
        "sellers:\n"
        "  handling_time: {dist: gamma, mean: 1.0e+300, sd: 1.0e-300}\n"
        "  first_look_time: {dist: triangular, low: 1, mode: 9, high: 3}\n"
        "  cancel_response_time: {dist: empirical, values: [1, 2], weights: [1.0e+308, 1.0e+308]}\n"
        "platform:\n"
        "  ship_by_days: 0\n"
    )
    return (
        write(d, "durations.yaml", text),
        [],
        [
            r"{path}:2: buyers.retry_delay.value: Input should be greater than or equal to 0 \(got -2\)",
            r"{path}:3: buyers.verification_time.sd: Input should be greater than 0 \(got -1\)",
            r"{path}:4: buyers.confirm_time.mean: Input should be greater than 0 \(got 0\)",
            r"{path}:6: buyers.cancel.request_time: sd / mean is too large for a lognormal "
            r"\(got mean=1e-300, sd=1e\+300\)",
            r"{path}:8: sellers.handling_time: mean / sd is out of range for a gamma: "
            r"shape \(mean/sd\)\^2 and scale sd\^2/mean must be finite and > 0 "
            r"\(got mean=1e\+300, sd=1e-300\)",
            r"{path}:9: sellers.first_look_time: needs low <= mode <= high and low < high "
            r"\(got low=1.0, mode=9.0, high=3.0\)",
            r"{path}:10: sellers.cancel_response_time: weights must have a finite sum \(got sum inf\)",
            r"{path}:12: platform.ship_by_days: Input should be greater than 0 \(got 0\)",
        ],
    )


def _numbers_that_would_crash_or_stall_the_run(d):
    # Each passed the old rules and then overflowed numpy or math mid-run, or scheduled events
    # that never let the clock advance.
    text = (
        "buyers:\n"
        "  extra_items_mean: 1.0e+300\n"
        "  trust: {refund_patience_bdays: 1.0e+300}\n"
        "  arrival_profile: {weekday: [1.0e+308, 1.0e+308, 1.0e+308, 1, 1, 1, 1]}\n"
        "sellers:\n"
        "  initial_stock_mean: 1.0e+300\n"
        "  record_error_mean: 1.0e+300\n"
        "  shrinkage_per_sku_day: 1.0e+300\n"
        "  handling_speed_sd: 1.0e+300\n"
        "  strategy: {sync_interval_days: 1.0e-9, repricing_interval_days: 1.0e-300}\n"
        "  pricing: {fx_daily_volatility: 1.0e+300}\n"
        "payment:\n"
        "  max_retries: 1000000000000\n"
        "platform:\n"
        "  fraud: {intercept: -1.0e+300, noise_sd: 1.0e+300}\n"
        "refunds:\n"
        "  card_delay_bdays: {dist: constant, value: 1.0e+300, unit: days}\n"
    )
    at_most = r"Input should be less than or equal to"
    hourly = r"Input should be greater than or equal to 0\.04166\d*"
    return (
        write(d, "extreme.yaml", text),
        [],
        [
            rf"{{path}}:2: buyers.extra_items_mean: {at_most} 100 \(got 1e\+300\)",
            rf"{{path}}:3: buyers.trust.refund_patience_bdays: {at_most} 3650 \(got 1e\+300\)",
            r"{path}:4: buyers.arrival_profile.weekday: relative rates must have a finite sum "
            r"\(got sum inf\)",
            rf"{{path}}:6: sellers.initial_stock_mean: {at_most} 1000000 \(got 1e\+300\)",
            rf"{{path}}:7: sellers.record_error_mean: {at_most} 100 \(got 1e\+300\)",
            rf"{{path}}:8: sellers.shrinkage_per_sku_day: {at_most} 1 \(got 1e\+300\)",
            rf"{{path}}:9: sellers.handling_speed_sd: {at_most} 10 \(got 1e\+300\)",
            rf"{{path}}:10: sellers.strategy.sync_interval_days: {hourly} \(got 1e-09\)",
            rf"{{path}}:10: sellers.strategy.repricing_interval_days: {hourly} \(got 1e-300\)",
            rf"{{path}}:11: sellers.pricing.fx_daily_volatility: {at_most} 1 \(got 1e\+300\)",
            rf"{{path}}:13: payment.max_retries: {at_most} 20 \(got 1000000000000\)",
            r"{path}:15: platform.fraud.intercept: Input should be greater than or equal to -50 "
            r"\(got -1e\+300\)",
            rf"{{path}}:15: platform.fraud.noise_sd: {at_most} 20 \(got 1e\+300\)",
            r"{path}:17: refunds.card_delay_bdays: mean must be at most 3650 business days \(got 1e\+300\)",
        ],
    )


def _warmup_beyond_horizon(d):
    return (
        write(d, "warm.yaml", "horizon_days: 30\nwarmup_days: 45\n"),
        [],
        [r"{path}:2: warmup_days: must be < horizon_days \(got warmup_days=45.0 >= horizon_days=30.0\)"],
    )


def _extends_too_deep(d):
    n = MAX_EXTENDS + 1
    for i in range(n):
        write(d, f"s{i}.yaml", f"extends: s{i + 1}.yaml\n" if i < n - 1 else "name: root\n")
    chain = " -> ".join(f"s{i}.yaml" for i in range(MAX_EXTENDS))
    return (
        d / "s0.yaml",
        [],
        [
            rf"{re.escape(str(d))}/s{MAX_EXTENDS - 1}.yaml:1: extends: "
            rf"a chain may hold at most {MAX_EXTENDS} files "
            rf"\(got more: {re.escape(chain)} -> s{MAX_EXTENDS}.yaml\)"
        ],
    )


def _extends_cycle(d):
    write(d, "b.yaml", "extends: a.yaml\n")
    return (
        write(d, "a.yaml", "name: a\nextends: b.yaml\n"),
        [],
        [rf"{re.escape(str(d.resolve()))}/b.yaml: extends: cycle detected \(a.yaml -> b.yaml -> a.yaml\)"],
    )


def _extends_a_folder(d):
    (d / "base").mkdir()
    return (
        write(d, "child.yaml", "name: c\nextends: base\n"),
        [],
        [r"{path}:2: extends: must be a scenario file, not a folder \(got 'base'\)"],
    )


def _extends_a_device(d):
    return (
        write(d, "child.yaml", "name: c\nextends: /dev/zero\n"),
        [],
        [r"{path}:2: extends: must be a regular file, not a device or pipe \(got '/dev/zero'\)"],
    )


def _extends_a_name_too_long(d):
    return (
        write(d, "child.yaml", f"extends: {'a' * 300}.yaml\n"),
        [],
        [r"{path}:1: extends: cannot read file \(.+\) \(got 'a+\.yaml'\)"],
    )


def _volume_orders(d):
    text = "name: flood\nhorizon_days: 365\nbuyers:\n  orders_per_hour: 1.0e+9\n"
    return (
        write(d, "flood.yaml", text),
        [],
        [
            r"{path}: "
            r"buyers.orders_per_hour, horizon_days: run too large for memory: about 8,760,000,000,000 orders "
            r"\(1e\+09/hour over 365 days, arrival profile and promotions included\), "
            r"25,300 buyer accounts and 16,000 SKUs need an estimated 5,694,000.\d GB; "
            r"the limit is [\d,.]+ GB "
            r"\(80% of this machine's [\d,.]+ GB; set SIMCORE_MEMORY_LIMIT_GB to change it\)"
        ],
    )


def _volume_promotion(d):
    # Modest demand, but a 30-day promotion multiplying it a million-fold.
    text = (
        "buyers:\n  orders_per_hour: 1\n  arrival_profile:\n"
        "    promotions: [{start: 2026-01-10, days: 30, multiplier: 1.0e+6}]\n"
    )
    return (
        write(d, "promo.yaml", text),
        [],
        [r"{path}: buyers.orders_per_hour, horizon_days: run too large for memory: about 720,"],
    )


def _volume_buyers(d):
    return (
        write(d, "crowd.yaml", "buyers:\n  population: 1000000000000\n"),
        [],
        [
            r"{path}: "
            r"buyers.population, buyers.fraud.population: run too large for memory: about 36,000 orders "
            r".* 1,000,000,000,300 buyer accounts"
        ],
    )


def _volume_catalog(d):
    return (
        write(d, "catalog.yaml", "sellers:\n  count: " + "9" * 400 + "\n  skus_per_seller: 40\n"),
        [],
        [
            r"{path}: "
            r"sellers.count, sellers.skus_per_seller: run too large for memory: .* and 1e308\+ SKUs need an "
            r"estimated 1e299\+ GB"
        ],
    )


CASES: dict[str, Case] = {
    "alias-bomb": _bomb,
    "recursive-alias": _recursive_alias,
    "too-many-values": _too_many_values,
    "deep-flow-nesting": _deep_flow,
    "deep-block-nesting": _deep_block,
    "deep-through-aliases": _deep_through_aliases,
    "python-object-tag": _python_object,
    "python-name-tag": _python_name,
    "tag-that-cannot-convert": _tag_that_cannot_convert,
    "impossible-tagged-date": _impossible_tagged_date,
    "integer-of-5000-digits": _integer_of_5000_digits,
    "binary-garbage": _binary,
    "not-utf8": _latin1,
    "utf16": _utf16,
    "control-character": _control_character,
    "huge-file": _huge_file,
    "device-file": _device,
    "named-pipe": _fifo,
    "symlink-loop": _symlink_loop,
    "nan-and-infinity-anywhere": _nan_and_infinity_anywhere,
    "nan-from-set": _nan_from_set,
    "impossible-durations": _impossible_durations,
    "numbers-that-would-crash-or-stall-the-run": _numbers_that_would_crash_or_stall_the_run,
    "warmup-beyond-horizon": _warmup_beyond_horizon,
    "extends-too-deep": _extends_too_deep,
    "extends-cycle": _extends_cycle,
    "extends-a-folder": _extends_a_folder,
    "extends-a-device": _extends_a_device,
    "extends-a-name-too-long": _extends_a_name_too_long,
    "volume-orders": _volume_orders,
    "volume-promotion": _volume_promotion,
    "volume-buyers": _volume_buyers,
    "volume-catalog": _volume_catalog,
}
#: Cases that concern the run, not the file: ``validate`` accepts them.
RUN_ONLY = {name for name in CASES if name.startswith("volume-")}


@pytest.mark.parametrize("command", ["run", "validate"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_is_refused_fast_with_every_problem_and_nothing_written(
    tmp_path, capsys, case, command
):
    if case in ("device-file", "extends-a-device") and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    if command == "validate" and case in RUN_ONLY:
        pytest.skip("a run-time limit: the file itself is valid")
    folder = tmp_path / "in"
    folder.mkdir()
    scenario, extra, expected = CASES[case](folder)
    out = tmp_path / "out"
    argv = (
        ["run", str(scenario), "--out", str(out), "--quiet"]
        if command == "run"
        else ["validate", str(scenario)]
    )
    err = refuse([*argv, *extra], capsys)
    lines = err.splitlines()[1:]
    assert len(lines) == len(expected), err
    for line, pattern in zip(lines, expected, strict=True):
        assert re.match("  " + pattern.replace("{path}", re.escape(str(scenario))), line), (line, pattern)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no temporary folder left either
    assert not (folder / "pwned").exists()  # the python-object case ran nothing


# --------------------------------------------------------------------------- the limits' edges


def test_a_file_at_the_size_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("simcore.scenario.yamlfile.MAX_FILE_BYTES", 100)
    text = "name: edge\n" + "#" * 88 + "\n"
    assert len(text.encode()) == 100
    assert load_scenario(write(tmp_path, "edge.yaml", text)).name == "edge"
    with pytest.raises(
        ScenarioError, match=r"file too large: a scenario file must be at most 100 bytes \(got 101 bytes\)$"
    ):
        load_scenario(write(tmp_path, "over.yaml", text + "#"))


def test_aliases_within_the_limits_still_load(tmp_path):
    text = (
        "delay: &slow {dist: exponential, mean: 3, unit: days}\n"
        "buyers: {confirm_time: *slow}\n"
        "sellers: {cancel_response_time: *slow, handling_time: *slow}\n"
    )
    # An unknown top-level key is the only problem: the aliases themselves were fine.
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "anchors.yaml", text.replace("delay:", "x-delay:")))
    assert [p.split(": ", 2)[1:] for p in info.value.problems] == [["x-delay", "unknown key"]]


def test_nesting_at_the_depth_limit_is_not_refused_for_depth(tmp_path):
    # nested(n) puts its last value n + 2 levels deep.
    [problem] = _problems(write(tmp_path, "deep.yaml", nested(MAX_DEPTH - 2)))
    assert problem.endswith(": k0: unknown key")
    [problem] = _problems(write(tmp_path, "deeper.yaml", nested(MAX_DEPTH - 1)))
    assert problem.endswith(
        f": invalid YAML: values nested more than {MAX_DEPTH} levels deep (limit {MAX_DEPTH})"
    )


def test_a_defaulted_warmup_past_a_short_horizon_names_warmup_days():
    with pytest.raises(ScenarioError) as info:
        simcore.scenario_from_dict({"horizon_days": 10})
    assert info.value.problems == [
        "<dict>: warmup_days: must be < horizon_days (got warmup_days=20.0 >= horizon_days=10.0)"
    ]


def test_a_chain_of_the_maximum_length_loads(tmp_path):
    for i in range(MAX_EXTENDS):
        write(tmp_path, f"s{i}.yaml", f"extends: s{i + 1}.yaml\n" if i < MAX_EXTENDS - 1 else "seed: 42\n")
    assert load_scenario(tmp_path / "s0.yaml").seed == 42


def test_extends_to_a_missing_file_in_a_missing_folder(tmp_path):
    [problem] = _problems(write(tmp_path, "c.yaml", "extends: nowhere/p.yaml\n"))
    assert problem == f"{tmp_path / 'c.yaml'}:1: extends: file not found (got 'nowhere/p.yaml')"


def test_set_value_past_a_limit_names_the_limit():
    with pytest.raises(ScenarioError) as info:
        simcore.parse_overrides(["buyers=" + "[" * 100 + "]" * 100])
    assert info.value.problems[0].startswith(
        f"override buyers: values nested more than {MAX_DEPTH} levels deep"
    )


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


# --------------------------------------------------------------------------- memory volume


def test_expected_orders_integrate_the_promotions(tmp_path):
    scn = simcore.scenario_from_dict(
        {
            "start": "2026-01-05",
            "horizon_days": 10,
            "warmup_days": 1,
            "cooldown_days": 0,
            "buyers": {
                "orders_per_hour": 2.0,
                "arrival_profile": {
                    "weekday": [1, 1, 1, 1, 1, 3, 3],
                    "promotions": [
                        {"start": "2026-01-07", "days": 2, "multiplier": 5},  # days 2-4
                        {"start": "2026-01-08", "days": 1, "multiplier": 3},  # day 3, overlapping: x15
                        {"start": "2026-01-14", "days": 5, "multiplier": 2},  # day 9 on, cut at 10
                        {"start": "2025-12-01", "days": 3, "multiplier": 100},  # before the start
                    ],
                },
            },
        }
    )
    day = 2.0 * 24
    assert expected_orders(scn) == pytest.approx(day * (7 * 1 + 5 + 15 + 2))  # 7 plain days


def test_baseline_is_well_within_the_default_limit():
    scn = load_scenario(SCENARIOS / "baseline.yaml")
    # 180 days at 12.5 orders an hour, less half the orders of the 9 days of Chinese New Year.
    assert expected_orders(scn) == pytest.approx(12.5 * 24 * (180 - 9 * 0.5))
    check_volume(scn)  # does not raise


def test_memory_limit_from_the_environment(monkeypatch, tmp_path, capsys):
    scenario = write(tmp_path, "s.yaml", "name: s\n")
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0.05")
    err = refuse(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert re.search(
        r"run too large for memory: about 36,000 orders .* need an estimated 0.2 GB; the limit is 0.1 GB "
        r"\(set by SIMCORE_MEMORY_LIMIT_GB\)",
        err,
    ), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["lots", "0", "-3", "nan", "inf"])
def test_memory_limit_override_must_be_a_positive_number(monkeypatch, value):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, value)
    with pytest.raises(
        ArgumentError, match=rf"^SIMCORE_MEMORY_LIMIT_GB: must be a number of GB > 0 \(got '{value}'\)$"
    ):
        check_volume(simcore.Scenario())


def test_programmatic_runs_are_checked_too(tmp_path):
    path = write(tmp_path, "flood.yaml", "buyers:\n  orders_per_hour: 1.0e+9\n")
    with pytest.raises(
        ScenarioError, match=rf"^{re.escape(str(path))}: buyers.orders_per_hour, horizon_days: run too large"
    ):
        simcore.run(path)
    with pytest.raises(ScenarioError, match=r"^buyers.orders_per_hour, horizon_days: run too large"):
        simcore.run(load_scenario(path))


def test_estimates_overflow_to_infinity_not_an_error():
    scn = simcore.scenario_from_dict({"sellers": {"count": 10**400}})
    from simcore.experiments.admission import estimated_memory

    assert estimated_memory(scn) == math.inf


# --------------------------------------------------------------------------- --out


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a folder without write permission")
def test_out_in_a_folder_without_write_permission(tmp_path, capsys):
    scenario = write(tmp_path, "s.yaml", "name: s\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        err = refuse(["run", str(scenario), "--out", str(locked / "out"), "--quiet"], capsys)
        assert f"  --out: cannot write in {str(locked)!r} (Permission denied)\n" in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_out_where_nothing_can_be_written_is_refused_before_the_run(tmp_path, capsys):
    # /proc refuses new folders even to root, for whom os.access says yes.
    scenario = write(tmp_path, "s.yaml", "name: s\n")
    err = refuse(["run", str(scenario), "--out", "/proc/simcore-out", "--quiet"], capsys)
    assert "  --out: cannot write in '/proc'" in err
