"""Cross-border e-commerce retail import tax (跨境电商综合税), as pure functions.

Sources: 财关税〔2016〕18号 (duty 0, VAT and consumption tax at 70 %) and 财关税〔2018〕49号
(limits of 5,000 and 26,000 CNY; one item above the single limit pays in full).

Within the limits (a transaction of at most 5,000 CNY): customs duty 0, and import VAT and
consumption tax at 70 % of the statutory amount. A single item over 5,000 CNY (and under 26,000)
may still come in through the retail channel, but is taxed in full at goods rates, duty
included. The statutory formulas, per line of dutiable value V:

    duty             = V × duty rate
    consumption tax  = (V + duty) / (1 − CT rate) × CT rate
    VAT              = (V + duty + consumption tax) × VAT rate

and within the limits duty is 0 and the other two are multiplied by 0.7 (so with no
consumption tax the combined rate is 13 % × 70 % = 9.1 %).

Decisions:
- The dutiable value of a line is its totalPrice plus its share of the freight and insurance,
  apportioned by goods value; the last line takes what rounding leaves, so shares add up
  exactly. Shares are kept to 5 decimals (N19,5).
- Each tax is rounded per line to the fen with ROUND_HALF_UP (the e-tax bill CEB816 carries
  per-line taxes); the totals are the sums of the rounded line taxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
_SHARE = Decimal("0.00001")
PREFERENTIAL_FACTOR = Decimal("0.7")
DEFAULT_VAT_RATE = Decimal("0.13")
# The two limits of 财关税〔2018〕49号, in CNY; the rules (declarations.rules.limits) and the
# service's quota ledger read them from here.
SINGLE_TRANSACTION_LIMIT = Decimal(5000)  # per transaction
ANNUAL_LIMIT = Decimal(26000)  # per buyer and calendar year


@dataclass(frozen=True, slots=True)
class TaxableLine:
    """One goods line: its goods value (totalPrice, CNY) and the rates of its goods."""

    value: Decimal
    vat_rate: Decimal = DEFAULT_VAT_RATE
    consumption_tax_rate: Decimal = Decimal(0)
    duty_rate: Decimal = Decimal(0)  # only charged when taxed in full

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError(f"a line's value cannot be negative: {self.value}")
        if not Decimal(0) <= self.consumption_tax_rate < 1:
            raise ValueError(f"consumption-tax rate must be in [0, 1): {self.consumption_tax_rate}")
        if self.vat_rate < 0 or self.duty_rate < 0:
            raise ValueError("tax rates cannot be negative")


@dataclass(frozen=True, slots=True)
class LineTax:
    dutiable_value: Decimal
    customs_duty: Decimal
    vat: Decimal
    consumption_tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.customs_duty + self.vat + self.consumption_tax


@dataclass(frozen=True, slots=True)
class ImportTax:
    """The tax of one 清单 (or order): per line and in total, in CNY to the fen."""

    lines: tuple[LineTax, ...]
    full_rate: bool  # taxed in full at goods rates (the single-item exception)

    @property
    def customs_duty(self) -> Decimal:
        return sum((t.customs_duty for t in self.lines), Decimal(0))

    @property
    def vat(self) -> Decimal:
        return sum((t.vat for t in self.lines), Decimal(0))

    @property
    def consumption_tax(self) -> Decimal:
        return sum((t.consumption_tax for t in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.customs_duty + self.vat + self.consumption_tax


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def line_tax(dutiable_value: Decimal, line: TaxableLine, *, full_rate: bool) -> LineTax:
    """The tax of one line of a given dutiable value (duty 0 and 70 % unless ``full_rate``)."""
    duty = dutiable_value * line.duty_rate if full_rate else Decimal(0)
    ct_rate = line.consumption_tax_rate
    consumption_tax = (dutiable_value + duty) / (1 - ct_rate) * ct_rate
    vat = (dutiable_value + duty + consumption_tax) * line.vat_rate
    factor = Decimal(1) if full_rate else PREFERENTIAL_FACTOR
    return LineTax(
        dutiable_value=dutiable_value,
        customs_duty=fen(duty),
        vat=fen(vat * factor),
        consumption_tax=fen(consumption_tax * factor),
    )


def apportion(values: Sequence[Decimal], extra: Decimal) -> list[Decimal]:
    """Split ``extra`` (freight + insurance) over lines in proportion to their values."""
    if not values:
        return []
    total = sum(values, Decimal(0))
    shares: list[Decimal] = []
    for value in values[:-1]:
        share = (extra * value / total).quantize(_SHARE) if total else Decimal(0)
        shares.append(share)
    shares.append(extra - sum(shares, Decimal(0)))
    return shares


def is_full_rate(lines: Sequence[TaxableLine], quantity_one: bool, dutiable: Decimal) -> bool:
    """Whether the single-item exception applies: one item over 5,000 and under 26,000."""
    return len(lines) == 1 and quantity_one and SINGLE_TRANSACTION_LIMIT < dutiable < ANNUAL_LIMIT


def import_tax(
    lines: Sequence[TaxableLine],
    *,
    freight: Decimal = Decimal(0),
    insured_fee: Decimal = Decimal(0),
    single_item: bool = False,
) -> ImportTax:
    """The CBEC import tax of a transaction.

    ``single_item`` says the transaction is one indivisible item (one line of quantity 1).
    Over 5,000 CNY such an item (under 26,000) is taxed in full; any other transaction over
    5,000 CNY is not eligible for the retail channel and raises ``ValueError`` (the rules reject
    it as -621005 before tax is ever computed).
    """
    if not lines:
        raise ValueError("a transaction has at least one line")
    shares = apportion([line.value for line in lines], freight + insured_fee)
    dutiable = [line.value + share for line, share in zip(lines, shares, strict=True)]
    total = sum(dutiable, Decimal(0))
    full_rate = is_full_rate(lines, single_item, total)
    if total > SINGLE_TRANSACTION_LIMIT and not full_rate:
        raise ValueError(
            f"a transaction of {total} CNY exceeds the 5,000 CNY single-transaction limit "
            "and is not a single item under 26,000 CNY: not eligible for retail import"
        )
    return ImportTax(
        lines=tuple(
            line_tax(value, line, full_rate=full_rate)
            for value, line in zip(dutiable, lines, strict=True)
        ),
        full_rate=full_rate,
    )
