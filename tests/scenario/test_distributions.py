"""Distribution specs and block samplers: moments against theory, units, determinism, validation.

Moment checks use one seeded generator (its seed moved by ``SIMCORE_TEST_SEED``) and a tolerance
of a few standard errors, so they are deterministic for a seed and fast (they draw numbers, they
do not run the model).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from simcore.model.context import spec_sampler
from simcore.scenario.distributions import (
    DIST_NAMES,
    HOURS_PER_UNIT,
    Constant,
    Duration,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)
from tests.conftest import seed

N_DRAWS = 200_000
#: Standard errors allowed between a sample moment and its theoretical value over N_DRAWS draws:
#: 5 SE is a two-sided 99.99994% level under the normal approximation (18 moment comparisons:
#: a correct sampler fails one on about 1 seed in 100,000). It keeps the check meaningful: a
#: wrong parametrisation (a mean or sd 1% off, an sd taken for a variance) is off by tens of SE.
Z = 5.0


def _draws(spec, n: int = N_DRAWS, seed: int = seed(20260105), unit: str = "hours") -> np.ndarray:
    sample = spec_sampler(spec, np.random.default_rng(seed), unit=unit)
    return np.array([sample() for _ in range(n)])


def _triangular_var(a: float, c: float, b: float) -> float:
    return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0


# (spec, theoretical mean, theoretical sd), all in hours.
MOMENT_CASES = [
    pytest.param(Exponential(dist="exponential", mean=3.0), 3.0, 3.0, id="exponential"),
    pytest.param(Lognormal(dist="lognormal", mean=2.0, sd=1.0), 2.0, 1.0, id="lognormal"),
    pytest.param(Lognormal(dist="lognormal", mean=0.5, sd=0.6), 0.5, 0.6, id="lognormal-cv1.2"),
    pytest.param(Gamma(dist="gamma", mean=5.0, sd=2.0), 5.0, 2.0, id="gamma"),
    pytest.param(Gamma(dist="gamma", mean=1.0, sd=3.0), 1.0, 3.0, id="gamma-shape<1"),
    pytest.param(Uniform(dist="uniform", low=1.0, high=4.0), 2.5, 3.0 / math.sqrt(12.0), id="uniform"),
    pytest.param(
        Triangular(dist="triangular", low=1.0, mode=2.0, high=6.0),
        3.0,
        math.sqrt(_triangular_var(1.0, 2.0, 6.0)),
        id="triangular",
    ),
    pytest.param(
        Empirical(dist="empirical", values=[1.0, 2.0, 10.0], weights=[5.0, 3.0, 2.0]),
        0.5 * 1 + 0.3 * 2 + 0.2 * 10,
        math.sqrt(0.5 * 1 + 0.3 * 4 + 0.2 * 100 - 3.1**2),
        id="empirical-weighted",
    ),
    pytest.param(
        Empirical(dist="empirical", values=[1.0, 2.0, 6.0]),
        3.0,
        math.sqrt((4 + 1 + 9) / 3.0),
        id="empirical-equal",
    ),
]


@pytest.mark.statistical
@pytest.mark.parametrize(("spec", "mean", "sd"), MOMENT_CASES)
def test_sample_mean_matches_parameters(spec, mean, sd):
    x = _draws(spec)
    assert spec.mean_hours == pytest.approx(mean, rel=1e-12)
    se = sd / math.sqrt(x.size)
    assert abs(x.mean() - mean) < Z * se, f"sample mean {x.mean():.5f} vs {mean:.5f} (se {se:.5f})"


@pytest.mark.statistical
@pytest.mark.parametrize(("spec", "mean", "sd"), MOMENT_CASES)
def test_sample_sd_matches_parameters(spec, mean, sd):
    x = _draws(spec)
    sq = (x - x.mean()) ** 2
    # Standard error of the sample variance, estimated from the sample's fourth moment.
    se_var = sq.std(ddof=1) / math.sqrt(x.size)
    assert abs(sq.mean() - sd**2) < Z * se_var, f"sample sd {math.sqrt(sq.mean()):.5f} vs {sd:.5f}"


@pytest.mark.trace
def test_constant_always_returns_its_value():
    assert set(_draws(Constant(dist="constant", value=2.75), n=3000)) == {2.75}
    assert set(_draws(Constant(dist="constant", value=0.0), n=10)) == {0.0}
    assert Constant(dist="constant", value=2.75).mean_hours == 2.75


@pytest.mark.statistical
def test_empirical_respects_weights():
    spec = Empirical(dist="empirical", values=[1.0, 2.0, 3.0], weights=[0.0, 3.0, 1.0])
    x = _draws(spec, n=40_000)
    assert set(np.unique(x)) == {2.0, 3.0}, "a value of weight 0 was drawn"
    share = (x == 2.0).mean()
    assert abs(share - 0.75) < Z * math.sqrt(0.75 * 0.25 / x.size)
    assert spec.mean_hours == pytest.approx(0.75 * 2 + 0.25 * 3)


@pytest.mark.statistical
def test_empirical_without_weights_is_uniform_over_values():
    x = _draws(Empirical(dist="empirical", values=[4.0, 5.0, 6.0, 7.0]), n=40_000)
    for v in (4.0, 5.0, 6.0, 7.0):
        assert abs((x == v).mean() - 0.25) < Z * math.sqrt(0.25 * 0.75 / x.size)


# ---------------------------------------------------------------------------------- units


@pytest.mark.trace
def test_hours_per_unit_table():
    assert HOURS_PER_UNIT == {"seconds": 1 / 3600, "minutes": 1 / 60, "hours": 1.0, "days": 24.0}


@pytest.mark.trace
@pytest.mark.parametrize(
    ("value", "spec_unit", "out_unit", "expected"),
    [
        (90.0, "minutes", "hours", 1.5),
        (7200.0, "seconds", "hours", 2.0),
        (2.0, "days", "hours", 48.0),
        (36.0, "hours", "days", 1.5),
        (2.0, "minutes", "seconds", 120.0),
        (3.0, "hours", "hours", 3.0),
    ],
)
def test_sampler_converts_units(value, spec_unit, out_unit, expected):
    spec = Constant(dist="constant", value=value, unit=spec_unit)
    assert spec_sampler(spec, np.random.default_rng(0), unit=out_unit)() == pytest.approx(expected, rel=1e-12)


@pytest.mark.statistical
@pytest.mark.parametrize(
    ("spec", "hours"),
    [
        (Exponential(dist="exponential", mean=30.0, unit="minutes"), 0.5),
        (Gamma(dist="gamma", mean=2.0, sd=1.0, unit="days"), 48.0),
        (Uniform(dist="uniform", low=0.0, high=7200.0, unit="seconds"), 1.0),
        (Triangular(dist="triangular", low=3, mode=7, high=20, unit="days"), 10.0 * 24),
    ],
)
def test_mean_hours_and_samples_are_in_hours(spec, hours):
    assert spec.mean_hours == pytest.approx(hours, rel=1e-12)
    x = _draws(spec, n=50_000)  # sampler default unit: hours
    # 2% is 4.5 SE or more (the exponential's; the others vary less): two-sided 99.999%. A unit
    # mixed up is off by a factor of 24 or 60.
    assert abs(x.mean() / hours - 1.0) < 0.02


@pytest.mark.property
def test_sampler_is_draw_times_unit_factor():
    spec = Lognormal(dist="lognormal", mean=20.0, sd=10.0, unit="minutes")
    in_hours = _draws(spec, n=100, seed=seed(3))
    in_minutes = _draws(spec, n=100, seed=seed(3), unit="minutes")
    np.testing.assert_allclose(in_hours * 60.0, in_minutes, rtol=1e-12)


# ---------------------------------------------------------------------------------- determinism

ALL_KINDS = [p.values[0] for p in MOMENT_CASES] + [Constant(dist="constant", value=1.0)]


@pytest.mark.property
@pytest.mark.parametrize("spec", ALL_KINDS, ids=lambda s: s.dist)
def test_sampler_is_deterministic_for_a_seeded_generator(spec):
    # 2500 draws cross several refills of the sampler's block buffer.
    a = _draws(spec, n=2500, seed=seed(11))
    b = _draws(spec, n=2500, seed=seed(11))
    np.testing.assert_array_equal(a, b)
    if not isinstance(spec, Constant):
        assert not np.array_equal(a, _draws(spec, n=2500, seed=seed(12)))


@pytest.mark.property
def test_sampler_serves_the_generators_stream_in_order():
    """Block buffering must not skip or reorder numbers: the sampler's values are the stream's
    exponential variates in order (exponential draws consume the stream sequentially)."""
    spec = Exponential(dist="exponential", mean=2.0)
    direct = np.random.default_rng(seed(5)).exponential(2.0, 3000)
    np.testing.assert_array_equal(_draws(spec, n=3000, seed=seed(5)), direct)


# ---------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"dist": "triangular", "low": 1, "mode": 5, "high": 4}, "low <= mode <= high"),
        ({"dist": "triangular", "low": 3, "mode": 2, "high": 4}, "low <= mode <= high"),
        ({"dist": "triangular", "low": 2, "mode": 2, "high": 2}, "low < high"),
        ({"dist": "uniform", "low": 5, "high": 4}, "high must be >= low"),
        ({"dist": "uniform", "low": -1, "high": 4}, "greater than or equal to 0"),
        ({"dist": "empirical", "values": [1, 2, 3], "weights": [1, 1]}, "one entry per value"),
        ({"dist": "empirical", "values": [1, 2], "weights": [0, 0]}, "must not all be zero"),
        ({"dist": "empirical", "values": []}, "at least 1 item"),
        ({"dist": "empirical", "values": [1, -2]}, "greater than or equal to 0"),
        ({"dist": "exponential", "mean": 0}, "greater than 0"),
        ({"dist": "lognormal", "mean": 0, "sd": 1}, "greater than 0"),
        ({"dist": "lognormal", "mean": 1, "sd": 0}, "greater than 0"),
        ({"dist": "gamma", "mean": 0, "sd": 1}, "greater than 0"),
        ({"dist": "gamma", "mean": -2, "sd": 1}, "greater than 0"),
        ({"dist": "constant", "value": -1}, "greater than or equal to 0"),
        ({"dist": "exponential", "mean": 1, "unit": "weeks"}, "unit"),
        ({"dist": "exponential", "mean": 1, "rate": 2}, "Extra inputs are not permitted"),
        ({"dist": "weibull", "mean": 1}, "dist"),
    ],
)
def test_invalid_parameters_raise_validation_error(data, match):
    with pytest.raises(ValidationError, match=match):
        TypeAdapter(Duration).validate_python(data)


def test_duration_dispatches_on_dist():
    adapter = TypeAdapter(Duration)
    examples = {
        "constant": {"value": 1},
        "exponential": {"mean": 1},
        "lognormal": {"mean": 1, "sd": 1},
        "gamma": {"mean": 1, "sd": 1},
        "uniform": {"low": 0, "high": 1},
        "triangular": {"low": 0, "mode": 0.5, "high": 1},
        "empirical": {"values": [1]},
    }
    assert set(examples) == set(DIST_NAMES)
    for name, params in examples.items():
        spec = adapter.validate_python({"dist": name, **params})
        assert spec.dist == name
        assert type(spec).__name__.lower() == name


@pytest.mark.property
def test_specs_are_frozen():
    spec = Exponential(dist="exponential", mean=1.0)
    with pytest.raises(ValidationError):
        spec.mean = 2.0


# ---------------------------------------------------------------------------------- properties

_units = st.sampled_from(["seconds", "minutes", "hours", "days"])
_means = st.floats(min_value=1e-3, max_value=1e4)
_cvs = st.floats(min_value=1e-2, max_value=10.0)


@pytest.mark.property
@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from([Lognormal, Gamma]), mean=_means, cv=_cvs, unit=_units, seed=st.integers(0, 2**32)
)
def test_lognormal_and_gamma_samples_are_finite_and_nonnegative(kind, mean, cv, unit, seed):
    spec = kind(dist=kind.__name__.lower(), mean=mean, sd=mean * cv, unit=unit)
    x = _draws(spec, n=300, seed=seed)
    assert np.isfinite(x).all()
    assert (x >= 0).all()


@pytest.mark.property
@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(min_value=0, max_value=1e4),
    width=st.floats(min_value=0, max_value=1e4),
    unit=_units,
    seed=st.integers(0, 2**32),
)
def test_uniform_samples_lie_in_low_high(low, width, unit, seed):
    spec = Uniform(dist="uniform", low=low, high=low + width, unit=unit)
    x = _draws(spec, n=300, seed=seed, unit=unit)
    assert (x >= spec.low).all()
    assert (x <= spec.high).all()


@pytest.mark.property
@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(min_value=0, max_value=100),
    a=st.floats(min_value=0, max_value=1),
    width=st.floats(min_value=1e-3, max_value=100),
    seed=st.integers(0, 2**32),
)
def test_triangular_samples_lie_in_low_high(low, a, width, seed):
    high = low + width
    spec = Triangular(dist="triangular", low=low, mode=min(low + a * width, high), high=high)
    x = _draws(spec, n=300, seed=seed)
    assert (x >= low).all()
    assert (x <= high).all()


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(spec_unit=_units, out_unit=_units, mean=_means, seed=st.integers(0, 2**32))
def test_unit_conversion_preserves_duration(spec_unit, out_unit, mean, seed):
    """The same draw expressed in two units is the same length of time."""
    spec = Exponential(dist="exponential", mean=mean, unit=spec_unit)
    hours = _draws(spec, n=50, seed=seed)
    other = _draws(spec, n=50, seed=seed, unit=out_unit)
    np.testing.assert_allclose(other * HOURS_PER_UNIT[out_unit], hours, rtol=1e-12)
