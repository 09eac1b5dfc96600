"""``danchuang samples``: writes valid sets per regime and direction; clear usage errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree
from typer.testing import CliRunner

from app.cli import cli
from app.demo import DEMO_ENTERPRISES, demo_parties, seed_demo
from app.main import create_app
from app.settings import Settings
from declarations import validate, validate_set
from declarations.messages import CEB_NS, Direction, Regime
from declarations.samples import generate_sets

runner = CliRunner()


def written(out: Path) -> dict[str, list[Path]]:
    return {d.name: sorted(d.glob("*.xml")) for d in sorted(out.iterdir()) if d.is_dir()}


@pytest.mark.parametrize(
    ("args", "folder", "files"),
    [
        (["9610"], "9610-import-0001", 4),
        (["9610", "--direction", "export"], "9610-export-0001", 4),
        (["1210", "-d", "import"], "1210-import-0001", 4),
        (["1210", "--direction", "export"], "1210-export-0001", 4),
        (["9710"], "9710-export-0001", 3),
        (["9810", "--direction", "export"], "9810-export-0001", 3),
    ],
)
def test_writes_valid_sets(tmp_path: Path, args: list[str], folder: str, files: int) -> None:
    out = tmp_path / "out"
    result = runner.invoke(cli, ["samples", *args, "--out", str(out), "--count", "2"])
    assert result.exit_code == 0, result.output
    assert "wrote 2" in result.output
    sets = written(out)
    assert sorted(sets)[0] == folder and len(sets) == 2
    for paths in sets.values():
        assert len(paths) == files
        report = validate_set([(p.name, p.read_bytes()) for p in paths])
        assert report.valid and report.findings == []


def test_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(
            cli, ["samples", "1210", "--out", str(tmp_path / name), "--seed", "9"]
        )
        assert result.exit_code == 0
    a, b = written(tmp_path / "a"), written(tmp_path / "b")
    assert [p.read_bytes() for ps in a.values() for p in ps] == [
        p.read_bytes() for ps in b.values() for p in ps
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["9999"], "unknown regime '9999'"),
        (["9710", "--direction", "import"], "9710 has no import direction"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["samples", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = runner.invoke(cli, ["samples", "9610", "--out", str(target)])
    assert result.exit_code == 2 and "not a folder" in result.output


# --- --for-demo: sets the keys of `danchuang seed-demo` may send -----------------------------

PARTY_FIELDS = ("ebpCode", "ebcCode", "payCode", "logisticsCode", "agentCode", "copCode",
                "assureCode", "ownerCode", "areaCode", "iacCode")  # fmt: skip
REGIMES_AND_DIRECTIONS = [
    ("9610", "import"),
    ("9610", "export"),
    ("1210", "import"),
    ("1210", "export"),
    ("9710", "export"),
    ("9810", "export"),
]


def party_codes(path: Path) -> dict[str, set[str]]:
    root = etree.fromstring(path.read_bytes())
    found: dict[str, set[str]] = {}
    for element in root.iter(f"{{{CEB_NS}}}*"):
        name = etree.QName(element).localname
        if name in PARTY_FIELDS:
            found.setdefault(name, set()).add(element.text or "")
    return found


@pytest.mark.parametrize(("regime", "direction"), REGIMES_AND_DIRECTIONS)
def test_for_demo_puts_the_demo_codes_in_every_party_field(
    tmp_path: Path, regime: str, direction: str
) -> None:
    out = tmp_path / "out"
    args = ["samples", regime, "-d", direction, "--for-demo", "--out", str(out), "-n", "2"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "for the demo enterprises of seed-demo" in result.output
    demo = {d.code for d in DEMO_ENTERPRISES if d.direction == direction}
    for paths in written(out).values():
        report = validate_set([(p.name, p.read_bytes()) for p in paths])
        assert report.valid and report.findings == []
        for path in paths:
            codes = party_codes(path)
            assert "copCode" in codes
            for field, values in codes.items():
                assert values <= demo, (path.name, field, values)


def test_for_demo_changes_only_the_enterprises(tmp_path: Path) -> None:
    """The same seed draws the same deal; --for-demo only swaps the invented enterprises."""
    plain = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=5)[0].deal
    demo = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=5, parties=demo_parties("import"))[
        0
    ].deal
    assert (demo.order_no, demo.lines, demo.buyer) == (plain.order_no, plain.lines, plain.buyer)
    assert demo.platform.code == "3301960101" != plain.platform.code
    with pytest.raises(ValueError, match="unknown party role"):
        generate_sets(Regime.DIRECT, parties={"buyer": demo.platform})


@pytest.mark.parametrize(("regime", "direction"), REGIMES_AND_DIRECTIONS)
async def test_each_demo_key_is_accepted_for_its_own_document(
    tmp_path: Path, regime: str, direction: str
) -> None:
    """Through the real API: seed-demo's keys send a --for-demo set, each party its own
    document, and the set is complete and reconciled (no 403, no refusal)."""
    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'danchuang.db'}",
        run_background_in_api=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    out = tmp_path / "sets"
    args = ["samples", regime, "-d", direction, "--for-demo", "--out", str(out)]
    assert runner.invoke(cli, args).exit_code == 0
    (paths,) = written(out).values()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        keys = {s.demo.code: s.key for s in seed_demo(app.state.database, tmp_path / "keys.json")}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in paths:
                sender = etree.fromstring(path.read_bytes()).findtext(f".//{{{CEB_NS}}}copCode")
                response = await client.post(
                    "/api/v1/documents",
                    content=path.read_bytes(),
                    headers={
                        "Authorization": f"Bearer {keys[str(sender)]}",
                        "Content-Type": "application/xml",
                    },
                )
                assert response.status_code == 201, (path.name, response.text)
                answer = response.json()
                assert answer["return_status"] in (3, 120), (path.name, answer["receipts"])
    assert answer["declaration"]["state"] == "clearance_ready", answer["declaration"]


def test_after_writes_what_may_follow_each_list_and_it_validates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(cli, ["samples", "9610", "--out", str(out), "--after"])
    assert result.exit_code == 0, result.output
    after = sorted(p.name for p in out.glob("*/after/*.xml"))
    assert after == [
        "cancellation-CEB623.xml",
        "delivery-CEB513.xml",
        "return-CEB625.xml",
        "site-entry-CEB711.xml",  # 9610: the goods enter the supervised site
        "tax-bill-CEB816.xml",  # customs' own, after release
        "tax-status-CEB818.xml",
    ]
    for path in out.glob("*/after/*.xml"):
        report = validate(path.read_bytes(), source=path.name)
        assert report.valid and not report.findings, (path.name, report.findings)


@pytest.mark.parametrize("regime", ["9610", "1210", "9710", "9810"])
def test_after_writes_what_may_follow_an_export_list_and_it_validates(
    tmp_path: Path, regime: str
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["samples", regime, "-d", "export", "--out", str(out), "--after", "--count", "2"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*-0001/after/*.xml")) == [
        "arrival-CEB507.xml",
        "cancellation-CEB605.xml",
        "departure-CEB509.xml",
        "master-waybill-CEB607.xml",
        "return-CEB213.xml",
        "return-tally-CEB215.xml",
        "summary-CEB701.xml",
    ]
    for path in out.glob("*/after/*.xml"):
        report = validate(path.read_bytes(), source=path.name, regime=regime)
        assert report.valid and not report.findings, (path.name, report.findings)
