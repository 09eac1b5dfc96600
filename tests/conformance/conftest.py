"""Helpers for the conformance tests: an integrator's folder made from ``danchuang samples``."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from dressing import dress
from lxml import etree
from typer.testing import CliRunner

from app.cli import cli
from app.conformance.offline import CaseKind, Group, load_catalogue
from declarations.messages import BY_CODE, CEB_NS
from declarations.samples import to_bytes

C = "{" + CEB_NS + "}"


@pytest.fixture(scope="session")
def catalogue() -> list[Group]:
    return load_catalogue()


def with_app_type(data: bytes, app_type: str) -> bytes:
    """A copy of a message sent again as a change (2) or delete (3): new guid, same numbers."""
    root = etree.fromstring(data)
    root.set("guid", str(uuid.uuid4()).upper())
    for node in root.iter(C + "guid"):
        node.text = root.get("guid")
    for node in root.iter(C + "appType"):
        node.text = app_type
    return to_bytes(root)


def positive_cases(group: Group) -> list[str]:
    """Positive cases that need no special data (expected warnings need a costly item)."""
    return [c.id for c in group.cases if c.kind is CaseKind.POSITIVE and not c.exhibit.rules]


def add_app_type_copies(target: Path, group: Group, case_id: str) -> None:
    """The change/delete copies a case asks for, made from the set already in ``target``."""
    case = next(c for c in group.cases if c.id == case_id)
    for spec in case.documents:
        if spec.app_type == "1":
            continue
        kind = BY_CODE[spec.message].kind.value
        original = next(p for p in sorted(target.glob("*.xml")) if p.name.startswith(kind))
        copy = target / f"z-app{spec.app_type}-{original.name}"
        copy.write_bytes(with_app_type(original.read_bytes(), spec.app_type))


def take_follow_ups(target: Path, group: Group, case_id: str) -> None:
    """The messages after the 清单 a case sends (``samples --after`` wrote them under
    ``after/``) go into the case folder; the others are not the case's."""
    case = next(c for c in group.cases if c.id == case_id)
    wanted = {spec.message for spec in case.documents}
    for path in sorted((target / "after").glob("*.xml")):
        if path.stem.rsplit("-", 1)[-1] in wanted:
            shutil.move(str(path), str(target / path.name))
    shutil.rmtree(target / "after", ignore_errors=True)


@pytest.fixture
def arrange(tmp_path: Path) -> Callable[[Path, Group], list[str]]:
    """Run ``danchuang samples`` for ``group`` and move one set into the folder of each plain
    positive case (adding the change/delete copies those cases need); the case ids."""

    def fill(folder: Path, group: Group) -> list[str]:
        ids = positive_cases(group)
        out = tmp_path / f"samples-{group.regime.value}-{group.direction.value}"
        after = ["--after"]
        result = CliRunner().invoke(
            cli,
            [
                *("samples", group.regime.value, "--out", str(out), "--seed", "7"),
                *("--direction", group.direction.value, "--count", str(len(ids)), *after),
            ],
        )
        assert result.exit_code == 0, result.output
        sets = sorted(p for p in out.iterdir() if p.is_dir())
        for case_id, set_folder in zip(ids, sets, strict=True):
            shutil.move(str(set_folder), str(folder / case_id))
            take_follow_ups(folder / case_id, group, case_id)
            add_app_type_copies(folder / case_id, group, case_id)
            dress(folder / case_id, next(c for c in group.cases if c.id == case_id))
        return ids

    return fill
