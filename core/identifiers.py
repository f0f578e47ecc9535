"""Product identifiers: barcodes in the GTIN family and manufacturer part numbers.

UPC-A (12 digits), EAN-13, EAN-8 and GTIN-14 are one family: each is the same number left-padded
with zeros to 14 digits. The check digit is validated by python-stdnum (`stdnum.ean` covers all four lengths)
rather than by hand.
"""

from __future__ import annotations

from core.i18n import _

from enum import StrEnum
from typing import NamedTuple

from stdnum import ean as stdnum_ean

_SEPARATORS = str.maketrans("", "", " -")
GTIN_LENGTHS = (8, 12, 13, 14)


class BarcodeStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"


class Barcode(NamedTuple):
    raw: str
    gtin14: str | None
    status: BarcodeStatus
    reason: str | None = None


def parse_barcode(raw: str | None) -> Barcode | None:
    """Read a scanned or typed barcode; None when there is none.

    An invalid code keeps its raw text but gets no GTIN-14, so it can never join an automatic match.
    A catalog import calls this for every product, hence the plain, early-exit style.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    digits = text.translate(_SEPARATORS) if (" " in text or "-" in text) else text
    if not (digits.isdigit() and digits.isascii()):
        return Barcode(text, None, BarcodeStatus.INVALID, _("contains characters other than digits"))
    if len(digits) not in GTIN_LENGTHS:
        return Barcode(
            text, None, BarcodeStatus.INVALID, f"has {len(digits)} digits, not 8, 12, 13 or 14"
        )
    # The digits are already compacted and checked, so only the check digit is left to compare.
    if stdnum_ean.calc_check_digit(digits[:-1]) != digits[-1]:
        return Barcode(text, None, BarcodeStatus.INVALID, _("has a wrong check digit"))
    return Barcode(text, digits.zfill(14), BarcodeStatus.VALID)


PART_NUMBER_KEY_LENGTH = 64


def part_number_key(raw: str | None) -> str | None:
    """The form part numbers are compared in: trimmed, case-folded, punctuation kept; no longer
    than the column that holds it (case-folding can lengthen text: "ß" becomes "ss")."""
    if raw is None:
        return None
    key = raw.strip().casefold()[:PART_NUMBER_KEY_LENGTH]
    return key or None


def with_check_digit(body: str) -> str:
    """Complete a GTIN body (all digits but the last) with its check digit."""
    return body + stdnum_ean.calc_check_digit(body)
