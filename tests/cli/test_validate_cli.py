"""``danchuang validate``: exit codes, the three output formats, and sets given together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from app.cli import cli
from declarations.messages import CEB_NS, Direction, Regime
from declarations.samples import generate_sets, to_bytes

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def write_set(
    folder: Path,
    regime: Regime = Regime.DIRECT,
    direction: Direction = Direction.IMPORT,
    seed: int = 0,
) -> dict[str, Path]:
    (generated,) = generate_sets(regime, direction, seed=seed, count=1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, root in generated.documents.items():
        paths[name] = folder / name
        paths[name].write_bytes(to_bytes(root))
    return paths


def edit(path: Path, field: str, value: str) -> None:
    root = etree.fromstring(path.read_bytes())
    node = root.find(f".//{{{CEB_NS}}}{field}")
    assert node is not None
    node.text = value
    path.write_bytes(to_bytes(root))


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["validate", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_valid_set_exits_0_with_a_readable_listing(tmp_path: Path) -> None:
    paths = write_set(tmp_path)
    code, out, err = run(*paths.values())
    assert code == 0, out
    assert err == ""
    for path in paths.values():
        assert f"{path}: valid (CEB" in out
    assert "4 of 4 file(s) valid" in out


def test_an_invalid_file_exits_1_and_names_file_line_rule(tmp_path: Path) -> None:
    paths = write_set(tmp_path)
    order = paths["order-CEB311.xml"]
    edit(order, "orderNo", "N" * 61)
    code, out, _ = run(order)
    assert code == 1
    line = next(n for n, text in enumerate(order.read_text().splitlines(), 1) if "orderNo" in text)
    assert f"{order}: INVALID" in out
    assert f"{order}:{line} error schema.too-long: orderNo has 61 characters" in out


def test_json_lines_one_object_per_file(tmp_path: Path) -> None:
    paths = write_set(tmp_path)
    edit(paths["payment-CEB411.xml"], "amountPaid", "many")
    code, out, _ = run("--format", "json", *paths.values())
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in rows] == [str(p) for p in paths.values()]
    by_file = {Path(r["file"]).name: r for r in rows}
    payment = by_file["payment-CEB411.xml"]
    assert payment["valid"] is False
    assert payment["message_type"] == "CEB411" and payment["regime"] == "9610"
    (finding,) = [f for f in payment["findings"] if f["layer"] == "schema"]
    assert finding["rule"] == "schema.type"
    assert finding["field"] == "amountPaid"
    assert finding["xpath"].endswith("/ceb:PaymentHead/ceb:amountPaid")
    assert isinstance(finding["line"], int)
    assert {"severity", "message", "message_zh", "column"} <= finding.keys()
    assert by_file["order-CEB311.xml"]["valid"] is True


def test_junit_one_testcase_per_file_with_failures(tmp_path: Path) -> None:
    paths = write_set(tmp_path)
    edit(paths["order-CEB311.xml"], "currency", "1")
    code, out, _ = run("--format", "junit", *paths.values())
    assert code == 1
    suite = etree.fromstring(out.encode())
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [str(p) for p in paths.values()]
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    order_failure = failed[str(paths["order-CEB311.xml"])]
    assert order_failure is not None and "schema.length" in (order_failure.text or "")
    assert str(paths["payment-CEB411.xml"]) not in failed
    assert suite.get("tests") == "4" and suite.get("failures") == str(len(failed))


def test_files_of_one_set_are_reconciled_and_findings_land_on_the_right_file(
    tmp_path: Path,
) -> None:
    first = write_set(tmp_path / "a", seed=1)
    second = write_set(tmp_path / "b", seed=2)
    edit(first["waybill-CEB511.xml"], "consignee", "另一个人")
    code, out, _ = run("--format", "json", *first.values(), *second.values())
    assert code == 1
    rows = {r["file"]: r for r in map(json.loads, out.splitlines())}
    waybill = rows[str(first["waybill-CEB511.xml"])]
    assert any(f["layer"] == "reconcile" for f in waybill["findings"]), waybill
    for path in second.values():  # the other set is untouched
        assert rows[str(path)]["valid"], rows[str(path)]
    # Alone, the waybill has nothing to be reconciled with.
    code, out, _ = run("--format", "json", first["waybill-CEB511.xml"])
    assert code == 0


def test_a_folder_stands_for_the_xml_files_under_it(tmp_path: Path) -> None:
    first = write_set(tmp_path / "sets" / "a", seed=1)
    second = write_set(tmp_path / "sets" / "b", seed=2)
    (tmp_path / "sets" / "README.txt").write_text("not a message")
    edit(second["order-CEB311.xml"], "orderNo", "N" * 61)
    code, out, _ = run(tmp_path / "sets")
    assert code == 1
    for path in first.values():
        assert f"{path}: valid (CEB" in out
    assert f"{second['order-CEB311.xml']}: INVALID" in out
    assert "README.txt" not in out
    assert "of 8 file(s) valid" in out  # both sets, and nothing else


def test_regime_option(tmp_path: Path) -> None:
    paths = write_set(tmp_path, Regime.B2B_DIRECT, Direction.EXPORT)
    order = paths["order-CEB303.xml"]
    assert run("--regime", "9710", order)[0] == 0
    assert run("--regime", "9810", order)[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regime", "0110", "x.xml"], "unknown regime '0110'"),
        (["does-not-exist.xml"], "does-not-exist.xml: no such file or folder"),
        (["tests/cli"], "tests/cli: a folder without .xml files"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_no_traceback(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_hostile_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT-42", encoding="utf-8")
    hostile = tmp_path / "xxe.xml"
    hostile.write_text(
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><x>&e;</x>', encoding="utf-8"
    )
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:  # 12 MiB: over the limit; only the limit + 1 bytes are read
        handle.write(b"<a>" + b"x" * (12 * 1024 * 1024) + b"</a>")
    code, out, err = run("--format", "json", hostile, big)
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [f["rule"] for r in rows for f in r["findings"]] == ["parse.doctype", "parse.too-large"]
    assert "SECRET-CONTENT-42" not in out + err


def installed(*args: str | Path) -> tuple[int, str]:
    """Run ``.venv/bin/danchuang validate`` as a user would (about 2.5 s: the whole CLI loads)."""
    command = Path(sys.executable).parent / "danchuang"
    assert command.exists(), command
    done = subprocess.run(
        [str(command), "validate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow
def test_the_installed_command_in_a_real_process(tmp_path: Path) -> None:
    paths = write_set(tmp_path)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<ceb:CEB311Message")
    code, output = installed(broken, *paths.values())
    assert code == 1
    assert f"{broken}:1:" in output and "parse.malformed" in output
    assert "4 of 5 file(s) valid" in output


@pytest.mark.slow
def test_the_installed_command_exit_codes_0_and_2(tmp_path: Path) -> None:
    paths = write_set(tmp_path)
    assert installed(*paths.values())[0] == 0
    code, output = installed("--regime", "1234", *paths.values())
    assert code == 2 and "unknown regime" in output
