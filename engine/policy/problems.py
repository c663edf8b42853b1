"""Problems found in a policy, reported the way a policy owner can act on them.

Every problem names the file and line it was found at, says what is wrong and
what would be right, so that `infoshare check` output can be read top to
bottom and fixed without knowing anything about the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str
    excerpt: str = field(default="", compare=False)  # the line as written, and a caret under the column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" + (f"\n{self.excerpt}" if self.excerpt else "")


class PolicyError(Exception):
    """A policy that must not be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
