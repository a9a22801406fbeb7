"""Event-log exports (OCEL 2.0 JSON, XES, CSV) and the story of one order.

Each export of a small run is read back (json, xml.etree, pandas) and compared with the run's
event log: every event once, every order a case, times to the millisecond, each event's order,
buyer and seller. The format rules come from the standards: the XES XSD shipped in tests/data
(see its README), and for OCEL 2.0 JSON the rules of the published specification page, checked by
:func:`ocel_problems` (the published JSON schema could not be obtained faithfully; tests/data/README.md
says why). Each checker is shown to reject broken documents, so a pass means something.
"""

from __future__ import annotations

import copy
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis.export as export
import simcore
from analysis.eventlog import EPOCH, ExportSummary
from analysis.export import export_run
from analysis.io import RUN_FILES, RunFiles, RunInputError, load_run
from analysis.ocel import EVENT_OBJECT
from analysis.trace import format_story, order_story
from analysis.xes import XES_LIFECYCLE
from tests.conftest import quiet, shipped

DATA = Path(__file__).resolve().parent.parent / "data"
XSD = DATA / "xes-ieee-1849-2016.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
ISO_UTC_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A 40-day baseline at low volume with disputes, declines and refunds made common."""
    scn = shipped(
        "baseline",
        {
            "horizon_days": 40,
            "warmup_days": 1,
            "cooldown_days": 2,
            "buyers.orders_per_hour": 1.5,
            "payment.issuer_decline_rate": 0.2,
            "platform.disputes.propensity.not_as_described": 0.3,
            "platform.disputes.propensity.seller_cancellation": 1.0,
        },
    )
    d = tmp_path_factory.mktemp("run") / "run"
    simcore.write_outputs(simcore.run(scn), d)
    return d


@pytest.fixture(scope="module")
def log(run_dir) -> pd.DataFrame:
    """The event log as written, with the row number (the OCEL event id)."""
    ev = pd.read_parquet(run_dir / "events.parquet")
    ev["activity"], ev["actor"] = ev["activity"].astype(str), ev["actor"].astype(str)
    ev["row"] = np.arange(len(ev))
    return ev


@pytest.fixture(scope="module")
def orders(run_dir) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "orders.parquet")


@pytest.fixture(scope="module")
def exports(run_dir, tmp_path_factory) -> dict[str, tuple[Path, ExportSummary]]:
    out = tmp_path_factory.mktemp("exports")
    return {fmt: (out / f"log.{fmt}", export_run(run_dir, fmt, out / f"log.{fmt}")) for fmt in export.FORMATS}


def ms(times) -> np.ndarray:
    """Times (ISO strings with a zone, or naive datetimes taken as UTC) as integer milliseconds."""
    t = pd.to_datetime(pd.Series(times), utc=True, format="ISO8601")
    return t.dt.tz_localize(None).astype("datetime64[ms]").astype("int64").to_numpy()


@pytest.mark.property
def test_fixture_run_exercises_every_object_type(log):
    parts = set(log["activity"].map(EVENT_OBJECT).dropna())
    assert parts == {"payment", "refund", "dispute"}
    assert {"dispute_review_started", "dispute_reviewed", "payment_declined"} <= set(log["activity"])


# CSV ---------------------------------------------------------------------------------------------


@pytest.mark.property
def test_csv_has_every_event_with_its_case_time_and_resource(exports, log, orders):
    path, summary = exports["csv"]
    header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert header[:4] == ["case_id", "activity", "timestamp", "resource"]
    csv = pd.read_csv(path, dtype={"timestamp": str})
    assert len(csv) == len(log) == summary.events
    assert set(csv["case_id"]) == set(orders["order_id"]) and summary.cases == len(orders)
    assert csv["timestamp"].str.match(ISO_UTC_MS).all()
    np.testing.assert_array_equal(ms(csv["timestamp"]), ms(log["time"]))
    for column, source in [("case_id", "order_id"), ("activity", "activity"), ("resource", "actor")]:
        np.testing.assert_array_equal(csv[column].to_numpy(), log[source].to_numpy())
    np.testing.assert_array_equal(csv[["buyer_id", "seller_id"]], log[["buyer_id", "seller_id"]])


@pytest.mark.property
def test_csv_gz_reads_back_the_same(run_dir, exports, tmp_path):
    summary = export_run(run_dir, "csv", tmp_path / "log.csv.gz")
    assert summary.bytes < exports["csv"][1].bytes / 3
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "log.csv.gz"), pd.read_csv(exports["csv"][0]))


# XES ---------------------------------------------------------------------------------------------


def xsd_rules(path: Path) -> dict:
    """The parts of the XES XSD the checker applies, read from the schema itself: the order of a
    log's children, the attribute elements with the XML Schema type of their value, and the
    required attributes of each element type."""
    root = ET.parse(path).getroot()
    types = {t.get("name"): t for t in root.iter(f"{XS}complexType")}
    group = next(g for g in root.iter(f"{XS}group") if g.get("name") == "AttributableGroup")
    element_types = {e.get("name"): e.get("type") for e in group.iter(f"{XS}element")}

    def attributes(type_name: str) -> dict[str, tuple[str, bool]]:
        found = {}
        for a in types[type_name].iter(f"{XS}attribute"):
            found[a.get("name")] = (a.get("type"), a.get("use") == "required")
        for ext in types[type_name].iter(f"{XS}extension"):
            found |= attributes(ext.get("base"))
        return found

    log_sequence = next(types["LogType"].iter(f"{XS}sequence"))
    order = [e.get("name") or "@attributes" for e in log_sequence]
    return {
        "attribute_elements": {name: attributes(t) for name, t in element_types.items()},
        "log_order": order,
        "log": attributes("LogType"),
        "extension": attributes("ExtensionType"),
        "global": attributes("GlobalsType"),
        "classifier": attributes("ClassifierType"),
    }


LEXICAL = {
    "xs:string": lambda v: True,
    "xs:long": lambda v: re.fullmatch(r"[+-]?\d+", v) is not None and -(2**63) <= int(v) < 2**63,
    "xs:double": lambda v: (
        re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN", v) is not None
    ),
    "xs:boolean": lambda v: v in ("true", "false", "1", "0"),
    "xs:dateTime": lambda v: (
        re.fullmatch(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", v) is not None
    ),
    "xs:decimal": lambda v: re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", v) is not None,
    "xs:NCName": lambda v: re.fullmatch(r"[A-Za-z_][\w.-]*", v) is not None,
    "xs:Name": lambda v: re.fullmatch(r"[A-Za-z_:][\w.:-]*", v) is not None,
    "xs:token": lambda v: v == " ".join(v.split()),
    "xs:anyURI": lambda v: " " not in v,
}


def xes_problems(root: ET.Element, rules: dict) -> list[str]:
    """Departures of an XES document from the XSD's rules (``xsd_rules``) and from the standard's
    rules the XSD cannot state: every prefixed key's extension declared; classifier keys declared
    as globals; every trace named; events of a trace in time order."""
    problems = []

    def check_attrs(el: ET.Element, spec: dict[str, tuple[str, bool]], where: str) -> None:
        for name, (xs_type, required) in spec.items():
            value = el.get(name)
            if value is None:
                if required:
                    problems.append(f"{where}: <{el.tag}> lacks {name}")
            elif not LEXICAL[xs_type](value):
                problems.append(f"{where}: <{el.tag} {name}={value!r}> is not {xs_type}")

    def check_attributable(
        el: ET.Element, where: str, allowed_after: tuple[str, ...] = ()
    ) -> list[ET.Element]:
        rest, done = [], False
        for child in el:
            if child.tag in rules["attribute_elements"] and not done:
                check_attrs(child, rules["attribute_elements"][child.tag], where)
                keys.add(child.get("key"))
            elif child.tag in allowed_after:
                done = True
                rest.append(child)
            else:
                problems.append(f"{where}: <{child.tag}> not allowed here")
        return rest

    keys: set[str] = set()
    if root.tag != "log":
        return [f"root is <{root.tag}>, not <log>"]
    check_attrs(root, rules["log"], "log")
    position = {name: i for i, name in enumerate(rules["log_order"])}
    last, prefixes, globals_ = -1, set(), {}
    for child in root:
        tag = child.tag if child.tag in position else "@attributes"
        if tag == "@attributes" and child.tag not in rules["attribute_elements"]:
            problems.append(f"log: <{child.tag}> not allowed")
            continue
        if position[tag] < last:
            problems.append(f"log: <{child.tag}> after a later part of the log")
        last = position[tag]
        if child.tag in ("extension", "classifier"):
            check_attrs(child, rules[child.tag], child.tag)
        if child.tag == "extension":
            prefixes.add(child.get("prefix"))
        elif child.tag == "global":
            check_attrs(child, rules["global"], "global")
            check_attributable(child, f"global {child.get('scope')}")
            globals_[child.get("scope")] = {a.get("key") for a in child}
        elif child.tag == "classifier":
            for key in child.get("keys", "").split():
                if key not in globals_.get(child.get("scope", "event"), set()):
                    problems.append(f"classifier {child.get('name')}: key {key} is not a global attribute")
        elif child.tag in rules["attribute_elements"]:
            check_attrs(child, rules["attribute_elements"][child.tag], "log")
            keys.add(child.get("key"))
        elif child.tag == "trace":
            names = [a.get("value") for a in child if a.get("key") == "concept:name"]
            where = f"trace {names[0] if names else '?'}"
            if len(names) != 1:
                problems.append(f"{where}: {len(names)} concept:name attributes, not 1")
            times = []
            for event in check_attributable(child, where, ("event",)):
                check_attributable(event, where)
                stamp = [a.get("value") for a in event if a.get("key") == "time:timestamp"]
                times += stamp
            stamps = [pd.Timestamp(t) for t in times if LEXICAL["xs:dateTime"](t)]
            stamps = [t if t.tzinfo else t.tz_localize("UTC") for t in stamps]  # no zone: taken as UTC
            if stamps != sorted(stamps):
                problems.append(f"{where}: events not in time order")
    for key in keys:
        if ":" in key and key.split(":")[0] not in prefixes:
            problems.append(f"key {key}: extension {key.split(':')[0]!r} not declared")
    return problems


@pytest.fixture(scope="module")
def xes(exports) -> ET.Element:
    return ET.parse(exports["xes"][0]).getroot()


@pytest.mark.property
def test_xes_follows_the_schema_and_the_standard(xes):
    assert xes_problems(xes, xsd_rules(XSD)) == []


@pytest.mark.property
def test_xes_validates_against_the_xsd_with_lxml(exports):
    etree = pytest.importorskip("lxml.etree", reason="lxml is not installed (not a project dependency)")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.parse(str(exports["xes"][0]))
    assert schema.validate(doc), schema.error_log


@pytest.fixture(scope="module")
def small_xes(xes) -> ET.Element:
    """The log's head and first five traces: valid, and quick to copy and check."""
    root = ET.Element(xes.tag, xes.attrib)
    root.extend([c for c in xes if c.tag != "trace"] + xes.findall("trace")[:5])
    assert xes_problems(root, xsd_rules(XSD)) == []
    return root


def _break_xes(root: ET.Element, how: str) -> ET.Element:
    root = copy.deepcopy(root)
    trace = root.find("trace")
    event = trace.find("event")
    if how == "bad date":
        next(a for a in event if a.get("key") == "time:timestamp").set("value", "5 January 2026")
    elif how == "no version":
        del root.attrib["xes.version"]
    elif how == "attribute after events":
        trace.append(ET.Element("string", key="late", value="x"))
    elif how == "events out of order":
        trace.remove(event)
        trace.append(event)
    elif how == "undeclared extension":
        event.append(ET.Element("string", key="cost:currency", value="USD"))
    elif how == "extension after trace":
        root.append(copy.deepcopy(root.find("extension")))
    elif how == "unnamed trace":
        trace.remove(next(a for a in trace if a.get("key") == "concept:name"))
    return root


@pytest.mark.parametrize(
    "how",
    ["bad date", "no version", "attribute after events", "events out of order", "undeclared extension",
     "extension after trace", "unnamed trace"],
)  # fmt: skip
def test_xes_checker_rejects_broken_documents(small_xes, how):
    assert xes_problems(_break_xes(small_xes, how), xsd_rules(XSD)) != []


@pytest.mark.property
def test_xes_has_one_trace_per_order_and_every_event(xes, exports, log, orders):
    traces = xes.findall("trace")
    names = [t.find("string[@key='concept:name']").get("value") for t in traces]
    assert names == [str(i) for i in orders["order_id"]]
    assert exports["xes"][1].cases == len(orders) and exports["xes"][1].events == len(log)
    back = {(n, lc): a for a, (n, lc) in XES_LIFECYCLE.items()}
    rows = []
    for name, trace in zip(names, traces, strict=True):
        for e in trace.findall("event"):
            a = {x.get("key"): x.get("value") for x in e}
            activity = back.get((a["concept:name"], a["lifecycle:transition"]), a["concept:name"])
            rows.append(
                (int(name), activity, a["time:timestamp"], a["org:resource"], a["lifecycle:transition"])
            )
    got = pd.DataFrame(rows, columns=["order_id", "activity", "time", "actor", "lifecycle"])
    want = log.sort_values(["order_id", "time"], kind="stable")
    assert len(got) == len(log)
    np.testing.assert_array_equal(got["order_id"], want["order_id"])
    np.testing.assert_array_equal(got["activity"], want["activity"])
    np.testing.assert_array_equal(got["actor"], want["actor"])
    np.testing.assert_array_equal(ms(got["time"]), ms(want["time"]))
    assert got["time"].str.match(ISO_UTC_MS).all()
    paired = got["activity"].isin(list(XES_LIFECYCLE))
    assert (got.loc[~paired, "lifecycle"] == "complete").all()
    assert set(got.loc[got["activity"] == "dispute_review_started", "lifecycle"]) == {"start"}


@pytest.mark.property
def test_xes_trace_attributes_are_the_orders(xes, orders):
    trace = xes.findall("trace")[7]
    a = {x.get("key"): (x.tag, x.get("value")) for x in trace if x.tag != "event"}
    row = orders.iloc[7]
    assert a["amount"] == ("float", repr(float(row["amount"])))
    assert a["buyer_id"] == ("int", str(row["buyer_id"])) and a["destination"] == (
        "string",
        row["destination"],
    )
    assert a["status"] == ("string", row["status"])


# OCEL --------------------------------------------------------------------------------------------

#: OCEL 2.0 attribute types and the JSON values they take (the specification's "Attribute Types").
OCEL_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "boolean": lambda v: isinstance(v, bool),
    "time": lambda v: isinstance(v, str) and ISO_TIME.fullmatch(v) is not None,
}
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def ocel_problems(doc: dict) -> list[str]:
    """Departures from the OCEL 2.0 JSON format (ocel-standard.org/specification/formats/json):
    the four top-level arrays; types with a name and typed attribute declarations; events with id,
    type, time, attributes and relationships; objects with id, type, attributes (each with name,
    time and value) and optional relationships; and the rules between them: ids unique, every
    event or object of a declared type, every attribute declared for its type with a value of the
    declared type, every relationship to an object that exists, with a qualifier."""
    problems: list[str] = []

    def need(item: dict, fields: dict[str, type], where: str) -> bool:
        ok = True
        for name, kind in fields.items():
            if not isinstance(item.get(name), kind):
                problems.append(f"{where}: {name} missing or not {kind.__name__}")
                ok = False
        return ok

    if set(doc) != {"objectTypes", "eventTypes", "objects", "events"}:
        problems.append(f"top-level keys {sorted(doc)}")
    declared = {}
    for key in ("objectTypes", "eventTypes"):
        declared[key] = {}
        for t in doc.get(key, []):
            if need(t, {"name": str, "attributes": list}, key):
                for a in t["attributes"]:
                    if not (need(a, {"name": str, "type": str}, t["name"]) and a["type"] in OCEL_TYPES):
                        problems.append(f"{key} {t['name']}: attribute {a} has no OCEL type")
                declared[key][t["name"]] = {a.get("name"): a.get("type") for a in t["attributes"]}
    ids = [o.get("id") for o in doc.get("objects", [])]
    if len(set(ids)) != len(ids):
        problems.append("object ids not unique")
    objects = set(ids)

    def check(item: dict, key: str, fields: dict[str, type], timed: bool) -> None:
        where = f"{item.get('id')}"
        if not need(item, fields, where):
            return
        types = declared[key]
        if item["type"] not in types:
            problems.append(f"{where}: type {item['type']!r} not in {key}")
            return
        for a in item.get("attributes", []):
            want = {"name": str, "time": str} if timed else {"name": str}
            if not need(a, want, where) or "value" not in a:
                problems.append(f"{where}: attribute {a} incomplete")
            elif a["name"] not in types[item["type"]]:
                problems.append(f"{where}: attribute {a['name']} not declared for {item['type']}")
            elif not OCEL_TYPES[types[item["type"]][a["name"]]](a["value"]):
                problems.append(
                    f"{where}: {a['name']}={a['value']!r} is not {types[item['type']][a['name']]}"
                )
            elif timed and not OCEL_TYPES["time"](a["time"]):
                problems.append(f"{where}: attribute time {a['time']!r} is not ISO 8601")
        for r in item.get("relationships", []):
            if need(r, {"objectId": str, "qualifier": str}, where) and r["objectId"] not in objects:
                problems.append(f"{where}: relationship to missing object {r['objectId']}")

    for o in doc.get("objects", []):
        check(o, "objectTypes", {"id": str, "type": str}, timed=True)
    events = doc.get("events", [])
    if len({e.get("id") for e in events}) != len(events):
        problems.append("event ids not unique")
    for e in events:
        check(e, "eventTypes", {"id": str, "type": str, "time": str, "attributes": list}, timed=False)
        if isinstance(e.get("time"), str) and not OCEL_TYPES["time"](e["time"]):
            problems.append(f"{e['id']}: time {e['time']!r} is not ISO 8601 with a zone")
    return problems


@pytest.fixture(scope="module")
def ocel(exports) -> dict:
    return json.loads(exports["ocel"][0].read_text(encoding="utf-8"))


@pytest.mark.property
def test_ocel_follows_the_format(ocel):
    assert ocel_problems(ocel) == []


@pytest.fixture(scope="module")
def small_ocel(ocel) -> dict:
    """The types, the first 50 events and the objects they reach: valid, and quick to check."""
    events = ocel["events"][:50]
    by_id = {o["id"]: o for o in ocel["objects"]}
    reached = {r["objectId"] for e in events for r in e["relationships"]}
    reached |= {r["objectId"] for oid in list(reached) for r in by_id[oid].get("relationships", [])}
    doc = {**ocel, "events": events, "objects": [o for o in ocel["objects"] if o["id"] in reached]}
    assert ocel_problems(doc) == []
    return doc


def _break_ocel(doc: dict, how: str) -> dict:
    doc = copy.deepcopy(doc)
    event, obj = doc["events"][0], doc["objects"][0]
    if how == "undeclared event type":
        event["type"] = "teleported"
    elif how == "missing object":
        event["relationships"][0]["objectId"] = "order:-1"
    elif how == "typed value wrong":
        next(a for a in obj["attributes"] if a["name"] == "amount")["value"] = "23.50"
    elif how == "undeclared attribute":
        event["attributes"].append({"name": "colour", "value": "red"})
    elif how == "time without zone":
        event["time"] = event["time"].rstrip("Z")
    elif how == "duplicate event id":
        doc["events"][1]["id"] = event["id"]
    elif how == "no qualifier":
        del event["relationships"][0]["qualifier"]
    return doc


@pytest.mark.parametrize(
    "how",
    ["undeclared event type", "missing object", "typed value wrong", "undeclared attribute",
     "time without zone", "duplicate event id", "no qualifier"],
)  # fmt: skip
def test_ocel_checker_rejects_broken_documents(small_ocel, how):
    assert ocel_problems(_break_ocel(small_ocel, how)) != []


@pytest.mark.property
def test_ocel_has_every_event_with_its_time_and_objects(ocel, exports, log, orders):
    events = pd.DataFrame(ocel["events"])
    assert len(events) == len(log) == exports["ocel"][1].events
    np.testing.assert_array_equal(events["id"], "e" + log["row"].astype(str))
    np.testing.assert_array_equal(events["type"], log["activity"])
    np.testing.assert_array_equal(ms(events["time"]), ms(log["time"]))
    for e, (oid, act, actor, buyer, seller) in zip(
        ocel["events"],
        log[["order_id", "activity", "actor", "buyer_id", "seller_id"]].itertuples(index=False),
        strict=True,
    ):
        rel = {r["qualifier"]: r["objectId"] for r in e["relationships"]}
        want = {"order": f"order:{oid}", "buyer": f"buyer:{buyer}", "seller": f"seller:{seller}"}
        if act in EVENT_OBJECT:
            want[EVENT_OBJECT[act]] = f"{EVENT_OBJECT[act]}:{oid}"
        assert rel == want, e["id"]
        assert {"name": "actor", "value": actor} in e["attributes"]
    by_id = {o["id"]: o for o in ocel["objects"]}
    assert {f"order:{i}" for i in orders["order_id"]} <= set(by_id)
    assert exports["ocel"][1].objects["order"] == len(orders) == exports["ocel"][1].cases
    # Buyer and seller of each order agree between the event log and the orders table.
    first = log.groupby("order_id").first()
    assert (first["buyer_id"] == orders.set_index("order_id")["buyer_id"]).all()


@pytest.mark.property
def test_ocel_objects_carry_the_orders_and_sellers_attributes(ocel, run_dir, orders):
    by_id = {o["id"]: o for o in ocel["objects"]}
    sellers = pd.read_parquet(run_dir / "sellers.parquet")
    cancelled = orders[orders["status"] == "cancelled"].iloc[0]
    o = by_id[f"order:{cancelled['order_id']}"]
    values = {}
    for a in o["attributes"]:
        values.setdefault(a["name"], []).append((a["value"], a["time"]))
    assert values["amount"] == [(float(cancelled["amount"]), EPOCH)]
    assert values["destination"][0][0] == cancelled["destination"]
    assert [v for v, _ in values["status"]] == ["open", "cancelled"]
    assert ms([values["status"][1][1]])[0] == ms([cancelled["cancelled_at"]])[0]
    assert values["cancel_reason"][0][0] == cancelled["cancel_reason"]
    links = {r["qualifier"]: r["objectId"] for r in o["relationships"]}
    assert (
        links["buyer"] == f"buyer:{cancelled['buyer_id']}"
        and links["seller"] == f"seller:{cancelled['seller_id']}"
    )
    seller = by_id[f"seller:{sellers['seller_id'].iloc[3]}"]
    rating = next(a for a in seller["attributes"] if a["name"] == "rating")
    assert rating["value"] == pytest.approx(float(sellers["rating"].iloc[3]))
    disputed = orders[orders["dispute_outcome"].notna()].iloc[0]
    d = {a["name"]: a["value"] for a in by_id[f"dispute:{disputed['order_id']}"]["attributes"]}
    assert (d["reason"], d["outcome"]) == (disputed["dispute_reason"], disputed["dispute_outcome"])


# Streaming, errors -------------------------------------------------------------------------------


@pytest.mark.property
@pytest.mark.parametrize("fmt", export.FORMATS)
def test_small_batches_write_the_same_bytes(run_dir, exports, tmp_path, monkeypatch, fmt):
    """Batch and chunk edges fall inside orders' event runs: the output must not change."""
    import analysis.eventlog
    import analysis.ocel
    import analysis.xes

    monkeypatch.setattr(analysis.eventlog, "BATCH_ROWS", 997)
    monkeypatch.setattr(analysis.xes, "CHUNK_ORDERS", 101)
    monkeypatch.setattr(analysis.ocel, "CHUNK_ORDERS", 101)
    export_run(run_dir, fmt, tmp_path / "small")
    assert (tmp_path / "small").read_bytes() == exports[fmt][0].read_bytes()


def test_a_failed_export_leaves_the_old_file_and_no_part(run_dir, tmp_path, monkeypatch):
    out = tmp_path / "log.json"
    out.write_text("previous", encoding="utf-8")

    def fail(*args):
        raise OSError("disk full")

    import analysis.ocel

    monkeypatch.setattr(analysis.ocel, "_ocel_events", fail)
    with pytest.raises(OSError, match="disk full"):
        export_run(run_dir, "ocel", out)
    assert out.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.json"]


def test_bad_input_is_named(run_dir, tmp_path):
    with pytest.raises(RunInputError, match=r"format: must be one of ocel, xes, csv \(got 'pdf'\)"):
        export_run(run_dir, "pdf", tmp_path / "x")
    with pytest.raises(RunInputError, match=r"does not exist; give a folder written by `simcore run"):
        export_run(tmp_path / "nope", "csv", tmp_path / "x")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "orders.parquet").write_bytes(b"")
    with pytest.raises(RunInputError, match=r"not a simcore run folder \(missing events.parquet, sellers"):
        export_run(tmp_path / "half", "csv", tmp_path / "x")
    with pytest.raises(RunInputError, match=r"is a folder; give the path of a file"):
        export_run(run_dir, "xes", tmp_path)
    with pytest.raises(RunInputError, match=r"is a file of the run itself"):
        export_run(run_dir, "csv", run_dir / "events.parquet")
    assert (run_dir / "events.parquet").stat().st_size > 1000


def test_a_log_with_events_of_unknown_orders_is_refused(run_dir, tmp_path):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for f in RUN_FILES:
        (damaged / f).write_bytes((run_dir / f).read_bytes())
    ev = pd.read_parquet(run_dir / "events.parquet")
    ev.loc[5, "order_id"] = 10**6
    ev.to_parquet(damaged / "events.parquet", index=False)
    for fmt in export.FORMATS:
        with pytest.raises(
            RunInputError, match=r"event of order 1000000, but orders.parquet has orders 0 to"
        ):
            export_run(damaged, fmt, tmp_path / f"x.{fmt}")
        assert not (tmp_path / f"x.{fmt}").exists()


@pytest.mark.property
def test_a_run_without_orders_exports_valid_empty_logs(tmp_path):
    simcore.write_outputs(
        simcore.run(quiet({"horizon_days": 1, "buyers.orders_per_hour": 1e-4})), tmp_path / "run"
    )
    summaries = {fmt: export_run(tmp_path / "run", fmt, tmp_path / f"log.{fmt}") for fmt in export.FORMATS}
    assert {(s.events, s.cases) for s in summaries.values()} == {(0, 0)}
    assert (tmp_path / "log.csv").read_text(encoding="utf-8") == ",".join(export.CSV_COLUMNS) + "\n"
    xes = ET.parse(tmp_path / "log.xes").getroot()
    assert xes_problems(xes, xsd_rules(XSD)) == [] and xes.findall("trace") == []
    ocel = json.loads((tmp_path / "log.ocel").read_text(encoding="utf-8"))
    assert ocel_problems(ocel) == [] and ocel["events"] == []


# Trace -------------------------------------------------------------------------------------------


@pytest.mark.trace
def test_exact_story_of_a_quiet_order(tmp_path):
    """Every duration of QUIET is constant: the gateway takes 30 s, the seller looks after 2 h,
    handles for 1 day, transit is 5 days and the buyer confirms a day after delivery."""
    run = simcore.run(quiet({"horizon_days": 12}))
    story = order_story(RunFiles(run.orders, run.events, run.timeseries, run.sellers, run.kpis, 0.0), 0)
    hours = ((story["time"] - story["time"].iloc[0]).dt.total_seconds() / 3600).round(6).tolist()
    assert list(zip(hours, story["activity"], story["actor"], strict=True)) == [
        (0.0, "placed", "buyer"),
        (0.0, "payment_submitted", "buyer"),
        (round(30 / 3600, 6), "payment_authorized", "gateway"),
        (round(30 / 3600, 6), "paid", "gateway"),
        (round(30 / 3600, 6), "screening_passed", "platform"),
        (round(2 + 30 / 3600, 6), "seller_processing", "seller"),
        (round(26 + 30 / 3600, 6), "shipped", "seller"),
        (round(146 + 30 / 3600, 6), "delivered", "seller"),
        (round(170 + 30 / 3600, 6), "completed", "buyer"),
    ]
    text = format_story(story).splitlines()
    assert text[1] == "final status: completed"
    assert text[2].split() == ["time", "since", "placed", "activity", "actor", "detail"]
    assert text[-1].split()[2:] == ["+7d", "02:00:30", "completed", "buyer"]


def _orders_of_interest(orders: pd.DataFrame) -> list[int]:
    picks = [
        orders["dispute_escalated_at"].notna(),
        orders["status"] == "cancelled",
        orders["payment_attempts"] > 1,
        orders["refund_amount"].notna(),
        orders["status"] == "open",
    ]
    return [int(orders.loc[p, "order_id"].iloc[0]) for p in picks]


@pytest.mark.property
def test_story_lists_every_event_of_the_order_in_time_order(run_dir, log, orders):
    for oid in _orders_of_interest(orders):
        story = order_story(run_dir, oid)
        mine = log[log["order_id"] == oid]
        assert story["activity"].tolist() == mine["activity"].tolist()
        assert story["actor"].tolist() == mine["actor"].tolist()
        np.testing.assert_array_equal(ms(story["time"]), ms(mine["time"]))
        assert story["time"].is_monotonic_increasing
        assert len(format_story(story).splitlines()) == len(mine) + 3


@pytest.mark.property
def test_story_header_names_amount_parties_destination_and_outcome(run_dir, orders):
    row = orders[(orders["status"] == "cancelled") & orders["refund_amount"].notna()].iloc[0]
    story = order_story(run_dir, int(row["order_id"]))
    header, outcome = format_story(story).splitlines()[:2]
    assert header.startswith(f"order {row['order_id']}: {row['amount']:,.2f} USD")
    for part in (f"buyer {row['buyer_id']}", f"seller {row['seller_id']}", f"to {row['destination']}"):
        assert part in header
    assert outcome.startswith(f"final status: cancelled by {row['cancel_initiator']}: {row['cancel_reason']}")
    cancelled = story[story["activity"] == "cancelled"]["detail"].iloc[0]
    assert cancelled.startswith(f"by {row['cancel_initiator']}: {row['cancel_reason']}")
    refund = story[story["activity"] == "refund_scheduled"]["detail"].iloc[0]
    assert refund.startswith(f"{row['refund_amount']:,.2f} USD to {row['refund_method']}")
    disputed = orders[orders["dispute_outcome"].notna()].iloc[0]
    outcome = format_story(order_story(run_dir, int(disputed["order_id"]))).splitlines()[1]
    assert (
        f"dispute {disputed['dispute_reason']}: {disputed['dispute_outcome']} at {disputed['dispute_stage']}"
        in outcome
    )


@pytest.mark.property
def test_story_from_loaded_run_files_is_the_same(run_dir, orders):
    oid = _orders_of_interest(orders)[0]
    pd.testing.assert_frame_equal(order_story(load_run(run_dir), oid), order_story(run_dir, str(oid)))


@pytest.mark.parametrize(
    ("order_id", "message"),
    [
        (10**6, r"order 1000000: no such order in .*; ids run from 0 to \d+"),
        (-1, r"order -1: no such order"),
        ("seven", r"order id: must be a whole number \(got 'seven'\)"),
        (2.5, r"order id: must be a whole number \(got 2.5\)"),
        (True, r"order id: must be a whole number \(got True\)"),
    ],
)
def test_story_of_an_unknown_order_names_the_range(run_dir, order_id, message):
    with pytest.raises(RunInputError, match=message):
        order_story(run_dir, order_id)


def test_story_of_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(
        RunInputError, match=r"not a simcore run folder \(missing orders.parquet, events.parquet\)"
    ):
        order_story(tmp_path, 0)


# --- The commands ---------------------------------------------------------------------------------


@pytest.mark.property
def test_export_and_trace_commands(run_dir, log, tmp_path, capsys):
    from simcore.cli import main

    out = tmp_path / "log.csv"
    assert main(["export", str(run_dir), "--format", "csv", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {len(log):,} events of ")
    assert pd.read_csv(out).shape[0] == len(log)
    order = int(log["order_id"].iloc[len(log) // 2])
    assert main(["trace", str(run_dir), str(order)]) == 0
    text = capsys.readouterr().out
    activities = log.loc[log["order_id"] == order, "activity"].astype(str).tolist()
    body = text.splitlines()[3:]
    assert [line.split()[4] for line in body] == activities  # every activity, in order


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace", "{run}", "seven"], "order id: must be a whole number (got 'seven')"),
        (["trace", "{run}", "10000000"], "order 10000000: no such order"),
        (["trace", "{tmp}", "1"], "not a simcore run folder"),
        (["export", "{run}", "--format", "xes", "--out", "{tmp}"], "is a folder; give the path of a file"),
        # /proc refuses new files even to root, for whom os.access says yes.
        (["export", "{run}", "--format", "csv", "--out", "/proc/simcore.csv"], "cannot write in /proc"),
    ],
)
def test_commands_refuse_bad_input_with_exit_2(run_dir, tmp_path, capsys, args, message):
    from simcore.cli import main

    args = [a.replace("{run}", str(run_dir)).replace("{tmp}", str(tmp_path)) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
