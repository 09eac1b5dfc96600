"""Signatures from the command line: ``danchuang sign`` and ``danchuang certs``.

    danchuang certs issue --enterprise 4401960ABC --out keys/     # key.pem + cert.pem
    danchuang sign order.xml --key keys/key.pem --cert keys/cert.pem -o signed.xml
    danchuang certs show customs                                    # the published PEM

``sign`` works offline, as the real client does (CEB spec 202205 §6). ``certs`` opens the
service's database (``DANCHUANG_DATABASE_URL``), as ``seed-demo`` does: the certificate it
issues is registered to the enterprise at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from app.cli import cli, usage_error
from app.cli.help import Typer

certs_cli = Typer(help="The sandbox's test certificate authority.", no_args_is_help=True)
cli.add_typer(certs_cli, name="certs")


def _read(command: str, path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise usage_error(command, f"cannot read the {what} {path}: {exc.strerror}") from None


@cli.command("sign")
def sign_command(
    file: Path = typer.Argument(..., help="The CEB message (or DxpMsg envelope) to sign."),
    key: Path = typer.Option(..., "--key", help="Your private key: PKCS#8 PEM, SM2 or RSA."),
    cert: Path = typer.Option(..., "--cert", help="Your certificate (PEM)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Where to write the signed message.", show_default="stdout"
    ),
    key_name: str | None = typer.Option(
        None, "--key-name", help="ds:KeyName.", show_default="the certificate's serial, hex"
    ),
) -> None:
    """Sign a message the way the real client does: an enveloped ds:Signature, C14N,
    SM2-SM3 for an SM2 key, RSA-SHA1 for an RSA one (CEB spec 202205 §6)."""
    from lxml import etree

    from declarations import CertificateError, load_certificate, load_private_key, sign_message

    data = _read("sign", file, "message")
    try:
        private_key = load_private_key(_read("sign", key, "key"))
        certificate = load_certificate(_read("sign", cert, "certificate"))
    except CertificateError as exc:
        raise usage_error("sign", str(exc)) from None
    if private_key.public_key != certificate.public_key:
        raise usage_error("sign", f"{key} is not the key of the certificate {cert}")
    try:
        signed = sign_message(data, private_key, certificate, key_name=key_name)
    except etree.XMLSyntaxError as exc:
        raise usage_error("sign", f"{file}: not well-formed XML ({exc})") from None
    if out is None:
        sys.stdout.buffer.write(signed)
    else:
        out.write_bytes(signed)
        typer.echo(f"signed {file} -> {out}", err=True)


@certs_cli.command("issue")
def issue(
    enterprise: str = typer.Option(..., "--enterprise", help="The enterprise's code."),
    out: Path = typer.Option(Path(), "--out", "-o", help="Folder for key.pem and cert.pem."),
    key_type: str = typer.Option("sm2", "--key-type", help="sm2 (2022) or rsa (2018)."),
    days: float = typer.Option(365, "--days", min=0.0, help="Validity in days."),
) -> None:
    """Issue a key pair and a certificate from the test CA to an enterprise, and register
    the certificate to it: sign with them in CI, no hardware key needed."""
    from app.cli.serve import _database
    from app.db import migrate
    from app.errors import ServiceError
    from app.services import certificates
    from declarations import KeyType

    if key_type not in ("sm2", "rsa"):
        raise usage_error("certs issue", f"--key-type {key_type!r}: sm2 or rsa")
    database = _database()
    try:
        migrate.upgrade(database.engine)
        private_key, certificate = certificates.issue(
            database, enterprise, key_type=KeyType(key_type), days=days
        )
    except ServiceError as exc:
        raise usage_error("certs issue", exc.message_en) from None
    finally:
        database.dispose()
    out.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = out / "key.pem", out / "cert.pem"
    key_file.touch(mode=0o600)
    key_file.write_text(private_key.pem())
    cert_file.write_text(certificate.pem())
    typer.echo(f"{certificate.subject}: {key_type}, valid to {certificate.not_after:%Y-%m-%d}")
    typer.echo(f"fingerprint {certificate.fingerprint}")
    typer.echo(f"wrote {key_file} (mode 0600) and {cert_file}")


@certs_cli.command("show")
def show(name: str = typer.Argument(..., help="customs or ca")) -> None:
    """Print a certificate the sandbox publishes: customs (it signs receipts) or ca."""
    from app.cli.serve import _database
    from app.db import migrate
    from app.services import certificates

    if name not in ("customs", "ca"):
        raise usage_error("certs show", f"{name!r}: customs or ca")
    database = _database()
    try:
        migrate.upgrade(database.engine)
        authority = certificates.authority(database)
    finally:
        database.dispose()
    typer.echo((authority.customs if name == "customs" else authority.ca).pem(), nl=False)
