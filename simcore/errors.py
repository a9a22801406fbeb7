"""Project exceptions.

`ScenarioError` is the one error a user can cause with bad input; the CLI turns it into exit
code 2 and a readable message without a traceback.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """Bad scenario input: every problem found, each naming file, line, key, rule and value.

    Attributes:
        problems: One human-readable line per problem, in file order.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
