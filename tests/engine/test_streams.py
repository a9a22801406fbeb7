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


# ---------------------------------------------------------------------------------- keyed streams


def test_a_keyed_stream_gives_a_key_the_same_numbers_in_any_order():
    first, second = (
        Streams(seed(7), 1).keyed("orders.repayment"),
        Streams(seed(7), 1).keyed("orders.repayment"),
    )
    ahead = {k: first(k).random(8) for k in (5, 0, 2**40, 17)}
    for k in (17, 2**40, 0, 5):  # the other order, and a key asked twice
        np.testing.assert_array_equal(second(k).random(8), ahead[k])
        np.testing.assert_array_equal(second(k).random(8), ahead[k])


def test_keyed_streams_differ_by_key_name_seed_and_replication_and_are_uniform():
    base = Streams(seed(7), 1).keyed("a")
    others = [
        Streams(seed(7), 1).keyed("b"),
        Streams(seed(7) + 1, 1).keyed("a"),
        Streams(seed(7), 2).keyed("a"),
    ]
    for other in others:
        assert not np.array_equal(base(3).random(4), other(3).random(4))
    # One draw from each of 20,000 consecutive keys: uniform on [0, 1) and uncorrelated with the
    # next key's (a counter-based stream must not make neighbouring keys alike). Tolerances:
    # the mean's standard error is 0.002 and the correlation's 0.007; 5 of each is far beyond
    # chance (p < 1e-6) yet catches any structure between keys.
    x = np.array([base(k).random() for k in range(20_000)])
    assert abs(x.mean() - 0.5) < 5 * math.sqrt(1 / 12 / len(x))
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 5 / math.sqrt(len(x))


def test_a_keyed_stream_refuses_negative_keys_and_a_name_taken_twice():
    streams = Streams(seed(7))
    keyed = streams.keyed("a")
    with pytest.raises(ValueError, match="negative"):
        keyed(-1)
    with pytest.raises(ValueError, match="requested twice"):
        streams.keyed("a")
    with pytest.raises(ValueError, match="requested twice"):
        streams.generator("a")
