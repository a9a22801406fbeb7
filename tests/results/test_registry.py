"""The KPI registry against what runs report, and the orders table's column spec against the
frame a run gives (tier 3: the declarations cannot drift from the code that fills them)."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.engine.columns import typecode_of
from simcore.model.columns import ORDER_COLUMNS, PLACEMENT, RECORDED
from simcore.model.recorder import Recorder
from simcore.results.kpis import flatten_kpis
from simcore.results.registry import KPI_BY_NAME, KPIS, kpi, kpi_reference_markdown, unknown_kpi
from tests.conftest import ROOT, quiet

pytestmark = pytest.mark.property


@pytest.fixture(scope="module")
def small_run() -> simcore.RunResult:
    # Trouble of every kind switched on so that every KPI has a value to hold.
    return simcore.run(
        quiet(
            {
                "horizon_days": 40,
                "buyers.orders_per_hour": 2.0,
                "buyers.fraud_rate": 0.05,
                "buyers.cancel.change_of_mind": 0.05,
                "platform.disputes.propensity.not_as_described": 0.2,
                "refunds.wrong_amount_rate": 0.2,
            }
        )
    )


def test_the_registry_names_exactly_what_a_run_reports_in_its_order(small_run):
    assert list(flatten_kpis(small_run.kpis)) == [k.name for k in KPIS]


def test_every_kpi_has_a_unit_a_direction_and_a_meaning():
    assert len(KPI_BY_NAME) == len(KPIS)  # no name twice
    for k in KPIS:
        assert k.unit in ("share", "count", "USD", "hours", "days", "business days"), k
        assert k.direction in ("lower", "higher", "neither"), k
        assert k.meaning and "{" not in k.meaning, k


@pytest.mark.parametrize(
    ("name", "unit", "direction"),
    # Written out, not derived: what a reader of a report or an optimisation file relies on.
    [
        ("cancellation_rate", "share", "lower"),
        ("cancellations_by_reason.out_of_stock", "count", "lower"),
        ("gmv_completed", "USD", "higher"),
        ("seller_revenue_lost", "USD", "lower"),
        ("refund_delay_bdays.p90", "business days", "lower"),
        ("dispute_resolution_days.mean", "days", "lower"),
        ("queues.fraud_review.mean_wait_hours", "hours", "lower"),
        ("queues.gateway.utilization", "share", "neither"),
        ("fraud_caught_share", "share", "higher"),
        ("repeat_purchase_rate", "share", "higher"),
        ("orders", "count", "neither"),
    ],
)
def test_units_and_directions_of_headline_kpis(name, unit, direction):
    assert (kpi(name).unit, kpi(name).direction) == (unit, direction)


def test_shares_lie_in_zero_one_in_a_run(small_run):
    flat = flatten_kpis(small_run.kpis)
    shares = {k.name: flat[k.name] for k in KPIS if k.unit == "share" and flat[k.name] is not None}
    assert shares and all(0.0 <= v <= 1.0 for v in shares.values()), shares


def test_an_unknown_name_is_refused_with_the_closest_one():
    with pytest.raises(KeyError, match="did you mean 'cancellation_rate'"):
        kpi("cancelation_rate")
    assert "simcore kpis" in unknown_kpi("zzz")


def test_the_kpi_reference_is_current():
    assert (ROOT / "docs" / "kpi-reference.md").read_text(encoding="utf-8") == kpi_reference_markdown()


# ---- the orders table's column spec


def test_the_frame_has_the_spec_columns_in_order_with_the_dtypes_their_kinds_give(small_run):
    orders = small_run.orders
    assert list(orders.columns) == [c.name for c in ORDER_COLUMNS]
    expected = {
        "row": "int64",
        "id": "int64",
        "count": "int64",
        "usd": "float64",
        "number": "float64",
        "hour": "float64",
        "time": "datetime64[ms]",
        "flag": "bool",
        "signal": "bool",
    }
    for c in ORDER_COLUMNS:
        dtype = orders[c.name].dtype
        if c.kind in ("code", "destination"):
            assert isinstance(dtype, pd.CategoricalDtype), c.name
        else:
            assert str(dtype) == expected[c.kind], (c.name, dtype)


def test_code_columns_use_their_vocabulary_and_optional_codes_are_missing_when_none(small_run):
    orders = small_run.orders
    for c in ORDER_COLUMNS:
        if c.kind != "code":
            continue
        categories = list(orders[c.name].cat.categories)
        assert categories == list(c.codes[1:] if c.optional else c.codes), c.name
    # No cancellation, no reason: the optional codes of an uncancelled order are missing.
    kept = orders[orders["status"] != "cancelled"]
    assert len(kept) and kept["cancel_reason"].isna().all() and kept["cancel_initiator"].isna().all()
    assert orders["status"].notna().all() and orders["payment_method"].notna().all()


def test_placed_hour_is_the_placement_timestamp_in_hours(small_run):
    o = small_run.orders
    hours = (o["placed_at"] - pd.Timestamp(small_run.scenario.start)) / pd.Timedelta(hours=1)
    np.testing.assert_allclose(hours.to_numpy(float), o["placed_hour"].to_numpy(), atol=1e-6)
    assert (o["order_id"].to_numpy() == np.arange(len(o))).all()


def test_the_recorder_stores_the_spec_and_takes_placement_values_in_its_order():
    rec = Recorder(0.0)
    assert list(rec.orders) == list(RECORDED)
    assert {name: typecode_of(col) for name, col in rec.orders.items()} == dict(RECORDED)
    assert set(RECORDED.values()) <= {"d", "q", "i", "b"}
    # new_order's parameters are the placement columns, by name and order.
    params = list(inspect.signature(Recorder.new_order).parameters)[1:]
    assert params == list(PLACEMENT)
    oid = rec.new_order(9, 3, 1, 5, 0, 2, 19.5, 7.25, True, False, True, 1, 0b1000010)
    assert [rec.orders[name][oid] for name in PLACEMENT] == [9, 3, 1, 5, 0, 2, 19.5, 7.25, 1, 0, 1, 1, 66]
    # Columns not known at placement start blank: NaN for hours and amounts, 0 for codes.
    assert np.isnan(rec.orders["cancelled_at"][oid]) and rec.orders["cancel_reason"][oid] == 0
