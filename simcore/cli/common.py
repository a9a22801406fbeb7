"""What every ``simcore`` command shares: exit codes, printing problems, checking ``--out``."""

from __future__ import annotations

import sys
from pathlib import Path

from simcore.errors import ScenarioError
from simcore.paths import cannot_write

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def print_problems(exc: ScenarioError) -> None:
    n = len(exc.problems)
    # Problems with command-line flags (--out, --jobs, ...) are not the scenario's fault;
    # --set overrides are scenario values.
    flags = all(line.startswith("--") and not line.startswith("--set") for line in exc.problems)
    what = "arguments" if flags else "scenario"
    print(f"error: invalid {what} ({n} problem{'s' if n != 1 else ''}):", file=sys.stderr)
    for line in exc.problems:
        print(f"  {line}", file=sys.stderr)


def check_out_dir(out: Path) -> None:
    """Fail before the run, not after it, when ``out`` cannot be a writable folder."""
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out: exists and is not a folder (got {str(out)!r})")
    existing = out.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ScenarioError(f"--out: {str(existing)!r} is a file, so {str(out)!r} cannot be a folder")
    # The outputs are first written to a temporary folder right here.
    why = cannot_write(existing)
    if why is not None:
        raise ScenarioError(f"--out: cannot write in {str(existing)!r} ({why})")
