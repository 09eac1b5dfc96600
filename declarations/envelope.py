"""Transport envelopes: the terminal node's ``DxpMsg`` (CEB spec 202205 §4 pp. 106-107) and the
transfer node's ``DxpMsgSv`` (§5 pp. 107-109), opened to the business message they carry.

    opened = open_envelope(root, source=..., limits=...)   # root: a parsed DxpMsg / DxpMsgSv
    opened.envelope    # Envelope: CopMsgId, SenderId, ReceiverIds, CreatTime, MsgType (+ MsgId)
    opened.root        # the business message's root (Data, Base64, parsed like any message)
    opened.findings    # what is wrong with the envelope, each naming its field

The pipeline's parse step opens an envelope it meets (``declarations.pipeline``), so an enveloped
message is checked exactly as the same message sent bare. The envelope's own ``ds:Signature`` is
not judged here.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from declarations.findings import Finding, Layer, define_rule
from declarations.parsing import DEFAULT_LIMITS, ParseLimits, parse_xml

__all__ = [
    "DXP_NS",
    "ENVELOPES",
    "Envelope",
    "Opened",
    "is_envelope",
    "open_envelope",
    "seal",
]

DXP_NS = "http://www.chinaport.gov.cn/dxp"
_D = "{" + DXP_NS + "}"
ENVELOPES = ("DxpMsg", "DxpMsgSv")  # the terminal node's and the transfer node's

# The exchange platform's code 0001 (报文格式错误, table 7-1 p. 112): a broken envelope is a
# format error, answered with a CEB900.
_FORMAT_ERROR = "0001"
FIELD = define_rule(
    "schema.envelope",
    Layer.SCHEMA,
    "An envelope field is missing or malformed (CEB spec 202205 §4.4 table 4-3 p. 107, "
    "§5.4 table 5-3 p. 109)",
    "传输报文头字段缺失或格式错误",
    spec_code=_FORMAT_ERROR,
)
DATA = define_rule(
    "schema.envelope-data",
    Layer.SCHEMA,
    "The envelope's Data is not the Base64 of a message (§4.3 table 4-2 p. 107)",
    "Data不是业务报文的Base64编码",
    spec_code=_FORMAT_ERROR,
)
MSG_TYPE = define_rule(
    "schema.envelope-msg-type",
    Layer.SCHEMA,
    "The envelope's MsgType is not the root of the message it carries",
    "报文类型MsgType与所载业务报文不符",
    spec_code=_FORMAT_ERROR,
)

# yyyy-mm-ddThh:mm:ss (§4.4 table 4-3: CreatTime; §5.4 table 5-3: SendTime)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
# 8-digit node id + yyyymmddhh24miss + 10-digit sequence (§5.4 table 5-3: MsgId)
_MSG_ID = re.compile(r"\d{8}\d{14}\d{10}")
_NODE = re.compile(r"\d{8}")


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the envelope says about the message it carries."""

    kind: str  # "DxpMsg" or "DxpMsgSv"
    cop_msg_id: str
    sender_id: str
    receiver_ids: tuple[str, ...]
    created: str  # CreatTime as sent
    msg_type: str
    msg_id: str | None = None  # DxpMsgSv only: SvNo/MsgId


@dataclass(frozen=True, slots=True)
class Opened:
    """An opened envelope: what it says, the message it carries, and what is wrong with it."""

    envelope: Envelope | None  # None when TransInfo is too broken to say who sent what
    root: etree._Element | None  # the carried message's root, None when it could not be read
    data: bytes  # the carried message's bytes (empty when Data could not be decoded)
    findings: tuple[Finding, ...]


def is_envelope(root: etree._Element) -> bool:
    return root.tag in (_D + "DxpMsg", _D + "DxpMsgSv")


class _Reader:
    """Reads an envelope's fields, collecting a finding for each missing or malformed one."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.findings: list[Finding] = []

    def problem(self, xpath: str, name: str, en: str, zh: str) -> None:
        self.findings.append(
            FIELD.finding(
                f"{name}: {en}", f"{name}：{zh}", xpath=xpath, field=name, source=self.source
            )
        )

    def text(
        self,
        parent: etree._Element,
        path: str,
        name: str,
        max_length: int,
        pattern: re.Pattern[str] | None = None,
    ) -> str:
        node = parent.find(_D + name)
        xpath = f"{path}/dxp:{name}"
        value = (node.text or "").strip() if node is not None else ""
        if not value:
            self.problem(xpath, name, "required, missing or empty", "必填，缺失或为空")
        elif len(value) > max_length:
            self.problem(xpath, name, f"at most {max_length} characters, has {len(value)}",
                         f"最长{max_length}位，实有{len(value)}位")  # fmt: skip
        elif pattern is not None and not pattern.fullmatch(value):
            self.problem(xpath, name, f"{value!r} is not in the form {pattern.pattern}",
                         f"{value!r}不符合格式{pattern.pattern}")  # fmt: skip
        return value


def open_envelope(
    root: etree._Element, *, source: str = "<input>", limits: ParseLimits = DEFAULT_LIMITS
) -> Opened:
    """Check a ``DxpMsg`` or ``DxpMsgSv`` and read the message in its ``Data``."""
    kind = etree.QName(root).localname
    read = _Reader(source)
    msg_id = None
    message = root
    path = f"/dxp:{kind}"
    if kind == "DxpMsgSv":
        sv_no = root.find(_D + "SvNo")
        if sv_no is None:
            read.problem(f"{path}/dxp:SvNo", "SvNo", "required, missing", "必填，缺失")
        else:
            sv_path = f"{path}/dxp:SvNo"
            if sv_no.get("Ver") != "1.0":  # the official transfer structure requires it
                read.problem(f"{sv_path}/@Ver", "Ver", "must be 1.0", "须为1.0")
            msg_id = read.text(sv_no, sv_path, "MsgId", 32, _MSG_ID)
            read.text(sv_no, sv_path, "SendTime", 19, _TIME)
            read.text(sv_no, sv_path, "EndNode", 8, _NODE)
            read.text(sv_no, sv_path, "StaNode", 8, _NODE)
        inner = root.find(_D + "DxpMsg")
        path = f"{path}/dxp:DxpMsg"
        if inner is None:
            read.problem(path, "DxpMsg", "required, missing", "必填，缺失")
            return Opened(None, None, b"", tuple(read.findings))
        message = inner
    if message.get("ver") != "1.0":
        read.problem(f"{path}/@ver", "ver", "must be 1.0", "须为1.0")
    info = message.find(_D + "TransInfo")
    if info is None:
        read.problem(f"{path}/dxp:TransInfo", "TransInfo", "required, missing", "必填，缺失")
        return Opened(None, None, b"", tuple(read.findings))
    info_path = f"{path}/dxp:TransInfo"
    cop_msg_id = read.text(info, info_path, "CopMsgId", 255)
    sender_id = read.text(info, info_path, "SenderId", 16)
    receivers = info.find(_D + "ReceiverIds")
    receiver_ids: list[str] = []
    if receivers is None or not 1 <= len(receivers.findall(_D + "ReceiverId")) <= 5:
        read.problem(f"{info_path}/dxp:ReceiverIds", "ReceiverIds",
                     "one to five ReceiverId", "须有1至5个ReceiverId")  # fmt: skip
    else:
        receivers_path = f"{info_path}/dxp:ReceiverIds"
        for _ in receivers.findall(_D + "ReceiverId"):
            receiver_ids.append(read.text(receivers, receivers_path, "ReceiverId", 16))
    created = read.text(info, info_path, "CreatTime", 19, _TIME)
    msg_type = read.text(info, info_path, "MsgType", 30)
    envelope = Envelope(kind, cop_msg_id, sender_id, tuple(receiver_ids), created, msg_type,
                        msg_id)  # fmt: skip
    carried, payload = _carried(message, path, source, limits, read)
    if carried is not None and msg_type and etree.QName(carried).localname != msg_type:
        read.findings.append(
            MSG_TYPE.finding(
                f"MsgType is {msg_type!r} but the message is a {etree.QName(carried).localname}",
                f"MsgType为{msg_type!r}，所载报文为{etree.QName(carried).localname}",
                xpath=f"{info_path}/dxp:MsgType",
                field="MsgType",
                source=source,
            )
        )
    return Opened(envelope, carried, payload, tuple(read.findings))


def _carried(
    message: etree._Element, path: str, source: str, limits: ParseLimits, read: _Reader
) -> tuple[etree._Element | None, bytes]:
    """The message in ``Data`` and its bytes: Base64-decoded, then parsed as hardened as any
    message."""
    data = message.find(_D + "Data")
    xpath = f"{path}/dxp:Data"
    if data is None or not (data.text or "").strip():
        read.problem(xpath, "Data", "required, missing or empty", "必填，缺失或为空")
        return None, b""
    try:
        payload = base64.b64decode("".join((data.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        read.findings.append(
            DATA.finding(
                "Data is not valid Base64",
                "Data不是有效的Base64编码",
                xpath=xpath,
                field="Data",
                source=source,
            )
        )
        return None, b""
    parsed = parse_xml(payload, source=source, limits=limits, defer_tree_checks=True)
    if parsed.root is None:
        read.findings.extend(parsed.findings)  # the carried message's own parse findings
    return parsed.root, payload


def seal(
    message: bytes,
    *,
    cop_msg_id: str,
    sender_id: str,
    receiver_ids: tuple[str, ...],
    msg_type: str,
    created: datetime,
) -> bytes:
    """``message`` in a terminal-node ``DxpMsg`` (§4), as a client sends it and as customs
    answers in kind: its bytes in ``Data`` as Base64."""
    root = etree.Element(_D + "DxpMsg", nsmap={"dxp": DXP_NS}, ver="1.0")
    info = etree.SubElement(root, _D + "TransInfo")
    etree.SubElement(info, _D + "CopMsgId").text = cop_msg_id
    etree.SubElement(info, _D + "SenderId").text = sender_id
    receivers = etree.SubElement(info, _D + "ReceiverIds")
    for receiver in receiver_ids:
        etree.SubElement(receivers, _D + "ReceiverId").text = receiver
    etree.SubElement(info, _D + "CreatTime").text = created.strftime("%Y-%m-%dT%H:%M:%S")
    etree.SubElement(info, _D + "MsgType").text = msg_type
    etree.SubElement(root, _D + "Data").text = base64.b64encode(message).decode("ascii")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
