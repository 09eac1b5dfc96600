"""What is wrong with a scenario or trace file, and where: ``ScenarioError``.

Its own module so that both the scenario loader (``simulation.scenario``) and the trace reader
(``simulation.arrivals``) raise it without importing each other; import it from
``simulation.scenario``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ScenarioProblem:
    """One thing wrong in a scenario (or trace) file, where it is."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {field}{self.message}"


class ScenarioError(ValueError):
    """A scenario (or trace) that cannot be used; ``str()`` names the file, line and field of
    each problem, one line each. ``file``, ``line``, ``field`` and ``message`` are the first's."""

    def __init__(
        self,
        file: str,
        line: int | None,
        field: str,
        message: str,
        *,
        more: Sequence[ScenarioProblem] = (),
    ) -> None:
        self.file, self.line, self.field, self.message = file, line, field, message
        self.problems = (ScenarioProblem(file, line, field, message), *more)
        super().__init__("\n".join(str(p) for p in self.problems))
