"""What every ``simcore`` command shares: exit codes, printing problems, checking ``--out``."""

from __future__ import annotations

import sys
from pathlib import Path

from simcore.errors import ArgumentError, InputError
from simcore.paths import cannot_write
from simcore.scenario.loader import OVERRIDE

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
#: The reader of standard output went away (``simcore trace ... | head``): 128 + SIGPIPE, the
#: code of a command the signal ends, as the shell's own tools end there.
EXIT_PIPE_CLOSED = 141


def print_problems(exc: InputError) -> None:
    """``error: invalid WHAT (N problems):`` and one indented line per problem, on stderr.

    Problems the library places in an override are shown at the flag that gave it, ``--set``.
    """
    n = len(exc.problems)
    print(f"error: invalid {exc.what} ({n} problem{'s' if n != 1 else ''}):", file=sys.stderr)
    for line in exc.problems:
        if line.startswith(OVERRIDE):
            line = "--set" + line[len(OVERRIDE) :]
        print(f"  {line}", file=sys.stderr)


def warn(lines: list[str], *, source: str | None = None) -> None:
    """``warning: SOURCE: LINE`` on stderr for each line (the run goes on)."""
    prefix = f"{source}: " if source else ""
    for line in lines:
        print(f"warning: {prefix}{line}", file=sys.stderr)


def flagged(flag: str, exc: InputError) -> ArgumentError:
    """``exc``'s problems as problems of the argument ``flag`` gave (``--precision: ...``)."""
    return ArgumentError([f"{flag}: {line}" for line in exc.problems])


def check_out_dir(out: Path, flag: str = "--out") -> None:
    """Fail before the run, not after it, when ``out`` cannot be a writable folder.

    Raises:
        ArgumentError: ``out`` is a file, lies under a file, or cannot be written in.
    """
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"{flag}: exists and is not a folder (got {str(out)!r})")
    existing = out.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ArgumentError(f"{flag}: {str(existing)!r} is a file, so {str(out)!r} cannot be a folder")
    # The outputs are first written to a temporary folder right here.
    why = cannot_write(existing)
    if why is not None:
        raise ArgumentError(f"{flag}: cannot write in {str(existing)!r} ({why})")
