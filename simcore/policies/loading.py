"""Building a decision point's policy from the scenario's choice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simcore.scenario.schema.policy import PolicySpec, resolve


def build(spec: PolicySpec, builtins: Mapping[str, Callable[..., Any]]) -> Any:
    """The policy ``spec`` names: ``builtins[kind](**params)`` for a built-in kind, else the
    researcher's ``module:Class`` called with ``params`` (validated when the scenario was
    loaded; imported here again, from ``spec.search_path`` if it was found there, as a worker
    process must)."""
    if ":" not in spec.kind:
        return builtins[spec.kind](**spec.params)
    policy, _ = resolve(spec.kind, spec.search_path)
    return policy(**spec.params)
