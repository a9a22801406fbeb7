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
