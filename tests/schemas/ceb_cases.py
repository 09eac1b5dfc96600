"""What the schema tests cover: the six schema files and the messages each must hold."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
XSD = REPO / "xsd"

# (regime, direction) of the six schema files, and the messages each must cover.
SCHEMA_FILES = (
    ("9610", "import"),
    ("1210", "import"),
    ("9610", "export"),
    ("1210", "export"),
    ("9710", "export"),
    ("9810", "export"),
)
IMPORT_DATA = ("CEB311", "CEB411", "CEB511", "CEB621", "CEB513", "CEB623", "CEB625", "CEB711")
# customs' own import messages without an official sample: the electronic tax bill, its status,
# and the format-check receipt
CUSTOMS_DATA = ("CEB816", "CEB818", "CEB900")
IMPORT_RECEIPTS = ("CEB312", "CEB412", "CEB512", "CEB622", "CEB514", "CEB624", "CEB626", "CEB712")
EXPORT_DATA = (
    *("CEB303", "CEB403", "CEB505", "CEB603", "CEB507", "CEB509"),
    *("CEB605", "CEB607", "CEB213", "CEB215", "CEB701", "CEB792"),
)
EXPORT_RECEIPTS = (
    *("CEB304", "CEB404", "CEB506", "CEB604", "CEB508", "CEB510"),
    *("CEB606", "CEB608", "CEB214", "CEB216", "CEB702"),
)
# The export data samples that carry two BaseTransfer nodes, which the structure refuses.
REPEATED_TRANSFER = ("CEB303", "CEB403", "CEB505", "CEB603", "CEB507", "CEB509", "CEB605", "CEB607")
# Samples with an error of their own besides: CEB214's root is "CEB214" (not CEB214Message) and
# its receipts carry an appSenderId the structure lacks; CEB792's lines lack gseqno.
FLAWED_SAMPLES = ("CEB214", "CEB792")
# The messages with an official 202205 sample, which the sample-based tests read.
COVERED = {
    "import": IMPORT_DATA + IMPORT_RECEIPTS,
    "export": EXPORT_DATA + EXPORT_RECEIPTS,
}
# Every root each schema file declares.
ROOTS = {"import": COVERED["import"] + CUSTOMS_DATA, "export": COVERED["export"]}
