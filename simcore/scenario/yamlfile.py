"""Reading a YAML file safely, with the line of every key: the edge where scenario and sweep
files enter.

Hostile input is refused within about a second instead of exhausting time, memory or the stack:
files are checked before parsing (a regular file, at most :data:`MAX_FILE_BYTES`, UTF-8 text),
and parsing stops past :data:`MAX_NODES` values or :data:`MAX_DEPTH` levels once aliases are
expanded. Only plain YAML is read (a SafeLoader: no Python tags). Every problem is a
:class:`ScenarioError` naming the file and line.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from simcore.errors import ScenarioError

Origin = tuple[str, int | None]  # (file or "override", 1-based line)
PathKey = tuple[str | int, ...]

# Limits on what a scenario file may be, so that hostile input is refused within about a second
# instead of exhausting time, memory or the stack. Each is far above what a scenario needs.

#: Largest scenario file read, in bytes; larger files are refused by size, unread. Shipped
#: scenarios are 0.4-13 KB. PyYAML's pure-Python scanner is slow even where no value is counted
#: against MAX_NODES (measured on a busy 2-core machine: 1 MiB of blank lines 1.8 s, of comments
#: 1.0 s; idle, 2 MB of comments 0.7 s), so a 10 MB file could take ~20 s to be refused.
MAX_FILE_BYTES = 256 * 1024
#: Most values (scalars, lists and mappings) a document may hold once aliases are expanded.
#: baseline.yaml holds ~700 (an empirical duration may list a few thousand). The cap stops
#: "billion laughs" alias bombs, whose expansion would exhaust memory downstream, and bounds
#: parse time: 50,000 list items took 2.4 s to compose on a busy 2-core machine, 10,000 ~0.5 s.
MAX_NODES = 10_000
#: Deepest nesting of values, the document's top mapping being level 1. The schema needs 6
#: (buyers.arrival_profile.promotions[0].start); PyYAML composes recursively and would hit
#: Python's recursion limit at ~300.
MAX_DEPTH = 32


class _Loader(yaml.SafeLoader):
    """SafeLoader with limits, and with dates left as text.

    Dates stay text so that pydantic parses them and reports an impossible date (2026-02-30) as a
    located problem instead of PyYAML raising a bare ValueError. The limits (:data:`MAX_DEPTH`,
    :data:`MAX_NODES`) are checked while composing, before anything is constructed, and raise
    ``ComposerError`` with the line where they were crossed; values an explicit tag cannot
    convert (``!!int abc``) raise ``ConstructorError`` at their line.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        # Counted as composed, so a huge or deep document is refused as soon as it crosses a
        # limit, without reading the rest of it.
        mark = self.peek_event().start_mark
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ComposerError(None, None, _too_many(), mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, _too_deep(), mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            _measure(node, 1, {}, set())
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            # An explicit tag whose value does not convert (!!int abc, !!timestamp 2026-02-30,
            # an integer of more than 4300 digits): PyYAML lets the bare error out.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConstructorError(
                None, None, f"cannot read the value as {tag} ({exc})", node.start_mark
            ) from None


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _too_many() -> str:
    return (
        f"more than {MAX_NODES:,} values once aliases are expanded (limit {MAX_NODES:,}; "
        "a scenario holds a few hundred)"
    )


def _too_deep() -> str:
    return f"values nested more than {MAX_DEPTH} levels deep (limit {MAX_DEPTH})"


def _measure(
    node: yaml.Node, depth: int, memo: dict[int, tuple[int, int]], active: set[int]
) -> tuple[int, int]:
    """(values, levels) of ``node`` with aliases expanded, refusing a document past the limits.

    Aliases make the composed document a graph whose expansion can be exponentially larger than
    the file (a "billion laughs" bomb is 9 lines), or cyclic (``a: &a [*a]``). Each distinct node
    is measured once (``memo``), so this takes time linear in the file, and the recursion never
    goes deeper than :data:`MAX_DEPTH`.

    Raises:
        ComposerError: a cyclic alias, or more than :data:`MAX_NODES` values or
            :data:`MAX_DEPTH` levels once expanded.
    """
    if depth > MAX_DEPTH:
        raise ComposerError(None, None, _too_deep() + " once aliases are expanded", node.start_mark)
    key = id(node)
    found = memo.get(key)
    if found is None:
        if key in active:
            raise ComposerError(
                None, None, "an alias refers to a list or mapping containing it", node.start_mark
            )
        active.add(key)
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        values, levels = 1, 1
        for child in children:
            child_values, child_levels = _measure(child, depth + 1, memo, active)
            values += child_values
            levels = max(levels, child_levels + 1)
            if values > MAX_NODES:
                raise ComposerError(None, None, _too_many(), node.start_mark)
        active.discard(key)
        memo[key] = found = (values, levels)
    if depth - 1 + found[1] > MAX_DEPTH:
        raise ComposerError(None, None, _too_deep() + " once aliases are expanded", node.start_mark)
    return found


def load_value(text: str) -> Any:
    """Parse one YAML value (used for ``--set``) with the same rules as scenario files."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def _read_text(path: Path) -> str:
    """The text of a scenario file, refused before parsing when it cannot be one.

    Raises:
        ScenarioError: a missing or unreadable file, a folder, a device or pipe (reading
            ``/dev/zero`` would never end), more than :data:`MAX_FILE_BYTES`, binary data (a NUL
            byte), or bytes that are not UTF-8.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(f"{path}: cannot read file (it is a folder)")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"{path}: cannot read file (not a regular file)")
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: file too large: {_size_rule()} (got {_size(info.st_size)})")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: file too large: {_size_rule()} (got more)")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # its NUL bytes would read as binary below
        raise ScenarioError(
            f"{path}:1: not UTF-8 text (UTF-16, by its byte-order mark); save the file as UTF-8"
        )
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise ScenarioError(
            f"{path}:{line}: not a text file (a NUL byte at offset {nul}): a scenario is YAML text"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column}); "
            "save the file as UTF-8"
        ) from None


def _size(n: int) -> str:
    if n < 2**10:
        return f"{n:,} bytes"
    human = f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"
    return f"{human}, {n:,} bytes"


def _size_rule() -> str:
    return f"a scenario file must be at most {_size(MAX_FILE_BYTES)}"


def read_yaml(path: Path) -> tuple[dict, dict[PathKey, Origin]]:
    """Parse one YAML file into data plus the line of every key it sets.

    Raises:
        ScenarioError: unreadable file, invalid YAML, a non-mapping document, duplicate keys.
    """
    text = _read_text(path)
    loader = None
    try:
        loader = _Loader(text)  # checks every character is allowed in YAML
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.reader.ReaderError as exc:
        # Raised with a character offset, not a line.
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(
            f"{path}:{line}: invalid YAML: control character #x{exc.character:04x} is not allowed"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{where}: invalid YAML: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: the scenario must be a mapping of keys (got {type(data).__name__})")
    origins: dict[PathKey, Origin] = {}
    duplicates: list[str] = []
    if node is not None:
        _collect_lines(node, (), str(path), origins, duplicates)
    if duplicates:
        raise ScenarioError(duplicates)
    return data, origins


def _collect_lines(
    node: yaml.Node, prefix: PathKey, file: str, out: dict[PathKey, Origin], duplicates: list[str]
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            path = prefix + (key,)
            if path in out:
                # PyYAML keeps the last value silently; a repeated key is almost always a mistake.
                dotted = ".".join(str(p) for p in path)
                duplicates.append(
                    f"{file}:{line}: {dotted}: duplicate key (first set on line {out[path][1]})"
                )
            out[path] = (file, line)
            _collect_lines(value_node, path, file, out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[prefix + (i,)] = (file, item.start_mark.line + 1)
            _collect_lines(item, prefix + (i,), file, out, duplicates)
