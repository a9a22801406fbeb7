"""The scenario reference as Markdown, generated from the schema (so it cannot go stale)."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simcore.scenario.schema import Scenario


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(ann)
        for m in meta:
            if getattr(m, "discriminator", None) == "dist":
                return "distribution"
        return _type_name(base)
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(ann))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(ann)).replace("NoneType", "null")
    if origin is list:
        return f"list of {_type_name(typing.get_args(ann)[0])}"
    if origin is dict:
        return f"mapping name → {_type_name(typing.get_args(ann)[1])}"
    if isinstance(ann, type):
        return {"float": "number", "int": "integer", "str": "text", "bool": "true/false", "date": "date"}.get(
            ann.__name__, ann.__name__
        )
    return str(ann)


def _constraints(field) -> str:
    out = []
    for m in field.metadata:
        for attr, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sym} {v}")
    return ", ".join(out)


def _default(field) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "required"
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json")
        if "dist" in dumped:
            return "`" + ", ".join(f"{k}: {v}" for k, v in dumped.items()) + "`"
        return "(section)"
    if isinstance(value, dict):
        return "`{" + ", ".join(value) + "}`"
    if isinstance(value, list):
        return "`[]`" if not value else f"`{value}`"
    return f"`{value}`" if value is not None else "`null`"


def _sub_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel) and "dist" not in ann.model_fields:
        return ann
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        for a in typing.get_args(ann):
            sub = _sub_model(a)
            if sub is not None:
                return sub
    return None


def _rows(model: type[BaseModel], prefix: str, out: list[str]) -> None:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        rule = _constraints(field)
        typ = _type_name(ann) + (f" ({rule})" if rule else "")
        sub = _sub_model(ann)
        origin = typing.get_origin(ann)
        desc = field.description or ""
        if not desc and sub is not None and sub.__doc__:
            desc = " ".join(sub.__doc__.split("\n\n")[0].split())
        desc = desc.replace("|", "\\|")
        out.append(f"| `{key}` | {typ} | {_default(field)} | {desc} |")
        if origin is dict:
            sub = _sub_model(typing.get_args(ann)[1])
            if sub is not None:
                _rows(sub, f"{key}.NAME.", out)
        elif origin is list:
            sub = _sub_model(typing.get_args(ann)[0])
            if sub is not None:
                _rows(sub, f"{key}[].", out)
        elif sub is not None:
            _rows(sub, f"{key}.", out)


def scenario_reference_markdown() -> str:
    """Every scenario key with its type, rule, default and meaning, as a Markdown table."""
    lines = [
        "# Scenario reference",
        "",
        "Generated from the schema by `simcore schema --markdown`; do not edit by hand.",
        "",
        "A *distribution* is a mapping tagged by `dist`: `constant` (value), `exponential` (mean),",
        "`lognormal` and `gamma` (mean, sd), `uniform` (low, high), `triangular` (low, mode, high),",
        "`empirical` (values, optional weights); `unit` is seconds, minutes, hours or days (default",
        "hours). Shares are in [0, 1]; money in US dollars.",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    _rows(Scenario, "", lines)
    return "\n".join(lines) + "\n"
