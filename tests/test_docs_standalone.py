"""The documentation stands alone: it cites only what a user has.

The project was written from research notes that are not part of the repository. A comment or a
page that cites them sends the reader to a file they cannot open, so no tracked file may name
them; facts cite the official CEB message specification (section and page), a public source,
or the project's own docs. And every relative link of the Markdown pages must lead to a file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Spelt in pieces so that this file does not name them itself.
PRIVATE_NOTES = re.compile(
    "|".join(
        [
            *(re.escape(name + ".md") for name in ("DOMAIN", "DESIGN")),
            *(re.escape(name + "-NOTES") for name in ("SIMULATION", "ECOSYSTEM")),
            re.escape("DOMAIN") + r"\s*§",
        ]
    )
)

# An inline Markdown link or image: [text](target) or ![alt](target "title").
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [REPO / name for name in listing.decode("utf-8").split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:  # tracked but deleted in the working tree
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def relative_links(markdown: str) -> list[str]:
    """The link targets of a page that point into the repository (no URL, no bare anchor)."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", markdown))
    targets = []
    for target in _LINK.findall(prose):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue
        targets.append(target.split("#", 1)[0].split("?", 1)[0])
    return targets


def pages() -> list[Path]:
    readmes = [REPO / "README.md", REPO / "scenarios" / "README.md", REPO / "xsd" / "README.md"]
    return [*readmes, *sorted((REPO / "docs").glob("*.md"))]


def test_no_tracked_file_cites_the_private_notes() -> None:
    offenders = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if PRIVATE_NOTES.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:90]}")
    assert offenders == [], "cite the CEB spec or the project's docs instead:\n" + "\n".join(
        offenders
    )


def test_the_pattern_recognises_every_form_of_citation() -> None:
    cited = [
        "see DOMAIN" + ".md §4.3",
        "(DESIGN" + ".md, Layers)",
        "SIMULATION" + "-NOTES §3",
        "ECOSYSTEM" + "-NOTES B.6",
        "cf. DOMAIN" + " §4.2 (3)",
    ]
    assert all(PRIVATE_NOTES.search(text) for text in cited)
    assert not PRIVATE_NOTES.search("DOMAIN-independent limits; docs/architecture.md")


def test_relative_links_finds_links_but_not_urls_anchors_or_code() -> None:
    page = (
        "[a](docs/a.md) ![b](img/b.png) [c](https://x.org/c.md) [d](#top) [e](e.md#part)\n"
        "`[f](f.md)`\n```\n[g](g.md)\n```\n[h](mailto:x@y.z)\n"
    )
    assert relative_links(page) == ["docs/a.md", "img/b.png", "e.md"]


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.relative_to(REPO).as_posix())
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    broken = [
        target
        for target in relative_links(page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]
    assert broken == []


def test_the_readme_links_the_architecture_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in relative_links(readme)
    assert (REPO / "docs" / "architecture.md").is_file()
