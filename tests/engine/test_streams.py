"""Named random streams: one root seed, a stream per purpose and replication."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.engine.streams import Streams
from tests.conftest import seed

# Tier 3: determinism and independence, for the root seeds 7 and 1 moved by SIMCORE_TEST_SEED.
pytestmark = pytest.mark.property

# ---------------------------------------------------------------------------------- random streams


def _draw(streams: Streams, name: str, n: int = 64) -> np.ndarray:
    return streams.generator(name).random(n)


def test_same_seed_replication_and_name_give_identical_draws():
    np.testing.assert_array_equal(
        _draw(Streams(seed(7), 3), "buyer.arrivals"), _draw(Streams(seed(7), 3), "buyer.arrivals")
    )


@pytest.mark.parametrize(
    ("other", "name"),
    [
        pytest.param(Streams(seed(7), 4), "buyer.arrivals", id="other-replication"),
        pytest.param(Streams(seed(8), 3), "buyer.arrivals", id="other-seed"),
        pytest.param(Streams(seed(7), 3), "buyer.arrival", id="other-name"),
    ],
)
def test_streams_differ_by_seed_replication_and_name(other, name):
    assert not np.array_equal(_draw(Streams(seed(7), 3), "buyer.arrivals"), _draw(other, name))


def test_replications_are_uncorrelated():
    a = Streams(seed(1), 0).generator("x").standard_normal(20_000)
    b = Streams(seed(1), 1).generator("x").standard_normal(20_000)
    # Independent: the sample correlation is ~N(0, 1/n); 4 SE is a two-sided 99.994% level.
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(a.size)


def test_adding_a_stream_shifts_no_other():
    alone = Streams(seed(7), 0)
    x_alone = _draw(alone, "payment.outcome")
    crowded = Streams(seed(7), 0)
    for name in ("new.stream", "another.one", "buyer.arrivals"):
        _draw(crowded, name, n=1000)
    np.testing.assert_array_equal(_draw(crowded, "payment.outcome"), x_alone)


def test_uniform_sampler_serves_the_named_stream():
    u = Streams(seed(7), 2).uniform("gateway.decisions")
    draws = np.array([u() for _ in range(2000)])
    np.testing.assert_array_equal(draws, Streams(seed(7), 2).generator("gateway.decisions").random(2000))
    assert ((draws >= 0) & (draws < 1)).all()


@pytest.mark.parametrize(
    "second", [lambda s: s.generator("a.b"), lambda s: s.uniform("a.b")], ids=["generator", "uniform"]
)
def test_requesting_a_stream_twice_raises(second):
    streams = Streams(seed(7), 0)
    streams.generator("a.b")
    with pytest.raises(ValueError, match=r"random stream 'a\.b' requested twice"):
        second(streams)
    streams.generator("a.c")  # other names are still available
