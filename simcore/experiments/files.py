"""What every experiment file shares (sweep, optimisation, calibration): its keys validated, its
base scenario found, a problem placed at its line, and an override's problem traced to the key
that set it; and the resolved file an experiment's store is claimed with."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from simcore.errors import ScenarioError, StoreError
from simcore.paths import write_atomic
from simcore.scenario.loader import OVERRIDE, validation_problems
from simcore.scenario.yamlfile import read_yaml
from simcore.version import __version__

Spec = TypeVar("Spec", bound=BaseModel)


def read_spec(path: Path, model: type[Spec]) -> tuple[Spec, dict, Path]:
    """The file's keys validated as ``model``, the origins of its keys (file, line) and its
    ``base`` scenario file resolved against the file's folder.

    Raises:
        ScenarioError: a key breaks a rule (each at its line), or the base file is missing.
    """
    data, origins = read_yaml(path)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc, data, origins, str(path))) from None
    base_name = spec.base  # type: ignore[attr-defined]
    base = (path.parent / base_name).resolve()
    if not base.is_file():
        raise ScenarioError(f"{at(path, origins, 'base')}: base: file not found (got {base_name!r})")
    return spec, origins, base


def at(path: Path, origins: dict, *key: str) -> str:
    """``path:line`` of the first of ``key``'s prefixes the file sets (longest first), else ``path``."""
    for n in range(len(key), 0, -1):
        origin = origins.get(tuple(key[:n]))
        if origin:
            return f"{path}:{origin[1]}"
    return str(path)


def overridden(line: str, keys: list[str] | dict[str, Any]) -> tuple[str, str | None] | None:
    """For a scenario problem ``line`` found through overrides: (the problem after the
    override's prefix, the one of ``keys`` that set the key it names, or None); None when the
    problem is the base scenario's own."""
    if not line.startswith(OVERRIDE):
        return None
    body = line.split(": ", 1)[1]
    dotted = body.split(": ", 1)[0]
    return body, next((k for k in keys if dotted == k or dotted.startswith(k + ".")), None)


def claim_store(store: Path, name: str, resolved: dict[str, Any], source: Path, what: str) -> None:
    """Write ``store/name``, the experiment file as resolved, with a header naming ``source``.

    Raises:
        StoreError: the store already holds another ``what`` (its resolved file differs).
    """
    text = yaml.safe_dump(resolved, sort_keys=True)
    file = store / name
    if file.exists() and file.read_text(encoding="utf-8").split("\n", 1)[-1] != text:
        raise StoreError(f"{store}: holds the runs of another {what}; use a new folder")
    header = f"# Resolved {what} written by simcore {__version__} from {source}\n"
    write_atomic(file, (header + text).encode("utf-8"))
