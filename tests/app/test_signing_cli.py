"""``danchuang certs issue`` and ``danchuang sign``: a key and certificate for CI, and a message
signed the way the real client signs it, which the service then counts as the enterprise's."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_support import PartyFactory
from typer.testing import CliRunner

from app.accounts import Principal
from app.cli import cli
from app.db import migrate
from app.db.engine import Database
from app.db.models import Role
from app.services import certificates
from app.settings import get_settings
from declarations import Direction, Regime, check
from declarations.pki import KeyType, load_certificate
from declarations.samples import generate_sets, to_bytes
from declarations.signature_check import SignatureMode, SignaturePolicy
from declarations.xmldsig import RSA_SHA1, SM2_SM3, verify_signature

runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DANCHUANG_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(("key_type", "method"), [("sm2", SM2_SM3), ("rsa", RSA_SHA1)])
def test_issue_then_sign_gives_a_signature_the_service_counts_as_the_enterprises(  # noqa: PLR0917
    cli_env: None, database: Database, make_party: PartyFactory, tmp_path: Path, key_type: str,
    method: str,
) -> None:  # fmt: skip
    migrate.upgrade(database.engine)
    make_party("3301960401", Role.EBC)
    keys = tmp_path / "keys"
    issued = runner.invoke(
        cli, ["certs", "issue", "--enterprise", "3301960401", "--out", str(keys),
              "--key-type", key_type],
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output
    assert stat.S_IMODE((keys / "key.pem").stat().st_mode) == 0o600
    cert = load_certificate((keys / "cert.pem").read_bytes())
    assert cert.organization == "3301960401" and cert.key_type is KeyType(key_type)
    assert cert.signed_by(certificates.authority(database).ca)

    order = tmp_path / "order.xml"
    sample = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=81, count=1)[0]
    order.write_bytes(to_bytes(sample.documents["order-CEB311.xml"]))
    signed = tmp_path / "signed.xml"
    done = runner.invoke(cli, ["sign", str(order), "--key", str(keys / "key.pem"),
                               "--cert", str(keys / "cert.pem"), "-o", str(signed)])  # fmt: skip
    assert done.exit_code == 0, done.output
    checked = verify_signature(signed.read_bytes())
    assert checked.problems == {} and checked.signature_method == method
    policy = certificates.signature_policy(
        database, _principal("3301960401"), SignatureMode.REQUIRE, allow_rsa=True
    )
    assert check(signed.read_bytes(), signatures=policy).report.findings == []
    other = certificates.signature_policy(
        database, _principal("3301960402"), SignatureMode.REQUIRE, allow_rsa=True
    )
    rules = [f.rule for f in check(signed.read_bytes(), signatures=other).report.findings]
    assert rules == ["signature.other-enterprise"]
    assert check(signed.read_bytes(), signatures=SignaturePolicy()).report.valid


def _principal(code: str) -> Principal:
    return Principal(id=0, code=code, name=code, roles=(), credit_class="general")


def test_sign_says_what_is_wrong(cli_env: None, tmp_path: Path) -> None:
    (tmp_path / "k.pem").write_text("not a key")
    (tmp_path / "m.xml").write_text("<a/>")
    missing = runner.invoke(cli, ["sign", str(tmp_path / "none.xml"), "--key", "k", "--cert", "c"])
    assert missing.exit_code == 2 and "cannot read the message" in missing.output
    bad = runner.invoke(cli, ["sign", str(tmp_path / "m.xml"), "--key", str(tmp_path / "k.pem"),
                              "--cert", str(tmp_path / "k.pem")])  # fmt: skip
    assert bad.exit_code == 2 and "not a PKCS#8 PEM private key" in bad.output
    unknown = runner.invoke(cli, ["certs", "issue", "--enterprise", "0000000000", "--out",
                                  str(tmp_path)])  # fmt: skip
    assert unknown.exit_code == 2 and "no enterprise with code 0000000000" in unknown.output
