"""Cheap mechanics against the formulations they replaced (tier 3: equivalence properties).

Each speed-up swapped "one SimPy process or event per X" for something cheaper that must give
exactly the same hours, order of actions and random draws. Every test here runs the old
formulation, written out plainly in the test, beside the new one on random inputs and compares
the results bit for bit, so a change that is "nearly" equivalent (an ulp, a tie, an off-by-one
at a horizon) fails here before it shifts every run's numbers. Where the equivalence knowingly
stops, ``test_known_limits`` pins the case.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import types

import numpy as np
import pandas as pd
import pytest
import simpy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import simcore
from simcore.engine.calendar import Calendar
from simcore.engine.clock import rounds, wait_until
from simcore.engine.monitor import QueueMonitor
from simcore.engine.samplers import BLOCK, block_sampler, row_sampler, uniform_sampler
from simcore.engine.station import Station
from simcore.engine.streams import Streams
from simcore.model.arrivals import arrivals
from simcore.model.context import RunContext
from simcore.model.demand import ArrivalRate
from simcore.model.inventory import Inventory
from simcore.model.parcels import Parcels
from simcore.model.recorder import Recorder
from simcore.model.records import error_size_table
from simcore.model.sellers import SellerDesk
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust
from simcore.model.vocabulary import ACTIVITY, ACTOR, STATUS_COMPLETED
from simcore.scenario.distributions import Exponential
from tests.conftest import SCENARIOS, shipped

pytestmark = pytest.mark.property  # tier 3: each cheap mechanic equals the formulation it replaced

SETTINGS = settings(max_examples=50, deadline=None)
seeds = st.integers(0, 2**32 - 1)


@functools.cache
def _scenario(**overrides) -> simcore.Scenario:
    # The parameters only: every stream here is drawn from a seed hypothesis gives (or a
    # literal one that pins a case), never from the scenario's own seed.
    return simcore.load_scenario(SCENARIOS / "baseline.yaml", overrides)


def _streams(seed: int):
    """Exp(1) and U[0, 1) samplers on two streams of ``seed``; each call gives fresh, equal ones."""
    gap = block_sampler(np.random.default_rng(seed).standard_exponential)
    return gap, uniform_sampler(np.random.default_rng([seed, 1]))


# ---- clock ----------------------------------------------------------------------------------

#: From below ``t / 2`` no single delay may land SimPy's clock on ``t``: the delay shares ``t``'s
#: ulp while ``now`` has a half-ulp bit, so every sum is a tie rounded to even and an odd ``t`` is
#: skipped. A one-step wait acted an ulp early there (an early order in ~5% of seeds, a seller
#: round now and then); ``wait_until`` steps past ``t / 2`` first.
UNREACHABLE = (4.0, 5.9340852475390056e16)


@SETTINGS
@given(
    a=st.floats(0.0, 1e300, allow_subnormal=True),
    b=st.floats(0.0, 1e300, allow_subnormal=True),
    shape=st.sampled_from(["as drawn", "equal", "next float"]),
)
@example(a=UNREACHABLE[0], b=UNREACHABLE[1], shape="as drawn")
@example(a=1e-300, b=1e300, shape="as drawn")
@example(a=0.0, b=0.3, shape="as drawn")
def test_wait_until_lands_exactly(a, b, shape):
    """``wait_until`` keeps self-scheduled processes (rounds, arrivals) on the hours they
    computed, from any hour, whether or not one delay can get there."""
    now, t = sorted((a, b))
    t = {"as drawn": t, "equal": now, "next float": math.nextafter(now, math.inf)}[shape]
    env = simpy.Environment(initial_time=now)
    env.process(wait_until(env, t))
    env.run()
    assert env.now == t


def _rounds_pair(units: list[float], interval: float, n_rounds: float):
    """(rounds' (hour, actor) calls, the same from one process per actor, and the latter's
    calls on to a round past the horizon: the hours the clock steps to)."""
    phases, horizon = [u * interval for u in units], n_rounds * interval
    env, ref_env = simpy.Environment(), simpy.Environment()
    got: list[tuple[float, int]] = []
    want: list[tuple[float, int]] = []
    env.process(rounds(env, phases, interval, lambda i: got.append((env.now, i))))

    def actor(i: int, phase: float):
        yield ref_env.timeout(phase)
        while True:
            want.append((ref_env.now, i))
            yield ref_env.timeout(interval)

    for i, phase in enumerate(phases):
        ref_env.process(actor(i, phase))
    env.run(until=horizon)
    ref_env.run(until=horizon + interval)
    return got, [(h, i) for h, i in want if h < horizon], want


@SETTINGS
@given(
    units=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=8),
    interval=st.floats(0.1, 500.0),
    n_rounds=st.floats(0.01, 30.0),
)
def test_rounds_match_one_process_per_actor(units, interval, n_rounds):
    """One heap-driven process acts at the same hours, in the same order (ties of equal phases
    included), as one process per seller waiting its phase and then the interval, over and over."""
    got, want, steps = _rounds_pair(units, interval, n_rounds)
    # Outside the known limit: ties only between equal phases.
    phases_at: dict[float, set[float]] = {}
    for h, i in steps:
        phases_at.setdefault(h, set()).add(units[i])
    assume(all(len(p) == 1 for p in phases_at.values()))
    assert got == want


# ---- service station ----------------------------------------------------------------------------


def _station_times(arrive, service, servers, how: str, mon: QueueMonitor | None = None):
    """(start, end) of each customer's service: through a ``simpy.Resource`` used request/hold/
    release (the old formulation), or a :class:`Station` via ``serve`` or request/release."""
    env = simpy.Environment()
    res = simpy.Resource(env, servers) if how == "resource" else Station(env, mon)
    out = [(math.nan, math.nan)] * len(arrive)

    def customer(i: int):
        yield env.timeout(arrive[i])
        if how == "serve":
            started = []
            yield from res.serve(service[i], lambda: started.append(env.now))
            (start,) = started
        else:
            turn = res.request()
            if turn is not None:
                yield turn
            start = env.now
            yield env.timeout(service[i])
            if how == "resource":
                res.release(turn)
            else:
                res.release()
        out[i] = (start, env.now)

    for i in range(len(arrive)):
        env.process(customer(i))
    env.run()
    assert how == "resource" or (res.busy == 0 and not res.queue)
    return out


@SETTINGS
@given(
    servers=st.integers(1, 3),
    visits=st.lists(st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 5.0)), min_size=1, max_size=40),
    how=st.sampled_from(["serve", "request"]),
)
def test_station_matches_simpy_resource(servers, visits, how):
    """Granting a free server at once and handing a released server straight to the head of
    the line (no grant/release events) must serve everyone at the same hours as a Resource
    (ties included), and the monitor must record the waits and busy time those hours imply."""
    arrive = list(itertools.accumulate(g for g, _ in visits))
    service = [s for _, s in visits]
    mon = QueueMonitor(servers, 0.0)
    got = _station_times(arrive, service, servers, how, mon)
    assert got == _station_times(arrive, service, servers, "resource")

    waits = [start - a for a, (start, _) in zip(arrive, got, strict=True)]
    assert sorted(zip(mon.req_t, mon.wait, strict=True)) == sorted(zip(arrive, waits, strict=True))
    t_end = max(end for _, end in got) + 1.0
    summary = mon.summary(t_end)
    busy = sum(end - start for start, end in got)
    assert summary["requests"] == len(arrive)
    assert summary["utilization"] == pytest.approx(busy / (servers * t_end), rel=1e-9, abs=1e-15)
    # Everyone has been served by t_end, so the queue-length area is the sum of waits.
    assert summary["mean_queue_length"] == pytest.approx(sum(waits) / t_end, rel=1e-9, abs=1e-15)


# ---- inventory shrinkage ------------------------------------------------------------------------


@SETTINGS
@given(
    seed=seeds,
    # Losses alone keep 46% of records accurate at 0.02 a day (quarterly counts): the targets
    # stay below, so that drift has errors to add.
    rate=st.floats(0.005, 0.02),
    accuracy=st.floats(0.05, 0.4),
    visits=st.lists(st.tuples(st.floats(0.0, 3000.0), st.integers(0, 19), st.integers(0, 3)), max_size=25),
)
def test_lazy_losses_and_drift_match_eager_processes(seed, rate, accuracy, visits):
    """Losses and record drift applied on reads (``settle``) leave stock and records exactly as
    two eager SimPy processes on the same streams would: same gaps, same SKUs (drawn in
    proportion to their rates), the empty-shelf and zero-record guards, changes between events."""
    overrides = {
        "sellers.count": 5,
        "sellers.skus_per_seller": 4,
        "sellers.initial_stock_mean": 2,
        "sellers.shrink_share": 0.0,
        "sellers.shrinkage_per_sku_day": rate,
        "sellers.inventory_accuracy": accuracy,
        "sellers.inventory_accuracy_concentration": None,
        "sellers.transaction_error_share": 0.0,  # every error drifts: the process under test
    }
    scn = _scenario(**overrides)
    ctx = RunContext.fresh(scn, seed)
    lazy = Inventory(ctx, count_phase=np.zeros(5))
    drift, loss_rate = np.asarray(lazy._drift_per_day), lazy._loss_per_day.sum() / 24.0
    lazy.start_shrinkage(ctx)
    phys, rec = list(lazy.physical), list(lazy.recorded)  # the eager side's
    initial = sum(phys), list(rec)
    assert drift.sum() > 0
    # The same streams, taken afresh for the eager side.
    twin = RunContext.fresh(scn, seed)
    exp1 = Exponential(dist="exponential", mean=1.0)
    loss_gap, loss_pick = (
        twin.sampler(exp1, "inventory.shrinkage.gap"),
        twin.uniform("inventory.shrinkage.pick"),
    )
    drift_gap, drift_pick = twin.sampler(exp1, "inventory.drift.gap"), twin.uniform("inventory.drift.pick")
    drift_error = twin.uniform("inventory.drift.error")
    loss_cdf = np.cumsum(np.full(20, 1 / 20))
    drift_cdf = np.cumsum(drift / drift.sum())
    sizes = error_size_table(scn.sellers.record_error_mean)
    phantom = scn.sellers.phantom_share
    env = simpy.Environment()

    def losses():
        while True:
            yield env.timeout(loss_gap() / loss_rate)
            sku = min(int(np.searchsorted(loss_cdf, loss_pick(), side="right")), 19)
            if phys[sku] > 0:
                phys[sku] -= 1

    def drifts():
        while True:
            yield env.timeout(drift_gap() / (drift.sum() / 24.0))
            sku = min(int(np.searchsorted(drift_cdf, drift_pick(), side="right")), 19)
            u = drift_error()
            up = u < phantom
            size = 1 + bisect.bisect_right(sizes, u / phantom if up else (u - phantom) / (1 - phantom))
            rec[sku] = max(rec[sku] + (size if up else -size), 0)

    env.process(losses())
    env.process(drifts())
    added = 0
    for h, sku, k in sorted([*visits, (3000.0, 0, 0)]):  # 125 days: ~45 drift errors at least
        lazy.settle(h)
        # settle(h) applies events at or before h: the eager run must include events at h.
        if math.nextafter(h, math.inf) > env.now:
            env.run(until=math.nextafter(h, math.inf))
        assert list(lazy.physical) == phys
        assert list(lazy.recorded) == rec
        lazy.physical[sku] += k
        phys[sku] += k
        added += k
    assert sum(phys) < initial[0] + added  # losses happened: the comparison was not vacuous
    assert rec != initial[1]  # and so did drift


# ---- samplers -----------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(seed=seeds, width=st.integers(1, 12))
def test_block_and_row_samplers_replay_the_stream(seed, width):
    """Block sampling (one numpy call per block) must serve the stream's numbers unchanged and
    in order across block boundaries; rows of a row sampler are the same numbers, regrouped."""
    n = 3 * BLOCK + 517
    draw = block_sampler(np.random.default_rng(seed).random)
    assert [draw() for _ in range(n)] == np.random.default_rng(seed).random(n).tolist()
    row = row_sampler(np.random.default_rng(seed).random, width)
    rows = [row() for _ in range(3 * BLOCK + 5)]
    assert {len(r) for r in rows} == {width}
    assert [x for r in rows for x in r] == np.random.default_rng(seed).random(len(rows) * width).tolist()


# ---- untroubled parcels -------------------------------------------------------------------------


def _parcel_world(placed: list[float], buyers: list[int], sellers: list[int], seed: int):
    scn = _scenario()
    rec = Recorder(0.0)
    for b, s, h in zip(buyers, sellers, placed, strict=True):
        rec.new_order(0, b, s, 0, 0, 1, 10.0, h, False, False, True, 0, 0)
    trust = BuyerTrust(scn.buyers.trust, 4)  # buyers 4 and 5 are fraudulent: no trust kept
    standing = SellerStanding(scn.platform.seller_rating, scn.platform.penalties, 3)
    rng = np.random.default_rng([seed, 2])
    # Each order's confirmation time (drawn with the order), from minutes to weeks: some fall
    # due within the hour being settled.
    return rec, np.exp(rng.uniform(-4.0, 6.0, len(placed))).tolist(), trust, standing


def _parcels(rec: Recorder, _confirm, trust: BuyerTrust, standing: SellerStanding, horizon: float) -> Parcels:
    """Parcels over the test's own recorder, trust and standing, run to hour ``horizon``."""
    scn = _scenario()
    ctx = RunContext(
        env=simpy.Environment(), scn=scn, streams=Streams(0), rec=rec, calendar=Calendar(scn.start)
    )
    return Parcels(ctx, trust=trust, standing=standing, horizon_h=horizon)


def _parcel_state(rec: Recorder, _confirm, trust: BuyerTrust, standing: SellerStanding) -> dict:
    n = rec.n_orders
    state = {
        c: [None if math.isnan(x) else x for x in rec.orders[c][:n]] for c in ("delivered_at", "completed_at")
    }
    state["rows"] = sorted(zip(rec.ev_time, rec.ev_order, rec.ev_activity, rec.ev_actor, strict=True))
    state["status"] = list(rec.orders["status"][:n])
    state |= _parcel_effects(rec, _confirm, trust, standing)
    return state


def _parcel_effects(_rec: Recorder, _confirm, trust: BuyerTrust, standing: SellerStanding) -> dict:
    """What the model reads while the clock runs: trust and ratings."""
    return {"trust": list(trust.trust), "good": list(standing.good), "rating": list(standing.rating)}


def _parcels_pair(seed, ship, transit, buyers, sellers, reads, horizon):
    """(Parcels' trust and ratings after each read and whole state at the horizon, the same from
    a process per order)."""
    world, ref_world = (_parcel_world(ship, buyers, sellers, seed) for _ in range(2))
    parcels = _parcels(*world, horizon)
    rec, confirm, trust, standing = ref_world
    env = simpy.Environment()

    def parcel(oid: int):
        yield env.timeout(ship[oid])  # shipped (from hour 0 the clock lands on any hour)
        yield env.timeout(transit[oid])
        rec.event(env.now, oid, ACTIVITY["delivered"], ACTOR["seller"])
        rec.set("delivered_at", oid, env.now)
        # The buyer confirms, or the platform does at auto_confirm_days (whichever is first).
        auto = _scenario().platform.auto_confirm_days * 24.0
        yield env.timeout(min(confirm[oid], auto))
        rec.event(env.now, oid, ACTIVITY["completed"], ACTOR["buyer" if confirm[oid] < auto else "platform"])
        rec.set("completed_at", oid, env.now)
        rec.set("status", oid, STATUS_COMPLETED)
        trust.reward(buyers[oid])
        standing.order_good(sellers[oid])

    for oid in range(len(ship)):
        env.process(parcel(oid))
    got, want = [], []
    for hour, is_read, oid in sorted(
        [(s, 0, oid) for oid, s in enumerate(ship)] + [(h, 1, -1) for h in reads]
    ):
        if not is_read:
            parcels.ship(oid, hour, transit[oid], confirm[oid])
            continue
        parcels.settle(hour)
        # settle(h) applies what is due at or before h: the reference must process hour h.
        if math.nextafter(hour, math.inf) > env.now:
            env.run(until=math.nextafter(hour, math.inf))
        got.append(_parcel_effects(*world))
        want.append(_parcel_effects(*ref_world))
    parcels.settle(horizon, before=True)
    env.run(until=horizon)
    return [*got, _parcel_state(*world)], [*want, _parcel_state(*ref_world)]


@SETTINGS
@given(seed=seeds, n_orders=st.integers(1, 30), n_reads=st.integers(0, 30), at_horizon=st.booleans())
@example(seed=0, n_orders=1, n_reads=0, at_horizon=True)
def test_parcels_match_one_process_per_order(seed, n_orders, n_reads, at_horizon):
    """Delivering and confirming untroubled parcels from a calendar queue, settled on reads, must give
    the trust and ratings of a process per order at every read, and its event rows and order
    columns at the horizon (recorded at shipment); and, like ``run(until=horizon)``, leave what
    is due at the horizon itself undone."""
    rng = np.random.default_rng(seed)
    horizon = 600.0
    ship = rng.uniform(0.0, horizon, n_orders).tolist()
    transit = np.exp(rng.uniform(-4.0, 6.0, n_orders)).tolist()  # minutes to weeks
    if at_horizon:  # a parcel due exactly at the horizon (shipped after horizon/2: exact sums)
        ship[0] = float(rng.uniform(horizon / 2, horizon))
        transit[0] = horizon - ship[0]
        assert ship[0] + transit[0] == horizon
    people = (rng.integers(0, 6, n_orders).tolist(), rng.integers(0, 3, n_orders).tolist())
    reads = sorted(rng.uniform(0.0, horizon, n_reads).tolist())
    got, want = _parcels_pair(seed, ship, transit, *people, reads, horizon)
    assert got == want
    assert not at_horizon or got[-1]["delivered_at"][0] is None


# ---- seller records ---------------------------------------------------------------------------


@pytest.mark.slow
@SETTINGS
@given(
    seed=seeds,
    n_sellers=st.integers(1, 6),
    steps=st.lists(st.tuples(st.integers(0, 3000), st.floats(0.0, 48.0)), min_size=1, max_size=12),
)
@example(seed=1, n_sellers=1, steps=[(1000, 40.0)] * 16)  # compactions after reinstatements
@example(seed=2, n_sellers=3, steps=[(1000, 40.0)] * 16)
def test_rolling_records_match_an_array_per_seller(seed, n_sellers, steps):
    """The one-log record of seller events (``standing._Rolling``) counts what an array per
    seller trimmed at each review counted. As in ``SellerStanding.review``, records leave the
    window only for sellers active at the review, a suspended seller's records wait until its
    reinstatement clears them, and a seller is suspended only after its own trim; the log's
    compaction (past 4,096 expired rows) shifts nothing."""
    from simcore.model.standing import _Rolling

    rng = np.random.default_rng(seed)
    rolling = _Rolling(n_sellers)
    # Per seller, the records in the window and in the long window (three windows long).
    plain, plain_long = [[] for _ in range(n_sellers)], [[] for _ in range(n_sellers)]
    active = np.ones(n_sellers, dtype=bool)
    now = 0.0
    for n_records, window in steps:
        for _ in range(n_records):  # records between two reviews, in time order (ties too)
            now += float(rng.choice([0.0, rng.exponential(0.05)]))
            s = int(rng.integers(n_sellers))
            rolling.add(s, now)
            plain[s].append(now)
            plain_long[s].append(now)
        since, since_long = now - window, now - 3 * window
        rolling.expire(since, since_long, active.copy())
        for s in range(n_sellers):
            if not active[s]:
                if rng.random() < 0.5:  # reinstated
                    active[s] = True
                    rolling.clear(s)
                    plain[s], plain_long[s] = [], []
                continue
            plain[s] = [t for t in plain[s] if t >= since]
            plain_long[s] = [t for t in plain_long[s] if t >= since_long]
            active[s] = rng.random() >= 0.3  # suspended now and then
        assert list(rolling.count) == [len(p) for p in plain]
        assert list(rolling.long) == [len(p) for p in plain_long]
    assert len(rolling.hours) == len(rolling.sellers)


# ---- arrivals -----------------------------------------------------------------------------------

PROMOTIONS = [
    {"start": "2026-01-08", "days": 1.5, "multiplier": 3.0},
    {"start": "2026-01-09", "multiplier": 2.0},
]
PROFILES = {
    "shaped": {},
    "flat": {"buyers.arrival_profile": "flat"},
    "promotions": {"buyers.arrival_profile.promotions": PROMOTIONS},
}


@functools.cache
def _rate(profile: str) -> ArrivalRate:
    scn = simcore.load_scenario(SCENARIOS / "baseline.yaml", PROFILES[profile])
    return ArrivalRate(scn, Calendar(scn.start))


def _placed_hours(seed: int, until_h: float, profile: str, new: bool) -> list[float]:
    """Hours of the orders placed by ``arrivals`` (``new``) or by one timeout per candidate."""
    rate = _rate(profile)
    assert rate.flat == (profile == "flat")
    peak = rate.max_rate
    env = simpy.Environment()
    hours: list[float] = []
    desk = types.SimpleNamespace(place=lambda: hours.append(env.now))
    gap, thin = _streams(seed)

    def reference():
        while True:
            yield env.timeout(gap() / peak)
            if env.now >= until_h:
                return
            if not rate.flat and thin() * peak >= rate(env.now):
                continue
            desk.place()

    env.process(arrivals(env, rate, gap, thin, until_h, desk.place) if new else reference())
    env.run()
    return hours


def _arrivals_pair(seed: int, until_h: float, profile: str):
    return _placed_hours(seed, until_h, profile, True), _placed_hours(seed, until_h, profile, False)


@SETTINGS
@given(seed=seeds, until_h=st.floats(0.5, 24.0 * 14), profile=st.sampled_from(sorted(PROFILES)))
def test_arrivals_match_one_timeout_per_candidate(seed, until_h, profile):
    """Walking past thinned-out candidates without clock events must place orders at the
    very hours (as floats) of the old process that waited for every candidate."""
    got, want = _arrivals_pair(seed, until_h, profile)
    assert got == want
    assert want or until_h < 2.0


# ---- known limits -------------------------------------------------------------------------------

TIE = "rows due at one hour are taken by key, SimPy takes them by scheduling order"
KNOWN_LIMITS = {
    # Actor 0's second hour, 1e-76 + 1, rounds to actor 1's; actor 1 scheduled it first.
    "rounds-tie": (TIE, lambda: _rounds_pair([4.786293907117551e-76, 0.0], 1.0, 2.0)[:2]),
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, id=name, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=why))
        for name, (why, case) in KNOWN_LIMITS.items()
    ],
)
def test_known_limits(case):
    """Where the cheap mechanics part from the old processes: two rows due at exactly the same
    hour are taken by key rather than by scheduling order, which continuous random durations do
    not produce. A fix shows up as XPASS: drop the mark. (Parcels no longer part: each order
    brings its own confirmation time, so two deliveries at one hour draw nothing in turn.)"""
    got, want = case()
    assert got == want


@pytest.mark.parametrize(
    "case",
    [
        # From actor 1's phase (36.5 h) no single delay reaches actor 0's (126.2 h).
        pytest.param(
            lambda: _rounds_pair([0.6598797524559217, 0.19101034429295363], 191.25, 1.0)[:2], id="rounds"
        ),
        # No single delay takes the clock from the first order (0.113 h) to the second (0.247 h).
        # Seed 18 is the case itself (the hours it draws), so it is not moved by the offset.
        pytest.param(lambda: _arrivals_pair(18, 1.0, "shaped"), id="arrivals"),
    ],
)
def test_hours_no_single_delay_reaches(case):
    """The cases where a one-step wait acted an ulp early now act on the hour."""
    got, want = case()
    assert got == want


# ---- end to end ---------------------------------------------------------------------------------


def test_short_baseline_run_is_deterministic_and_time_ordered():
    """Two runs of one seed give identical frames, and the event log, whose parcel rows are
    recorded late, comes out in time order."""
    scn = shipped("baseline", {"horizon_days": 40, "warmup_days": 5, "cooldown_days": 5})
    first, second = (simcore.run(scn) for _ in range(2))
    pd.testing.assert_frame_equal(first.orders, second.orders, check_exact=True)
    pd.testing.assert_frame_equal(first.events, second.events, check_exact=True)
    hour = first.events["hour"].to_numpy()
    assert hour.size > 0 and (np.diff(hour) >= 0).all()
    assert (first.events["activity"] == "completed").any()  # the parcel path ran


@pytest.mark.slow
def test_parcels_change_nothing_in_a_full_run(monkeypatch):
    """End to end: a run where every shipped parcel goes the process way (the formulation the
    parcel queue replaced) gives the same orders, KPIs, timeseries and sellers, bit for bit, and
    the same event rows. Guards the settlement points: without the settlement before a
    placement or before a troubled parcel draws its confirmation, this fails (tried). The one
    before a trust loss matters only when a clamp or the churn draw falls between a reward and
    the loss, too rare to show in a run this size."""
    scn = shipped(
        "baseline",
        {
            "horizon_days": 60,
            "warmup_days": 5,
            "cooldown_days": 5,
            "sellers.count": 60,  # a small market: churn, ratings and repeat buyers interact more
            "buyers.population": 3000,
        },
    )
    lazy = simcore.run(scn)
    monkeypatch.setattr(SellerDesk, "_troubled", lambda self, o, lost, transit, wait: True)
    eager = simcore.run(scn)
    assert (eager.orders["status"] == "completed").sum() > 1000  # the parcel path mattered
    for name in ("orders", "timeseries", "sellers"):
        pd.testing.assert_frame_equal(getattr(lazy, name), getattr(eager, name), check_exact=True)
    assert lazy.kpis == eager.kpis
    key = ["hour", "order_id", "activity", "actor"]
    pd.testing.assert_frame_equal(
        lazy.events.sort_values(key, kind="stable").reset_index(drop=True),
        eager.events.sort_values(key, kind="stable").reset_index(drop=True),
        check_exact=True,
    )


def test_parcels_due_at_one_hour_match_the_processes():
    """Both parcels arrive at hour 2; order 1's delivery was scheduled first, the due-queue takes
    order 0's first. The outcome is the same: each brings its own confirmation time."""
    got, want = _parcels_pair(0, [1.0, 0.0], [1.0, 2.0], [0, 1], [0, 1], [], 999.0)
    assert got == want
