"""Shared fixtures: scenario factories for tiny exact runs and the shipped scenarios, and the
seed offset of the seeded tests.

``SIMCORE_TEST_SEED=k python -m pytest`` moves every seed the seeded tests use by ``k`` (unset:
0, the seeds the tests were written with): a test that passes only for its one seed tests the
seed, not the model. The suite passes with ``k`` = 1 to 8.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import simcore
from simcore.model.vocabulary import SIGNALS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

#: Added to every seed of the seeded tests (environment variable SIMCORE_TEST_SEED; unset: 0).
SEED_OFFSET = int(os.environ.get("SIMCORE_TEST_SEED") or 0)
#: The shipped baseline's own seed (scenarios/baseline.yaml).
BASELINE_SEED = 20261111


#: Every fraud signal's weight at 0: the risk score is the intercept and its noise alone.
NO_SIGNALS = {f"platform.fraud.weight_{name}": 0.0 for name in SIGNALS}


def seed(n: int) -> int:
    """A test's seed ``n``, moved by ``SIMCORE_TEST_SEED``."""
    return n + SEED_OFFSET


def shipped(name: str, overrides: dict[str, Any] | None = None) -> simcore.Scenario:
    """Shipped scenario ``name`` (``"baseline"``) with dotted ``overrides``, its seed moved by
    ``SIMCORE_TEST_SEED``."""
    scn = simcore.load_scenario(SCENARIOS / f"{name}.yaml", overrides)
    return scn.model_copy(update={"seed": seed(scn.seed)})


def const(value: float, unit: str = "hours") -> dict:
    return {"dist": "constant", "value": value, "unit": unit}


#: A scenario with every stochastic failure, cancellation, fraud and dispute path and every
#: seller penalty switched off, and every duration constant: each order is placed, paid,
#: screened, shipped, delivered and completed on a fixed clock. Tests switch on exactly the path
#: they exercise. (Buyer trust is on: it changes nothing until something goes wrong.)
QUIET: dict[str, Any] = {
    "name": "quiet",
    "seed": 7,
    "start": "2026-01-05",
    "horizon_days": 30,
    "warmup_days": 0,
    # Every order counts, whatever it may still become after the horizon: the tests look at
    # orders and their traces, not at a censoring-free KPI window.
    "cooldown_days": 0,
    "buyers": {
        "orders_per_hour": 0.5,
        "arrival_profile": "flat",
        "population": 100,
        "verified_share": 1.0,
        "card_share": 1.0,
        "fraud_rate": 0.0,
        "extra_items_mean": 0.0,
        "cancel": {
            "change_of_mind": 0.0,
            "better_deal": 0.0,
            "wrong_item": 0.0,
            "request_time": const(1.0),
            "return_share": 0.0,
        },
        "payment_failure_reorder_share": 0.0,
        "retry_probability": 0.0,
        "retry_delay": const(0.1),
        "verification_time": const(1.0),
        "verification_abandon_share": 0.0,
        "confirm_time": const(1.0, "days"),
        "low_rating": {"share": 0.0},
    },
    "sellers": {
        "count": 5,
        "skus_per_seller": 4,
        "initial_stock_mean": 1000,
        "inventory_accuracy": 1.0,
        "shrink_share": 0.0,
        "shrinkage_per_sku_day": 0.0,
        "strategy": {"sync_interval_days": None, "low_stock_alert": False},
        # Margins never erode: no typos, no supplier rises, no exchange-rate drift.
        "pricing": {
            "error_listing_share": 0.0,
            "typos_per_listing_year": 0.0,
            "supplier_increases_per_year": 0.0,
            "margin_sd": 0.0,
            "fx_daily_volatility": 0.0,
        },
        "dishonest_share": 0.0,
        "ask_buyer_to_cancel_share": 0.0,
        "first_look_time": const(2.0),
        "handling_time": const(1.0, "days"),
        "neglect_share": 0.0,
        "unreliable_share": 0.0,
        "handling_speed_sd": 0.0,
        "cancel_response_time": const(5.0),
        "cancel_approval_share": 1.0,
    },
    "shipping": {
        "blocked_route_share": 0.0,
        "lost_share": 0.0,
        "destinations": {
            "US": {
                "weight": 1.0,
                "shipping_cost_usd": {"dist": "lognormal", "mean": 1.0, "sd": 0.01},
                "cost_cap_usd": 100.0,
                "transit_time": const(5.0, "days"),
            },
        },
    },
    "payment": {
        "max_retries": 0,
        "gateway": {"servers": 1, "service_time": const(30.0, "seconds")},
        "incorrect_details_rate": 0.0,
        "unverified_decline_rate": 0.0,
        "issuer_decline_rate": 0.0,
        "stolen_card_decline_rate": 0.0,
        "verification": {"share": 0.0, "unverified_share": 0.0, "stolen_card_share": 0.0},
    },
    "platform": {
        "ship_by_days": 7,
        "fraud": {"intercept": -50.0, "noise_sd": 0.0},
        "prohibited": {"listing_share": 0.0},
        "address_conflict": {"rate": 0.0},
        "penalties": {"min_orders": 10**6, "warn_rulings": 10**6, "suspend_rulings": 10**6},
        "customer_service": {"agents": 1, "review_time": const(2.0), "intervention_time": const(4.0)},
        "disputes": {
            "propensity": {
                "disguised_cancellation": 0.0,
                "seller_cancellation": 0.0,
                "refund_late": 0.0,
                "refund_wrong_amount": 0.0,
                "not_delivered": 0.0,
                "not_as_described": 0.0,
            },
            "open_delay": const(1.0, "days"),
            "intervention_delay": const(3.0, "days"),
        },
    },
    "refunds": {
        "wallet_share": 0.0,
        "card_delay_bdays": const(5.0, "days"),
        "wallet_delay": const(1.0),
        "wrong_amount_rate": 0.0,
    },
}


def after_row(scn: simcore.Scenario, u: float = 0.99, **at: float) -> list[float]:
    """An order's after-draws (simcore.model.draws) for desks tested alone: every uniform ``u``,
    every duration its distribution's mean (a constant's value; the quote and transit those of
    the first destination), then ``at`` (``{"NAME": value}`` by the layout's names)."""
    from simcore.model import draws

    row = [u] * draws.N_AFTER
    first = next(iter(scn.shipping.destinations.values()))
    by_destination = iter([first.shipping_cost_usd.mean_in_unit(), first.transit_time.mean_hours])
    for d in draws.AFTER_TIMES:
        if d.spec is None:  # the destination's quote and transit
            row.append(next(by_destination))
            continue
        spec = d.spec(scn)
        row.extend([spec.mean_in_unit() * spec.factor_to(d.unit)] * d.count(scn))
    assert len(row) == draws.AFTER_WIDTH
    for name, value in at.items():
        row[getattr(draws, name)] = value
    return row


def quiet(overrides: dict[str, Any] | None = None) -> simcore.Scenario:
    """The QUIET scenario with dotted ``overrides`` applied, its seed (7, or the one the
    overrides set) moved by ``SIMCORE_TEST_SEED``."""
    scn = simcore.scenario_from_dict(QUIET, overrides or {})
    return scn.model_copy(update={"seed": seed(scn.seed)})


#: Worker processes for the tests that run many independent simulations (CI has 2 cores; a
#: larger machine uses up to 4). Each run's numbers depend on its seed and replication only, not
#: on the process that runs it (tests/model/test_invariants.py holds that).
WORKERS = min(4, max(2, os.cpu_count() or 2))


def in_workers(fn: Callable[..., Any], *args: Iterable[Any]) -> list[Any]:
    """``[fn(*a) for a in zip(*args)]``, the calls shared out among ``WORKERS`` processes.

    ``fn`` must be a module-level function; give it what to run and let it return what the
    test reads (KPIs, a few arrays), not a whole RunResult, which would be pickled back."""
    calls = list(zip(*args, strict=True))
    if len(calls) <= 1:
        return [fn(*a) for a in calls]
    with ProcessPoolExecutor(max_workers=min(WORKERS, len(calls))) as pool:
        return list(pool.map(fn, *zip(*calls, strict=True)))


def kpis_of(scn: simcore.Scenario, replication: int = 0) -> dict:
    """The KPIs of one run (for in_workers)."""
    return simcore.run(scn, replication=replication).kpis


def many_kpis(scenarios: Iterable[simcore.Scenario], replications: Iterable[int] | None = None) -> list[dict]:
    """The KPIs of a run of each scenario (at each replication; unset: 0), in worker processes."""
    scenarios = list(scenarios)
    reps = [0] * len(scenarios) if replications is None else list(replications)
    return in_workers(kpis_of, scenarios, reps)


@pytest.fixture(scope="session")
def baseline_result() -> simcore.RunResult:
    """One run of the shipped baseline (shared: it takes a few seconds), at its seed moved by
    ``SIMCORE_TEST_SEED``."""
    return simcore.run(shipped("baseline"))


@pytest.fixture(scope="session")
def promo_result() -> simcore.RunResult:
    """One run of the shipped promo_1111 (shared by test_capacity and test_axes), at its seed
    moved by ``SIMCORE_TEST_SEED``."""
    return simcore.run(shipped("promo_1111"))


@pytest.fixture(scope="session")
def shipped_kpis(baseline_result) -> Callable[[Iterable[tuple[str, int]]], list[dict]]:
    """``shipped_kpis([(name, replication), ...])``: the KPIs of each shipped scenario ``name``
    (no overrides, its seed moved by ``SIMCORE_TEST_SEED``) at each replication. Each run is made
    once a session (the baseline's replications serve test_baseline and test_crn), the missing
    ones in worker processes; replication 0 of the baseline is ``baseline_result``."""
    cache: dict[tuple[str, int], dict] = {("baseline", 0): baseline_result.kpis}

    def get(runs: Iterable[tuple[str, int]]) -> list[dict]:
        wanted = list(runs)
        missing = list(dict.fromkeys(key for key in wanted if key not in cache))
        done = in_workers(kpis_of, [shipped(name) for name, _ in missing], [r for _, r in missing])
        cache.update(zip(missing, done, strict=True))
        return [cache[key] for key in wanted]

    return get
