"""docs/model.md (the ODD model description) stays true to the schema and the KPI registry.

The oracles are the schema's own key list (the rows of the generated scenario reference,
:func:`simcore.scenario.reference.scenario_reference_markdown`) and the KPI registry: a key added
to the schema must be described, and a KPI name the document gives must exist.
"""

from __future__ import annotations

import re

from simcore.results.registry import KPI_BY_NAME
from simcore.scenario.reference import scenario_reference_markdown
from tests.conftest import ROOT

DOC_PATH = ROOT / "docs" / "model.md"
#: The seven ODD elements (Grimm et al. 2020), in order, as the document's top-level sections.
ODD_ELEMENTS = (
    "Purpose and patterns",
    "Entities, state variables, and scales",
    "Process overview and scheduling",
    "Design concepts",
    "Initialization",
    "Input data",
    "Submodels",
)


def _doc() -> str:
    return DOC_PATH.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """The document without its fenced blocks (equations and pseudocode)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _backticked(text: str) -> set[str]:
    """Every inline code span of ``text`` (outside fenced blocks)."""
    return set(re.findall(r"`([^`\n]+)`", _prose(text)))


def schema_keys() -> list[str]:
    """Every key of the scenario reference, in its order (``shipping.destinations.NAME.weight``
    for mapping entries, ``a.b[].c`` for list items)."""
    return re.findall(r"^\| `([^`]+)` \|", scenario_reference_markdown(), flags=re.M)


def leaf_keys(keys: list[str]) -> list[str]:
    """The keys with no sub-keys (a section's name is not a leaf)."""
    return [k for k in keys if not any(o.startswith((k + ".", k + "[")) for o in keys)]


def test_the_key_list_is_the_schemas():
    # Guards the test itself: a reference format change must not leave it checking nothing.
    keys = leaf_keys(schema_keys())
    assert len(keys) > 100
    assert {"seed", "sellers.inventory_accuracy", "platform.disputes.ruling.merit_win"} <= set(keys)
    assert "buyers" not in keys and "platform.disputes" not in keys


def test_every_leaf_scenario_key_is_described():
    named = _backticked(_doc())
    missing = [k for k in leaf_keys(schema_keys()) if k not in named]
    assert not missing, f"docs/model.md does not name these scenario keys (in backticks): {missing}"


def _kpi_list(text: str) -> list[str]:
    block = re.search(r"<!-- kpi-list -->(.*?)<!-- /kpi-list -->", text, flags=re.S)
    assert block is not None, "docs/model.md has no <!-- kpi-list --> ... <!-- /kpi-list --> block"
    return re.findall(r"`([^`\n]+)`", block.group(1))


def test_every_kpi_listed_is_in_the_registry():
    listed = _kpi_list(_doc())
    assert len(listed) >= 10
    stale = [name for name in listed if name not in KPI_BY_NAME]
    assert not stale, f"docs/model.md lists KPIs the registry does not have: {stale}"


def test_every_dotted_kpi_name_in_the_text_is_in_the_registry():
    # A dotted name under a KPI family (``queues.``, ``dispute_outcomes.``, ...) anywhere in the
    # text must be a KPI or a level of one: a renamed KPI leaves no stale name behind.
    families = {name.split(".")[0] for name in KPI_BY_NAME if "." in name}
    levels = {name.rsplit(".", i)[0] for name in KPI_BY_NAME for i in range(name.count(".") + 1)}
    stale = sorted(
        token
        for token in _backticked(_doc())
        if re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", token)
        and token.split(".")[0] in families
        and token not in levels
    )
    assert not stale, f"docs/model.md names KPIs the registry does not have: {stale}"


def test_the_top_level_sections_are_the_seven_odd_elements_in_order():
    headings = re.findall(r"^## (\d) (.+)$", _prose(_doc()), flags=re.M)
    assert headings == [(str(i), element) for i, element in enumerate(ODD_ELEMENTS, start=1)]
