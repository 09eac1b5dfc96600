"""Which published signer signs what (``declarations.sample_signer``): every sample file —
``danchuang samples``' sets, what follows them, the committed examples — by the sample signer;
a record builder given the stand-in signer (as ``app.services.stand_ins`` gives it) by that."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from declarations.messages import Direction, Regime
from declarations.paths import xsd_root
from declarations.pki import Certificate
from declarations.sample_export_followups import arrival_record, export_after
from declarations.sample_followups import (
    SAMPLE_SITE,
    import_cancellation,
    import_return,
    import_site_entry,
)
from declarations.sample_signer import sample_signer, stand_in_signer
from declarations.samples import generate_sets, to_bytes
from declarations.xmldsig import verify_signature


def _signer_of(data: bytes) -> Certificate | None:
    checked = verify_signature(data)
    assert checked.problems == {}
    return checked.certificate


def test_sample_files_carry_the_sample_signers_certificate() -> None:
    _key, sample = sample_signer()
    (imported,) = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=5)
    (exported,) = generate_sets(Regime.DIRECT, Direction.EXPORT, seed=5)
    deal = imported.deal
    signed = [
        imported.documents["inventory-CEB621.xml"],
        import_site_entry(deal),
        import_cancellation(deal, "INVT"),
        import_return(deal, "INVT", {deal.lines[0].gnum: Decimal(1)}),
        *export_after(exported).values(),
    ]
    for root in signed:
        assert _signer_of(to_bytes(root)) == sample


def test_the_committed_examples_carry_the_sample_signers_certificate() -> None:
    _key, sample = sample_signer()
    examples = [p for p in xsd_root().glob("*/examples/**/*.xml") if b"X509Certificate" in
                p.read_bytes()]  # fmt: skip
    assert examples
    for path in examples:
        assert _signer_of(path.read_bytes()) == sample, path


def test_a_builder_signs_with_the_signer_it_is_given() -> None:
    _key, stand_in = stand_in_signer()
    (exported,) = generate_sets(Regime.DIRECT, Direction.EXPORT, seed=6)
    deal = exported.deal
    arrival = arrival_record(SAMPLE_SITE, deal.carrier, deal.customs_code, [deal.logistics_no],
                             vehicle="DC00000001", bill_no=None, when="20260301100000",
                             guid="A" * 36, signer=stand_in_signer())  # fmt: skip
    assert _signer_of(etree.tostring(arrival, encoding="UTF-8")) == stand_in  # as stand_ins sends
