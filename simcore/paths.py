"""Output paths: checked by trying before any work, so a run never ends in a failed write."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def cannot_write(folder: Path) -> str | None:
    """Why nothing can be written in the existing ``folder``, or None when a file can be.

    Tries, rather than asking ``os.access``: that says yes to root even where writing fails
    (``/proc``, ``/sys``, a read-only mount). Leaves nothing behind.
    """
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".simcore-probe-", dir=folder))
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def create_unique(folder: Path | str, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a new file with a name no other writer holds; return its descriptor (open for
    writing) and path.

    Unlike :func:`tempfile.mkstemp`, whose files are 0600 whatever the umask, the file gets the
    mode the user's umask gives, like any other file simcore writes (a report or a store shared
    with a group stays readable by it).
    """
    for _ in range(100):
        path = Path(folder) / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no unused temporary name after 100 tries")


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all: to a uniquely named temporary file beside
    it (so two writers never share one), then renamed over it.

    Raises:
        OSError: the write failed; ``path`` is unchanged and no temporary file is left.
    """
    fd, tmp = create_unique(path.parent, f".tmp-{path.name}-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
