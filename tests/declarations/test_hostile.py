"""Hostile input through the whole pipeline (``declarations.validate``).

Each attack must end as one clear ``parse`` finding, within bounded memory, without touching the
file system or the network, and without echoing what it tried to reach. pytest-timeout guards
against a hang; no test asserts a wall-clock time.
"""

from __future__ import annotations

import json
import threading
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from declarations import validate
from declarations.findings import Layer, Report

SECRET = "TOP-SECRET-d4nchu4ng-7f3a"
MiB = 1024 * 1024

pytestmark = pytest.mark.timeout(60)


class Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - one list shared by the handler instances

    def do_GET(self) -> None:
        Recorder.requests.append(self.path)
        body = SECRET.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A real loopback HTTP server that serves the secret and records every request."""
    Recorder.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def assert_refused(report: Report, rule: str) -> None:
    assert not report.valid
    assert [f.rule for f in report.findings] == [rule]
    (finding,) = report.findings
    assert finding.layer is Layer.PARSE
    assert finding.message_en and finding.message_zh
    assert SECRET not in json.dumps(report.to_dict(), ensure_ascii=False)
    # Nothing past the parse ran: the message type stays unknown.
    assert report.documents[0].message_type is None


def ceb_doc(body: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
        '<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0">'
        f"{body}</ceb:CEB311Message>"
    ).encode()


def test_billion_laughs_does_not_expand() -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    data = ceb_doc("<ceb:note>&lol9;</ceb:note>", f"<!DOCTYPE lolz [{entities}]>\n")
    tracemalloc.start()
    report = validate(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert_refused(report, "parse.doctype")
    assert report.findings[0].line == 2
    assert peak < 1 * MiB  # 10^9 "lol"s would be gigabytes


def test_external_entity_to_a_file_is_never_read(secret_file: Path) -> None:
    prolog = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n'
    report = validate(ceb_doc("<ceb:note>&xxe;</ceb:note>", prolog))
    assert_refused(report, "parse.doctype")
    assert str(secret_file) not in json.dumps(report.to_dict())
    # Without a DOCTYPE the reference is an undeclared entity, still refused.
    assert_refused(validate(ceb_doc("<ceb:note>&xxe;</ceb:note>")), "parse.entity")


def test_external_entity_and_dtd_over_http_send_no_request(server: str) -> None:
    attacks = [
        f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{server}/entity">]>\n',
        f'<!DOCTYPE x SYSTEM "{server}/dtd">\n',
        f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{server}/parameter"> %p;]>\n',
    ]
    for prolog in attacks:
        report = validate(ceb_doc("<ceb:note>&xxe;</ceb:note>", prolog))
        assert_refused(report, "parse.doctype")
        assert server not in json.dumps(report.to_dict())
    assert Recorder.requests == []
    # The control: the server does answer and record when something really asks.
    with urllib.request.urlopen(f"{server}/control", timeout=5) as response:
        assert response.read().decode() == SECRET
    assert Recorder.requests == ["/control"]


def test_a_plain_dtd_is_refused() -> None:
    prolog = "<!DOCTYPE ceb:CEB311Message [<!ELEMENT ceb:note (#PCDATA)>]>\n"
    assert_refused(validate(ceb_doc("<ceb:note>x</ceb:note>", prolog)), "parse.doctype")


def test_xinclude_of_a_file_or_url_is_refused_and_not_loaded(
    secret_file: Path, server: str
) -> None:
    for href in (str(secret_file), f"{server}/xinclude"):
        body = (
            '<ceb:note xmlns:xi="http://www.w3.org/2001/XInclude">'
            f'<xi:include href="{href}" parse="text"/></ceb:note>'
        )
        report = validate(ceb_doc(body))
        assert_refused(report, "parse.xinclude")
        assert href not in json.dumps(report.to_dict())
    assert Recorder.requests == []


def test_a_50_mb_document_is_refused_by_size_before_parsing() -> None:
    data = ceb_doc("<ceb:note>" + "x" * (50 * MiB) + "</ceb:note>")
    tracemalloc.start()
    report = validate(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert_refused(report, "parse.too-large")
    assert peak < 1 * MiB  # no copy of the 50 MB was made


def test_10000_deep_nesting() -> None:
    data = ceb_doc("<ceb:x>" * 10_000 + "</ceb:x>" * 10_000)
    tracemalloc.start()
    report = validate(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert_refused(report, "parse.too-deep")
    assert peak < 2 * MiB


def test_a_flood_of_elements_is_refused_before_the_tree_is_built() -> None:
    data = ceb_doc("<ceb:n/>" * 1_000_000)  # 8 MB, under the size limit
    tracemalloc.start()
    report = validate(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert_refused(report, "parse.too-many-elements")
    assert peak < 2 * MiB


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (bytes(range(256)) * 4, "parse.not-xml"),
        (b"\x1f\x8b\x08\x00" + bytes(500), "parse.not-xml"),  # gzip
        (b"%PDF-1.7\n" + bytes(500), "parse.not-xml"),
        ("<?xml version='1.0' encoding='UTF-8'?><a>报关单</a>".encode("gbk"), "parse.encoding"),
        ("<?xml version='1.0' encoding='GBK'?><a>报关单</a>".encode("gbk"), "parse.encoding"),
        ('<?xml version="1.0" encoding="UTF-16"?><a>报关单</a>'.encode("utf-16"), "parse.encoding"),
        ("<a>报关单</a>".encode("utf-16-be"), "parse.encoding"),
        (b"", "parse.empty"),
        (b"<a><b></a>", "parse.malformed"),
    ],
    ids=[
        "binary",
        "gzip",
        "pdf",
        "gbk-declared-utf8",
        "gbk-declared",
        "utf16-bom",
        "utf16-be",
        "empty",
        "malformed",
    ],
)
def test_bytes_that_are_not_utf8_xml(data: bytes, rule: str) -> None:
    assert_refused(validate(data), rule)


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


@pytest.mark.parametrize(
    "make",
    [
        lambda: b"<a>" * 10_000 + b"</a>" * 10_000,
        lambda: b"<a>" + b"<n/>" * 199_000 + b"</a>",  # just inside the limit: parsed in full
        lambda: b"<a>" + b"<n/>" * 1_000_000 + b"</a>",
        lambda: b"<a>" + b"x" * (50 * MiB) + b"</a>",
        lambda: b"<a>" + b"x" * (9 * MiB) + b"</a>",  # one 9 MiB text node, under the limit
    ],
    ids=["deep", "elements-at-limit", "element-flood", "50mb", "huge-text"],
)
def test_peak_memory_of_the_process_stays_bounded(make: Callable[[], bytes]) -> None:
    """tracemalloc sees only Python's allocations; libxml2's show in the process's peak RSS,
    which Linux lets us reset (clear_refs 5) so that each case is measured on its own."""
    clear_refs = Path("/proc/self/clear_refs")
    try:
        data = make()
        clear_refs.write_text("5")
    except OSError:
        pytest.skip("needs Linux /proc/self/clear_refs to reset the peak RSS")
    before = rss_kib("VmRSS")
    report = validate(data)
    growth = rss_kib("VmHWM") - before
    assert not report.valid
    assert report.findings[0].layer in (Layer.PARSE, Layer.SCHEMA)
    assert growth < 64 * 1024, f"validation grew the process by {growth / 1024:.0f} MiB"
