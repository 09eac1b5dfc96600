"""Enveloped XML signatures as the CEB spec lays them down (CEB spec 202205 §6, pp. 109–111).

    signed = sign_message(data, key, certificate)   # the message with its ds:Signature appended
    sign_tree(root, key, certificate)               # the same, on a tree being built
    checked = verify_signature(data)                # a Verification: what was found, what failed

The signature is the last child of the root it signs: a business message (``CEB621Message``)
or a transport envelope (``DxpMsg``). Its one ``Reference`` has ``URI=""`` and the
enveloped-signature transform, so the digest covers the whole document without the signature,
canonicalised with C14N 1.0 (inclusive, without comments) — the method §6.2.1.1 fixes. The
signature value signs the canonical ``SignedInfo``, in the context of its document (inclusive
C14N renders the namespaces in scope, e.g. ``xmlns:ceb`` from the root).

Algorithms (§6.2.1.2, §6.2.1.3.2): SM2 with SM3 and the SM3 digest (the 2022 URIs, preferred)
or RSA-SHA1 and the SHA1 digest (the 2018 ones, which older clients still send). Either digest
is accepted with either signature method, as the spec lists them apart.

The bytes are read again with every node kept (``parsing.parse_exact``): the service's own
parse drops the blank text between elements, which the digest covers.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from lxml import etree

from declarations.messages import DSIG_NS
from declarations.parsing import parse_exact
from declarations.pki import Certificate, CertificateError, KeyType, PrivateKey, load_certificate

__all__ = [
    "RSA_SHA1",
    "SM2_SM3",
    "Problem",
    "Verification",
    "sign_message",
    "sign_tree",
    "verify_signature",
]

C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SM2_SM3 = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"
SM3 = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"

SIGNATURE_METHODS: dict[str, KeyType] = {SM2_SM3: KeyType.SM2, RSA_SHA1: KeyType.RSA}
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {SM3: hashes.SM3, SHA1: hashes.SHA1}
_METHOD_OF_KEY = {KeyType.SM2: (SM2_SM3, SM3), KeyType.RSA: (RSA_SHA1, SHA1)}

_DS = "{" + DSIG_NS + "}"
SIGNATURE_TAG = _DS + "Signature"


class Problem(StrEnum):
    """What can be wrong with a signature, before anyone asks whose certificate it is."""

    MISSING = "missing"
    MALFORMED = "malformed"  # not the structure §6.2 describes, or an unreadable part
    ALGORITHM = "algorithm"  # an algorithm §6.2 does not list
    DIGEST = "digest"  # the document is not the one signed
    VALUE = "value"  # the signature value is not the certificate's key's signature


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``verify`` found. ``problems`` is empty when the signature is sound; who owns the
    certificate and whether it is in date are for the caller (``signature_check``)."""

    problems: dict[Problem, str] = field(default_factory=dict)  # problem -> what exactly
    signature_method: str | None = None
    digest_method: str | None = None
    certificate: Certificate | None = None
    key_name: str | None = None

    @property
    def present(self) -> bool:
        return Problem.MISSING not in self.problems


def _digest(method: str, data: bytes) -> bytes:
    digest = hashes.Hash(_DIGESTS[method]())
    digest.update(data)
    return digest.finalize()


def _signature_of(root: etree._Element) -> etree._Element | None:
    found = [child for child in root if child.tag == SIGNATURE_TAG]
    return found[-1] if found else None


def _detach(element: etree._Element) -> None:
    """Remove ``element`` but not its tail (the text after it), as the enveloped-signature
    transform removes the element node only."""
    tail, previous, parent = element.tail, element.getprevious(), element.getparent()
    assert parent is not None
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _without(root: etree._Element, signature: etree._Element) -> bytes:
    """The enveloped-signature transform, then C14N: the document without its signature."""
    tree = copy.deepcopy(root.getroottree())
    _detach(tree.getroot()[root.index(signature)])
    return _c14n(tree)


def _c14n(node: etree._Element | etree._ElementTree) -> bytes:
    # lxml renders the namespaces in scope from the ancestors, as inclusive C14N of a subset does
    return etree.tostring(node, method="c14n", exclusive=False, with_comments=False)


def _text(element: etree._Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def _b64(text: str) -> bytes:
    return base64.b64decode(re.sub(r"\s+", "", text), validate=True)


def _one(parent: etree._Element, path: str) -> etree._Element:
    found = parent.find(path)
    if found is None:
        raise _MalformedError(f"{path.replace(_DS, 'ds:')} is missing")
    return found


class _MalformedError(ValueError):
    pass


def verify_signature(
    data: bytes, *, allowed: frozenset[str] = frozenset(SIGNATURE_METHODS)
) -> Verification:
    """Check the ``ds:Signature`` of the message in ``data`` (bytes that parse); ``allowed``
    narrows the signature methods accepted."""
    root = parse_exact(data)
    signature = _signature_of(root)
    if signature is None:
        return Verification({Problem.MISSING: "the message has no ds:Signature"})
    try:
        return _verify(root, signature, allowed)
    except _MalformedError as exc:
        return Verification({Problem.MALFORMED: str(exc)})


def _verify(
    root: etree._Element, signature: etree._Element, allowed: frozenset[str]
) -> Verification:
    signed_info = _one(signature, _DS + "SignedInfo")
    c14n = _one(signed_info, _DS + "CanonicalizationMethod").get("Algorithm")
    method = _one(signed_info, _DS + "SignatureMethod").get("Algorithm") or ""
    references = signed_info.findall(_DS + "Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise _MalformedError('SignedInfo must hold one ds:Reference with URI="" (§6.2.1.3)')
    reference = references[0]
    transforms = [t.get("Algorithm") for t in reference.iterfind(f"{_DS}Transforms/{_DS}Transform")]
    digest_method = _one(reference, _DS + "DigestMethod").get("Algorithm") or ""
    try:
        digest_value = _b64(_text(_one(reference, _DS + "DigestValue")))
        value = _b64(_text(_one(signature, _DS + "SignatureValue")))
    except binascii.Error:
        raise _MalformedError("DigestValue or SignatureValue is not Base64") from None
    x509_text = _text(signature.find(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate"))
    if not x509_text.strip():
        raise _MalformedError("KeyInfo/X509Data/X509Certificate is missing (§6.2.3)")
    try:
        certificate = load_certificate(x509_text)
    except CertificateError as exc:
        raise _MalformedError(f"the KeyInfo certificate: {exc}") from None
    key_name = signature.findtext(f"{_DS}KeyInfo/{_DS}KeyName")
    problems: dict[Problem, str] = {}
    unlisted = [
        uri or "(none)"
        for uri, listed in (
            (c14n, c14n == C14N),
            (method, method in SIGNATURE_METHODS and method in allowed),
            (digest_method, digest_method in _DIGESTS),
            *((uri, uri in (ENVELOPED, C14N)) for uri in transforms),
        )
        if not listed
    ]
    if ENVELOPED not in transforms:
        unlisted.append("(no enveloped-signature transform)")
    found = Verification(problems, method, digest_method, certificate, key_name)
    if unlisted:
        problems[Problem.ALGORITHM] = "not allowed: " + ", ".join(unlisted)
        return found
    if _digest(digest_method, _without(root, signature)) != digest_value:
        problems[Problem.DIGEST] = "the digest of the message does not match its DigestValue"
    if SIGNATURE_METHODS[method] is not certificate.key_type:
        problems[Problem.VALUE] = f"a {certificate.key_type} certificate cannot sign {method}"
    elif not certificate.verify(_c14n(signed_info), value):
        problems[Problem.VALUE] = "the SignatureValue is not the certificate's signature"
    return found


# The signature's elements by position, filled in by ``sign_tree``: SignedInfo's
# SignatureMethod and Reference (its DigestMethod and DigestValue), SignatureValue, and KeyInfo's
# KeyName and X509Certificate.
_SIGNATURE_XML = f"""<ds:Signature xmlns:ds="{DSIG_NS}"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm="{C14N}"></ds:CanonicalizationMethod>\
<ds:SignatureMethod Algorithm=""></ds:SignatureMethod><ds:Reference URI=""><ds:Transforms>\
<ds:Transform Algorithm="{ENVELOPED}"></ds:Transform></ds:Transforms>\
<ds:DigestMethod Algorithm=""></ds:DigestMethod><ds:DigestValue></ds:DigestValue></ds:Reference>\
</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:KeyName></ds:KeyName>\
<ds:X509Data><ds:X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
</ds:Signature>"""


_DECLARATION = re.compile(rb"\A\s*<\?xml[^>]*\?>\s*")


def sign_message(
    data: bytes, key: PrivateKey, certificate: Certificate, *, key_name: str | None = None
) -> bytes:
    """``data`` with an enveloped signature by ``key`` appended to its root (``sign_tree``).
    The XML declaration is kept; the message is written in UTF-8."""
    root = parse_exact(data)
    sign_tree(root, key, certificate, key_name=key_name)
    head = _DECLARATION.match(data)
    declaration = head.group(0).strip() + b"\n" if head else b""
    body = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=False)
    return declaration + body


def sign_tree(
    root: etree._Element, key: PrivateKey, certificate: Certificate, *, key_name: str | None = None
) -> None:
    """Append to the document ``root`` (a root element) an enveloped signature by ``key`` of
    the document as it stands (a signature already there is replaced), the way the real
    client signs: SM2-SM3 with the SM3 digest for an SM2 key, RSA-SHA1 with SHA1 for an RSA
    one. ``key_name`` defaults to the certificate's serial number in hex. The signature holds
    for the tree written as it is (``etree.tostring``); indenting it afterwards breaks it."""
    old = _signature_of(root)
    if old is not None:
        _detach(old)
    method, digest_method = _METHOD_OF_KEY[key.key_type]
    signature = etree.fromstring(_SIGNATURE_XML)
    signed_info, value, key_info = signature
    signed_info[1].set("Algorithm", method)
    reference = signed_info[2]
    reference[1].set("Algorithm", digest_method)
    last = root[-1] if len(root) else None
    if last is not None and (last.tail or "").endswith("\n"):  # an indented file stays so
        root.append(signature)
        signature.tail = "\n"
        document = _without(root, signature)  # the signature's tail stays
    else:  # the document without its signature is the document before it
        document = _c14n(root.getroottree())
        root.append(signature)
    reference[2].text = base64.b64encode(_digest(digest_method, document)).decode()
    value.text = base64.b64encode(key.sign(_c14n(signed_info))).decode()
    key_info[0].text = key_name or f"{certificate.serial:x}"
    key_info[1][0].text = base64.b64encode(certificate.der).decode()
