"""The ``simcore`` command line: run, sweep, warmup, report, export, trace, validate, schema, kpis.

Exit codes: 0 success, 2 bad input (scenario, overrides, arguments), 1 internal error, 130
interrupted, 141 standard output's reader gone (``| head``). This
package is the only place that prints or parses argv: the arguments (``parser``), running
scenarios and sweeps (``runs``), the commands around runs (``tools``), and what they share
(``common``).
"""

from __future__ import annotations

import os
import select
import sys
import tempfile
import traceback
from pathlib import Path

from simcore.cli.common import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_PIPE_CLOSED, print_problems
from simcore.cli.parser import build_parser
from simcore.cli.runs import calibrate_command, optimize_command, run_command, sweep_command
from simcore.cli.tools import (
    export_command,
    kpis_command,
    report_command,
    schema_command,
    trace_command,
    validate_command,
    warmup_command,
)
from simcore.engine.tuning import hold_mmap_threshold
from simcore.errors import InputError
from simcore.paths import create_unique
from simcore.version import __version__

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "main"]

#: Each command's function: parsed arguments in, exit code out.
COMMANDS = {
    "run": run_command,
    "sweep": sweep_command,
    "optimize": optimize_command,
    "calibrate": calibrate_command,
    "warmup": warmup_command,
    "export": export_command,
    "report": report_command,
    "trace": trace_command,
    "validate": validate_command,
    "schema": schema_command,
    "kpis": kpis_command,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simcore`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    hold_mmap_threshold()  # the command's process runs nothing but simcore (simcore.engine.tuning)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print_problems(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: a bug to report, with the traceback on file
        if isinstance(exc, BrokenPipeError) and _reader_gone():
            return EXIT_PIPE_CLOSED  # the rest of the output has nowhere to go: not our error
        where = _write_crash_report(argv)
        print(f"simcore: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if where is None:
            traceback.print_exc()
        else:
            print(f"  the full traceback is in {where}; please attach it when reporting", file=sys.stderr)
        return EXIT_INTERNAL


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it (``simcore trace ... |
    head``); if so, standard output is pointed at the null device, so that the interpreter's
    last flush at exit does not fail again. A broken pipe elsewhere (a cluster's connection) is
    not this, and stays an internal error."""
    try:
        fd = sys.stdout.fileno()
        poll = select.poll()
        poll.register(fd, select.POLLOUT)
        # Linux flags a pipe whose reader closed with POLLERR, other systems with POLLHUP.
        gone = any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no file behind it (a notebook's, a test's)
        return False
    if gone:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    return gone


def _write_crash_report(argv: list[str] | None) -> Path | None:
    """Write the current exception's traceback, the command and versions to a file in the
    temporary folder; None if that fails (the caller then prints the traceback)."""
    import platform
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = create_unique(tempfile.gettempdir(), f"simcore-crash-{stamp}-", ".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"simcore {__version__}, Python {platform.python_version()}, {platform.platform()}\n")
            out.write(f"command: simcore {' '.join(sys.argv[1:] if argv is None else argv)}\n\n")
            out.write(traceback.format_exc())
        return name
    except OSError:
        return None
