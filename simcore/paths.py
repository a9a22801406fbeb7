"""Output paths: checked by trying before any work, so a run never ends in a failed write."""

from __future__ import annotations

import os
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


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all: to a uniquely named temporary file beside
    it (so two writers never share one), then renamed over it.

    Raises:
        OSError: the write failed; ``path`` is unchanged and no temporary file is left.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
