"""The live page's empty state points a newcomer to docs/quickstart.md, with the page's own
first commands, and goes away once a declaration exists."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from dashboard_support import SendSet
from lxml import html

from declarations.messages import Direction, Regime

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"


async def test_an_empty_sandbox_points_to_the_quick_start(client: httpx.AsyncClient) -> None:
    page = html.fromstring((await client.get("/")).text)
    (pointer,) = page.xpath('//*[@id="quickstart"]')
    assert "docs/quickstart.md" in pointer.text_content()
    commands = [c.text_content() for c in pointer.xpath(".//code")]
    assert ".venv/bin/danchuang seed-demo" in commands
    # every command the pointer shows is one the quick start runs (its test runs them all)
    guide = QUICKSTART.read_text(encoding="utf-8")
    for command in commands:
        if command.startswith(".venv/"):
            assert command in guide, command
    assert re.search(r"samples 9610 --for-demo --out demo-sets", guide)


async def test_the_pointer_goes_once_a_declaration_exists(
    client: httpx.AsyncClient, send_set: SendSet
) -> None:
    await send_set(Regime.DIRECT, Direction.IMPORT)
    page = (await client.get("/")).text
    assert 'id="quickstart"' not in page and "docs/quickstart.md" not in page
