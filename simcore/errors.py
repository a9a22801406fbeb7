"""Project exceptions: the errors a user can cause with bad input.

Every one is an :class:`InputError` (a ``ValueError``) that carries one readable line per
problem, each naming where (file and line, key, or argument), the rule and the value. The
``simcore`` command turns any of them into exit code 2 and its lines, without a traceback.

- :class:`ScenarioError`: a scenario or sweep file, or an override, breaks a rule (or a run
  would not fit in memory).
- :class:`ArgumentError`: a command's argument or a library call's argument is wrong
  (``jobs: must be >= 1 (got 0)``).
- :class:`StoreError`: an output folder or a sweep store cannot be used (in use by another
  sweep, holding another design, not writable).

Library code names the key, file or parameter; the CLI adds the flag it came from.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: every problem found, one human-readable line each.

    Attributes:
        problems: One line per problem, in the order found.
    """

    #: What the CLI's message calls this kind of input ("error: invalid scenario (2 problems)").
    what = "input"

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(InputError):
    """A scenario, sweep, optimisation or calibration file (or an override of one) breaks a
    rule: each problem names file, line, key, rule and value."""

    what = "scenario"


class ArgumentError(InputError):
    """An argument breaks a rule: each problem names the argument, the rule and the value."""

    what = "arguments"


class StoreError(InputError):
    """An output folder or sweep store cannot be used as asked: each problem names the folder
    and why."""

    what = "output folder"
