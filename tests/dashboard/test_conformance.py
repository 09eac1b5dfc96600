"""The conformance page: pasted or uploaded XML, findings beside the numbered, marked lines."""

from __future__ import annotations

import re

import httpx

from app.dashboard.conformance import split_pasted
from declarations.messages import Direction, Regime
from declarations.pipeline import validate
from declarations.samples import generate_sets, to_bytes


def sample_documents() -> dict[str, bytes]:
    sample = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=3, count=1)[0]
    return {name: to_bytes(root) for name, root in sample.documents.items()}


def broken_order() -> bytes:
    order = sample_documents()["order-CEB311.xml"].decode()
    return re.sub(r"<ceb:goodsValue>[^<]*<", "<ceb:goodsValue>abc<", order, count=1).encode()


def test_pasted_documents_are_cut_at_each_xml_declaration() -> None:
    documents = list(sample_documents().values())
    pasted = b"\n\n".join(documents)
    assert split_pasted(pasted) == [d.rstrip() for d in documents]
    assert split_pasted(b"  <a/>  ") == [b"<a/>"]
    assert split_pasted(b"  \n ") == []


async def test_a_finding_marks_its_line_and_links_to_it(client: httpx.AsyncClient) -> None:
    xml = broken_order()
    expected = validate(xml).findings
    assert expected and all(f.line for f in expected)
    response = await client.post("/conformance", data={"xml": xml.decode()})
    assert response.status_code == 200
    page = response.text
    assert "invalid 未通过" in page
    marked = {int(n) for n in re.findall(r'class="line marked" id="d1-L(\d+)"', page)}
    assert marked == {f.line for f in expected}
    for finding in expected:
        assert f'href="#d1-L{finding.line}"' in page  # the finding links to its line
        assert finding.rule in page and finding.message_zh in page
    # The marked line is the one holding the broken field.
    line = xml.decode().splitlines()[expected[0].line - 1]  # type: ignore[operator]
    assert "goodsValue" in line


async def test_uploaded_files_form_a_set_and_are_reconciled(client: httpx.AsyncClient) -> None:
    documents = sample_documents()
    inventory = documents["inventory-CEB621.xml"].decode()
    # The 清单 names another order than the one sent with it: reconciliation must say so.
    documents["inventory-CEB621.xml"] = re.sub(
        r"<ceb:orderNo>([^<]*)<", r"<ceb:orderNo>\1X<", inventory, count=1
    ).encode()
    files = [("files", (name, data, "application/xml")) for name, data in documents.items()]
    page = (await client.post("/conformance", files=files)).text
    for name in documents:
        assert name in page
    assert page.count('class="document"') == 4
    assert "invalid 未通过" in page


async def test_a_valid_set_pasted_together_passes(client: httpx.AsyncClient) -> None:
    pasted = b"\n".join(sample_documents().values()).decode()
    page = (await client.post("/conformance", data={"xml": pasted})).text
    assert page.count("valid 通过") == 4 and "invalid 未通过" not in page
    assert "pasted document 4" in page


async def test_nothing_to_check_is_said_plainly(client: httpx.AsyncClient) -> None:
    response = await client.post("/conformance", data={"xml": "   "})
    assert response.status_code == 400
    assert "paste XML or choose files first" in response.text
    garbage = await client.post("/conformance", data={"xml": "<not xml"})
    assert garbage.status_code == 200 and "parse." in garbage.text  # a finding, not a crash


async def test_what_is_pasted_is_shown_as_text_never_as_markup(client: httpx.AsyncClient) -> None:
    page = (await client.post("/conformance", data={"xml": "<script>alert(1)</script>"})).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
