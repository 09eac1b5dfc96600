"""How a delivery travels (app/webhooks/posting.py), against real HTTP/1.1 servers on loopback:
connections kept and replaced, redirects not followed, TLS verified, proxies from the
environment. What a delivery carries is tested in test_service_webhooks.py."""

from __future__ import annotations

import base64
import ipaddress
import random
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from service_support import T0, PartyFactory, add_receipt, subscribe
from sqlalchemy import delete, select

from app.db.engine import Database
from app.db.models import Delivery, Role
from app.webhooks import outbox
from app.webhooks.posting import Proxies
from app.webhooks.worker import DeliveryWorker

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass
class Server:
    """An HTTP/1.1 server on loopback (keep-alive): the request lines it took, their headers
    (names in lower case), the client connections they came on, and the status it answers."""

    url: str = ""
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    connections: set[tuple[str, int]] = field(default_factory=set)
    status: int = 200


@contextmanager
def serving(*, idle_s: float = 30, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """A keep-alive server that closes a connection idle for ``idle_s``."""
    served = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = idle_s

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            served.requests.append(self.requestline)
            served.headers.append({name.lower(): value for name, value in self.headers.items()})
            served.connections.add(self.client_address)
            self.send_response(served.status)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    served.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def _worker(database: Database, concurrency: int = 1) -> DeliveryWorker:
    policy = outbox.BackoffPolicy(base_s=10, cap_s=300, max_attempts=5)
    return DeliveryWorker(database, policy=policy, timeout_s=5, concurrency=concurrency,
                          rng=random.Random(5))  # fmt: skip


def _deliver_once(database: Database) -> int:
    """One round of a fresh worker at T0: the deliveries it made."""
    worker = _worker(database)
    try:
        return worker.run_once(now=T0)
    finally:
        worker.stop()


def _deliveries(database: Database) -> list[Delivery]:
    with database.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def test_deliveries_to_a_receiver_reuse_its_connection(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960301", Role.EBP)
    with serving() as receiver:
        subscribe(database, party, receiver.url)
        for _ in range(5):
            add_receipt(database, party)
        assert _deliver_once(database) == 5
    assert len(receiver.requests) == 5 and len(receiver.connections) == 1
    assert all(row.delivered_at == T0 for row in _deliveries(database))


def test_a_connection_the_receiver_closed_is_replaced_not_failed(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960302", Role.EBP)
    with serving(idle_s=0.2) as receiver:
        subscribe(database, party, receiver.url)
        add_receipt(database, party)
        worker = _worker(database)
        try:
            assert worker.run_once(now=T0) == 1
            time.sleep(1)  # the receiver closes the kept connection meanwhile
            add_receipt(database, party)
            assert worker.run_once(now=T0) == 1
        finally:
            worker.stop()
    assert len(receiver.requests) == 2 and len(receiver.connections) == 2
    rows = _deliveries(database)
    assert [(row.attempts, row.last_error, row.delivered_at) for row in rows] == [(1, None, T0)] * 2


def test_a_redirect_is_a_failed_attempt_and_not_followed(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960303", Role.EBP)
    with serving() as receiver:
        receiver.status = 307
        subscribe(database, party, receiver.url)
        add_receipt(database, party)
        assert _deliver_once(database) == 1
    assert receiver.requests == ["POST /hook HTTP/1.1"]
    [row] = _deliveries(database)
    assert row.last_error == "HTTP 307" and row.delivered_at is None and row.next_attempt_at > T0


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 and its key, in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    issued = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([loopback]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "receiver.pem"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(issued.public_bytes(serialization.Encoding.PEM) + key_pem)
    return path


def _https_delivery(
    database: Database, party_code: str, make_party: PartyFactory, url: str
) -> Delivery:
    party = make_party(party_code, Role.EBP)
    subscribe(database, party, url)
    add_receipt(database, party)
    assert _deliver_once(database) == 1
    [row] = _deliveries(database)
    return row


def test_an_https_receiver_is_verified(
    database: Database,
    make_party: PartyFactory,
    certificate: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its certificate must come from a trusted authority (certifi's, or SSL_CERT_FILE's) and
    name the host posted to."""
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate)
    with serving(tls=tls) as receiver:
        untrusted = _https_delivery(database, "3301960304", make_party, receiver.url)
        assert untrusted.last_error and untrusted.last_error.startswith("SSLError")
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.last_error
        assert receiver.requests == []

        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        with database.write() as session:
            session.execute(delete(Delivery))
        wrong_name = receiver.url.replace("127.0.0.1", "localhost")
        misnamed = _https_delivery(database, "3301960305", make_party, wrong_name)
        assert misnamed.last_error and "CERTIFICATE_VERIFY_FAILED" in misnamed.last_error
        assert receiver.requests == []

        with database.write() as session:
            session.execute(delete(Delivery))
        trusted = _https_delivery(database, "3301960306", make_party, receiver.url)
    assert trusted.last_error is None and trusted.delivered_at == T0
    assert receiver.requests == ["POST /hook HTTP/1.1"]


def _basic(login: str) -> str:
    return "Basic " + base64.b64encode(login.encode()).decode()


def test_credentials_in_the_url_are_sent_as_basic_authentication(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960308", Role.EBP)
    with serving() as receiver:
        subscribe(database, party, receiver.url.replace("http://", "http://hooks:p%40ss@"))
        add_receipt(database, party)
        assert _deliver_once(database) == 1
    assert receiver.requests == ["POST /hook HTTP/1.1"]
    assert receiver.headers[0]["authorization"] == _basic("hooks:p@ss")
    assert _deliveries(database)[0].delivered_at == T0


def test_proxies_from_the_environment_carry_deliveries_except_no_proxy_hosts(
    database: Database, make_party: PartyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    party = make_party("3301960307", Role.EBP)
    subscribe(database, party, "http://receiver.invalid/hooks/customs")
    add_receipt(database, party)
    with serving() as proxy:
        address = proxy.url.removesuffix("/hook")
        monkeypatch.setenv("HTTP_PROXY", address.replace("http://", "http://egress:s3cret@"))
        assert _deliver_once(database) == 1
        assert proxy.requests == ["POST http://receiver.invalid/hooks/customs HTTP/1.1"]
        assert proxy.headers[0]["proxy-authorization"] == _basic("egress:s3cret")
        assert "authorization" not in proxy.headers[0]
        assert _deliveries(database)[0].delivered_at == T0

        monkeypatch.setenv("NO_PROXY", "receiver.invalid")
        add_receipt(database, party)
        assert _deliver_once(database) == 1
    assert len(proxy.requests) == 1  # not through the proxy: the name does not resolve
    error = _deliveries(database)[1].last_error
    assert error and error.startswith("NameResolutionError")


@pytest.mark.parametrize(
    ("no_proxy", "url", "through"),
    [
        ("", "http://hooks.example.test/x", "http://proxy.test:3128"),
        ("", "https://hooks.example.test/x", None),  # no HTTPS_PROXY, no ALL_PROXY
        ("example.test", "http://hooks.example.test/x", None),
        (".example.test", "http://example.test/x", None),
        ("example.test", "http://hooksexample.test/x", "http://proxy.test:3128"),
        ("other.test, *", "http://hooks.example.test/x", None),
    ],
)
def test_no_proxy_exempts_a_name_and_the_names_under_it(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, url: str, through: str | None
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert Proxies.from_environment().for_url(url) == through
