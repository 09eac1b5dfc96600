"""The signature step: a message's ``ds:Signature`` judged under the caller's policy.

    findings = check_signatures(message_bytes, policy, source=..., envelope_bytes=None)

``declarations.xmldsig`` says whether a signature is sound; this module adds what only the
caller knows (is the certificate in date, whose is it, must the message be signed at all) and
turns each problem into a finding with a stable id. The exchange platform's security codes of
table 7-1 (CEB spec 202205 §7 p. 112) are the findings' spec codes: 1001 数字签名无效, 1002
数字签名过期, 1004 签名与数据不符, 1999 其他安全错误.

Modes (``SignatureMode``): ``off`` checks nothing; ``warn`` (the sandbox's default) reports a
bad signature as a warning and an absent one not at all, and asks whose the certificate is only
of a sender that has registered one (one that has not is not signing yet); ``require`` makes
every problem an error, an absent signature or an unregistered certificate included, and the
service then refuses the message with a CEB900 (``app.services.answers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from declarations.findings import Finding, Layer, RuleInfo, Severity, define_rule
from declarations.pki import Certificate
from declarations.xmldsig import SIGNATURE_METHODS, Problem, Verification, verify_signature

__all__ = [
    "CertificateOwners",
    "SignatureMode",
    "SignaturePolicy",
    "check_signatures",
]


class SignatureMode(StrEnum):
    OFF = "off"
    WARN = "warn"
    REQUIRE = "require"


class CertificateOwners(Protocol):
    """The registry of signing certificates."""

    def owner(self, certificate: Certificate) -> str | None:
        """The code of the enterprise that registered ``certificate``; None if nobody did."""
        ...

    def signs(self, enterprise: str) -> bool:
        """Whether ``enterprise`` has registered a certificate (under ``warn`` only such an
        enterprise hears whose certificate it signed with)."""
        ...


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    """How the signature step judges. Without ``owners`` (offline validation) nobody's
    ownership is checked; ``sender`` is the enterprise whose certificate must sign."""

    mode: SignatureMode = SignatureMode.WARN
    allowed: frozenset[str] = field(default_factory=lambda: frozenset(SIGNATURE_METHODS))
    owners: CertificateOwners | None = None
    sender: str | None = None
    now: datetime | None = None  # when certificates must be valid; None: the wall clock


def _rule(rule_id: str, title_en: str, title_zh: str, code: str) -> RuleInfo:
    return define_rule(rule_id, Layer.SIGNATURE, title_en, title_zh, spec_code=code)


_SPEC = "CEB spec 202205 §6.2 pp. 110–111"
MISSING = _rule("signature.missing", f"The message is not signed ({_SPEC})", "报文未加签", "1001")
MALFORMED = _rule(
    "signature.malformed",
    f"The signature is not in the structure the spec gives ({_SPEC})",
    "签名节点结构不符合规范",
    "1001",
)
ALGORITHM = _rule(
    "signature.algorithm-not-allowed",
    f"An algorithm of the signature is not one the spec allows ({_SPEC})",
    "签名算法不在规范允许之列",
    "1999",
)
DIGEST = _rule(
    "signature.digest-mismatch",
    "The message is not the one that was signed: its digest differs (§6.2.1.3.3 p. 111)",
    "签名与数据不符（摘要值不一致）",
    "1004",
)
VALUE = _rule(
    "signature.bad-value",
    "The signature value is not the certificate's signature (§6.2.2 p. 111)",
    "数字签名无效",
    "1001",
)
EXPIRED = _rule(
    "signature.expired-certificate",
    "The signing certificate is expired or not yet valid (§6.1 p. 109: X.509 v3)",
    "数字签名过期（证书不在有效期内）",
    "1002",
)
UNKNOWN = _rule(
    "signature.unknown-certificate",
    "The signing certificate is registered to no enterprise",
    "签名证书未备案",
    "1999",
)
OTHER = _rule(
    "signature.other-enterprise",
    "The signing certificate is another enterprise's",
    "签名证书属于其他企业",
    "1999",
)

_OF_PROBLEM: Mapping[Problem, RuleInfo] = {
    Problem.MISSING: MISSING,
    Problem.MALFORMED: MALFORMED,
    Problem.ALGORITHM: ALGORITHM,
    Problem.DIGEST: DIGEST,
    Problem.VALUE: VALUE,
}
_ZH: Mapping[Problem, str] = {
    Problem.MISSING: "报文没有ds:Signature节点",
    Problem.MALFORMED: "签名节点结构有误",
    Problem.ALGORITHM: "使用了规范未列出的算法",
    Problem.DIGEST: "报文摘要与DigestValue不一致",
    Problem.VALUE: "SignatureValue不是该证书的签名",
}


def _judge(verification: Verification, policy: SignaturePolicy) -> list[tuple[RuleInfo, str, str]]:
    """Each problem as (rule, English, Chinese)."""
    said = [(_OF_PROBLEM[p], text, _ZH[p]) for p, text in verification.problems.items()]
    cert = verification.certificate
    if cert is None or Problem.MALFORMED in verification.problems:
        return said
    now = policy.now or datetime.now(UTC)
    if not cert.valid_at(now):
        said.append((EXPIRED,
                     f"certificate {cert.subject!r} is valid {cert.not_before:%Y-%m-%d} to "
                     f"{cert.not_after:%Y-%m-%d}",
                     f"证书{cert.subject!r}有效期为{cert.not_before:%Y-%m-%d}至"
                     f"{cert.not_after:%Y-%m-%d}"))  # fmt: skip
    owners = policy.owners
    if owners is not None and (
        policy.mode is SignatureMode.REQUIRE or policy.sender is None or owners.signs(policy.sender)
    ):
        owner = owners.owner(cert)
        if owner is None:
            said.append((UNKNOWN,
                         f"certificate {cert.subject!r} (SHA-256 {cert.fingerprint[:16]}…) is "
                         "not registered: POST /api/v1/enterprises/me/certificates",
                         f"证书{cert.subject!r}未备案"))  # fmt: skip
        elif policy.sender is not None and owner != policy.sender:
            en = f"certificate {cert.subject!r} is registered to {owner}, not to {policy.sender}"
            zh = f"证书{cert.subject!r}登记于{owner}，非发送企业{policy.sender}"
            said.append((OTHER, en, zh))
    return said


def _findings(
    said: list[tuple[RuleInfo, str, str]], policy: SignaturePolicy, source: str, where: str
) -> list[Finding]:
    severity = Severity.ERROR if policy.mode is SignatureMode.REQUIRE else Severity.WARNING
    return [
        rule.finding(
            en,
            zh,
            xpath=where,
            field="Signature",
            source=source,
            severity=severity,
        )
        for rule, en, zh in said
    ]


def check_signatures(
    data: bytes,
    policy: SignaturePolicy,
    *,
    source: str,
    root_name: str,
    envelope_data: bytes | None = None,
    envelope_name: str | None = None,
) -> list[Finding]:
    """The findings on the signature of the message ``data`` (root ``root_name``) and, if it
    came in an envelope that is signed itself, on the envelope's (``envelope_data``)."""
    if policy.mode is SignatureMode.OFF:
        return []
    said = _judge(verify_signature(data, allowed=policy.allowed), policy)
    if policy.mode is SignatureMode.WARN:  # an absent signature is only an error under require
        said = [entry for entry in said if entry[0] is not MISSING]
    findings = _findings(said, policy, source, f"/{root_name}/ds:Signature")
    if envelope_data is not None and envelope_name is not None:
        outer = verify_signature(envelope_data, allowed=policy.allowed)
        if outer.present:
            where = f"/dxp:{envelope_name}/ds:Signature"
            findings += _findings(_judge(outer, policy), policy, source, where)
    return findings
