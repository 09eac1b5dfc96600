"""Names the service tests share (a plain module: test modules must not import conftest, whose
module name is the same in every test folder)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Party:
    id: int
    code: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


PartyFactory = Callable[..., Party]
