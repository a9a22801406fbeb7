"""Loading a scenario: YAML (with ``extends``) plus dotted overrides -> a validated :class:`Scenario`.

Errors are collected in one pass and raised as one :class:`ScenarioError` whose lines read
``file:line: dotted.key: rule (got value)``, with a "did you mean" for misspelt keys.
"""

from __future__ import annotations

import difflib
import stat
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from simcore.errors import ScenarioError
from simcore.scenario.schema import Scenario
from simcore.scenario.yamlfile import Origin, PathKey, load_value, read_yaml

#: Longest ``extends`` chain (files, the first included). The shipped scenarios use 2.
MAX_EXTENDS = 16
#: Where a problem in an override is said to be (the ``simcore`` command shows it as ``--set``).
OVERRIDE = "override"


def _replaces_whole(parent: dict, child: dict) -> bool:
    """A distribution spec whose ``dist`` differs from its parent's is another spec, not an edit
    of it: merging would keep the parent's parameters (a lognormal's ``sd`` under an exponential)."""
    return "dist" in child and child.get("dist") != parent.get("dist")


def _deep_merge(
    parent: dict, child: dict, replaced: list[PathKey] | None = None, prefix: PathKey = ()
) -> dict:
    """Child wins; mappings merge key by key, anything else (lists too) is replaced, and so is a
    distribution spec whose ``dist`` the child changes. The paths of parent mappings replaced
    whole are appended to ``replaced`` (their lines no longer apply)."""
    merged = dict(parent)
    for key, value in child.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            if not _replaces_whole(old, value):
                merged[key] = _deep_merge(old, value, replaced, (*prefix, key))
                continue
            if replaced is not None:
                replaced.append((*prefix, key))
        merged[key] = value
    return merged


def _resolve_file(path: Path, stack: tuple[Path, ...]) -> tuple[dict, dict[PathKey, Origin]]:
    """Read ``path`` and its ``extends`` chain. Messages show paths as the user wrote them
    (joined onto the child's folder); the resolved paths only detect cycles and count depth."""
    try:
        resolved = path.resolve()
    except RuntimeError:  # Python 3.11 raises this, not OSError, for a symbolic link loop
        raise ScenarioError(f"{path}: cannot read file (a symbolic link loop)") from None
    if resolved in stack:
        chain = " -> ".join(p.name for p in (*stack, resolved))
        raise ScenarioError(f"{stack[-1]}: extends: cycle detected ({chain})")
    data, origins = read_yaml(path)
    if not data:
        # Every key has a default, so an empty file would validate and run a scenario nobody wrote.
        raise ScenarioError(f"{path}: the file is empty: no scenario keys, only comments or blank lines")
    parent_ref = data.pop("extends", None)
    if parent_ref is None:
        return data, origins
    where = f"{path}:{origins.get(('extends',), (str(path), None))[1]}"
    if not isinstance(parent_ref, str):
        raise ScenarioError(f"{where}: extends: must be a file path (got {parent_ref!r})")
    parent_path = path.parent / parent_ref
    try:
        mode = parent_path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
        raise ScenarioError(f"{where}: extends: file not found (got {parent_ref!r})") from None
    except OSError as exc:  # a name too long, no permission, a symlink loop...
        raise ScenarioError(
            f"{where}: extends: cannot read file ({exc.strerror}) (got {parent_ref!r})"
        ) from None
    if stat.S_ISDIR(mode):
        raise ScenarioError(f"{where}: extends: must be a scenario file, not a folder (got {parent_ref!r})")
    if not stat.S_ISREG(mode):
        raise ScenarioError(
            f"{where}: extends: must be a regular file, not a device or pipe (got {parent_ref!r})"
        )
    if len(stack) + 1 >= MAX_EXTENDS:
        # Counted here, before reading the parent: a chain this long is generated, not written.
        raise ScenarioError(
            f"{where}: extends: a chain may hold at most {MAX_EXTENDS} files "
            f"(got more: {' -> '.join(p.name for p in (*stack, resolved))} -> {parent_ref})"
        )
    parent_data, parent_origins = _resolve_file(parent_path, (*stack, resolved))
    replaced: list[PathKey] = []
    merged = _deep_merge(parent_data, data, replaced)
    for gone in replaced:
        parent_origins = {k: v for k, v in parent_origins.items() if k[: len(gone)] != gone}
    origins = {**parent_origins, **origins}
    origins.pop(("extends",), None)
    return merged, origins


# --------------------------------------------------------------------------- overrides


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Parse ``dotted.key=value`` strings (the ``--set`` of the command line); each value is read
    as YAML.

    Raises:
        ScenarioError: a pair without ``=`` or with an empty key, or a value that is not YAML.
    """
    out: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"{OVERRIDE} {pair!r}: expected dotted.key=value")
            continue
        try:
            out[key] = load_value(raw) if raw.strip() else ""
        except (ComposerError, ConstructorError) as exc:  # past a limit, or a tag that cannot convert
            problems.append(f"{OVERRIDE} {key}: {exc.problem} (got {_fmt_value(raw)})")
        except yaml.YAMLError:
            problems.append(f"{OVERRIDE} {key}: value is not valid YAML (got {raw!r})")
    if problems:
        raise ScenarioError(problems)
    return out


def _apply_overrides(data: dict, overrides: Mapping[str, Any], origins: dict[PathKey, Origin]) -> dict:
    data = _deep_merge(data, {})
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        if any(not p for p in parts):
            raise ScenarioError(f"{OVERRIDE} {dotted}: empty key segment")
        node = data
        for depth, part in enumerate(parts[:-1], start=1):
            child = node.get(part)
            if not isinstance(child, dict):
                # A section the override creates (or replaces) is the override's, for messages.
                origins[tuple(parts[:depth])] = (OVERRIDE, None)
            # Copy on the way down so a caller's dict is never mutated.
            child = dict(child) if isinstance(child, dict) else {}
            node[part] = child
            node = child
        node[parts[-1]] = value
        for key in [k for k in origins if k[: len(parts)] == tuple(parts)]:
            del origins[key]  # lines of what the override replaced no longer apply
        origins[tuple(parts)] = (OVERRIDE, None)
    return data


# --------------------------------------------------------------------------- validation errors


def _key_tree(ann: Any) -> dict | None:
    """The keys a type accepts, as a tree, for "did you mean" suggestions."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _key_tree(typing.get_args(ann)[0])
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return {"keys": {n: _key_tree(f.annotation) for n, f in ann.model_fields.items()}}
    if origin in (typing.Union, types.UnionType):
        merged: dict = {"keys": {}}
        for arg in typing.get_args(ann):
            sub = _key_tree(arg)
            if sub:
                merged["keys"].update(sub.get("keys", {}))
                if "any" in sub:
                    merged["any"] = sub["any"]
        return merged
    if origin in (dict, list):
        return {"any": _key_tree(typing.get_args(ann)[-1])}
    return None


_TREE = _key_tree(Scenario)


def _keys_at(parent: PathKey) -> list[str]:
    """The keys the schema accepts under ``parent`` (none when it is not a mapping)."""
    node = _TREE
    for part in parent:
        if node is None:
            return []
        if isinstance(part, str) and part in node.get("keys", {}):
            node = node["keys"][part]
        elif "any" in node:
            node = node["any"]
        else:
            return []
    return list(node.get("keys", {})) if node else []


def _suggest(parent: PathKey, key: str) -> str:
    # Never the rejected key itself: a union's keys (every dist's parameters) include it when
    # another member accepts it.
    close = difflib.get_close_matches(key, [k for k in _keys_at(parent) if k != key], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_key(parent: PathKey, key: str, data: Any) -> str:
    """The message for a key the schema refuses under ``parent``."""
    if key in _keys_at(parent):  # accepted by another member of a union: another dist's parameter
        node: Any = data
        for part in parent:  # the path of a problem pydantic found in this data: it exists
            node = node[part]
        dist = node.get("dist") if isinstance(node, dict) else None
        return f"unknown key for dist {dist!r}" if dist is not None else "unknown key here"
    return "unknown key" + _suggest(parent, key)


def _clean_loc(loc: tuple, data: Any, keep_last: bool) -> PathKey:
    """Drop the union-member tags pydantic adds to a location, keeping real keys."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and part < len(node)
        ):
            out.append(part)
            node = node[part]
        elif last and (keep_last or part in _keys_at(tuple(out))):
            out.append(part)  # a key the data lacks: missing, unknown, or defaulted and invalid
        else:
            continue  # a union tag such as 'exponential' or "literal['flat']"
    return tuple(out)


def _where(path: PathKey, origins: dict[PathKey, Origin], default_file: str) -> str:
    for n in range(len(path), -1, -1):
        origin = origins.get(path[:n])
        if origin is not None:
            file, line = origin
            return f"{file}:{line}" if line is not None else file
    return default_file


def _fmt_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validation_problems(
    exc: ValidationError, data: dict, origins: dict[PathKey, Origin], source: str
) -> list[str]:
    by_path: dict[PathKey, dict] = {}
    for err in exc.errors(include_url=False):
        kind = err["type"]
        path = _clean_loc(err["loc"], data, keep_last=kind in ("missing", "extra_forbidden"))
        dotted = ".".join(str(p) for p in path) or "(top level)"
        where = _where(path, origins, source)
        if kind == "extra_forbidden":
            msg = _unknown_key(path[:-1], str(path[-1]), data)
        elif kind == "missing":
            msg = "required key is missing"
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            if kind != "value_error":
                msg = f"{msg} (got {_fmt_value(err.get('input'))})"
        entry = by_path.setdefault(path, {"where": where, "dotted": dotted, "msgs": []})
        if msg not in entry["msgs"]:
            entry["msgs"].append(msg)
    lines = []
    for entry in by_path.values():
        joined = " | or: ".join(entry["msgs"])
        lines.append(f"{entry['where']}: {entry['dotted']}: {joined}")
    return sorted(lines, key=_line_sort_key)


def _line_sort_key(line: str) -> tuple:
    head = line.split(": ", 1)[0]
    file, _, num = head.rpartition(":")
    return (file, int(num)) if num.isdigit() else (head, 0)


# --------------------------------------------------------------------------- public API


def scenario_from_dict(
    data: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    *,
    source: str = "<dict>",
    origins: dict[PathKey, Origin] | None = None,
    base_dir: str | Path | None = None,
) -> Scenario:
    """Validate a plain mapping (as read from YAML) into a frozen :class:`Scenario`.

    ``base_dir``: where a policy's ``module:Class`` set by an override is looked for when Python's
    path has no such module (one set in a file is looked for next to that file;
    :mod:`simcore.scenario.schema.policy`).

    Raises:
        ScenarioError: every problem found, one line each.
    """
    origins = dict(origins or {})
    merged = _apply_overrides(dict(data), overrides or {}, origins)
    merged.pop("extends", None)
    merged = _policy_folders(merged, origins, base_dir)
    try:
        return Scenario.model_validate(merged, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc, merged, origins, source)) from None


def _policy_folders(
    data: Any, origins: dict[PathKey, Origin], base_dir: str | Path | None, at: PathKey = ()
) -> Any:
    """``data`` with each researcher's policy (a mapping whose ``kind`` is ``module:Class``)
    given the folder to look for its module in, unless it names one: the folder of the file
    that set its ``kind``, or ``base_dir`` for an override."""
    if not isinstance(data, dict):
        return data
    out = {k: _policy_folders(v, origins, base_dir, (*at, k)) for k, v in data.items()}
    kind = out.get("kind")
    if isinstance(kind, str) and ":" in kind and not out.get("search_path"):
        file, _ = origins.get((*at, "kind"), (OVERRIDE, None))
        folder = Path(file).parent if file != OVERRIDE else base_dir
        if folder is not None:
            out["search_path"] = str(folder)
    return out


def load_scenario(
    path: str | Path, overrides: Mapping[str, Any] | None = None, *, overrides_dir: str | Path | None = None
) -> Scenario:
    """Load a scenario file, following ``extends`` and applying dotted ``overrides``.

    Args:
        path: YAML scenario file.
        overrides: ``{"buyers.fraud_rate": 0.02}``; values are used as given (the CLI parses
            ``--set`` strings with :func:`parse_overrides` first).
        overrides_dir: Where a policy's module named by an override is looked for (a sweep
            file's folder); the scenario file's folder by default.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: unreadable file, invalid YAML, an ``extends`` cycle, or schema violations
            (all reported together).
    """
    path = Path(path)
    data, origins = _resolve_file(path, ())
    folder = path.parent if overrides_dir is None else overrides_dir
    return scenario_from_dict(data, overrides, source=str(path), origins=origins, base_dir=folder)
