import pytest

from core.identifiers import BarcodeStatus, parse_barcode, part_number_key, with_check_digit


@pytest.mark.parametrize("raw", ["036000241457", "0036000241457", "00036000241457", " 0360-0024 1457 "])
def test_upc_ean_and_gtin14_forms_of_one_code_are_the_same(raw):
    barcode = parse_barcode(raw)
    assert barcode.status is BarcodeStatus.VALID
    assert barcode.gtin14 == "00036000241457"


def test_ean8_is_padded_to_fourteen_digits():
    assert parse_barcode("96385074").gtin14 == "00000096385074"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("036000241458", "wrong check digit"),
        ("03600024145", "11 digits"),
        ("03600O241457", "other than digits"),
        ("٠٣٦٠٠٠٢٤١٤٥٧", "other than digits"),
    ],
)
def test_invalid_codes_keep_their_text_but_get_no_gtin(raw, reason):
    barcode = parse_barcode(raw)
    assert barcode.status is BarcodeStatus.INVALID
    assert barcode.gtin14 is None
    assert barcode.raw == raw
    assert reason in barcode.reason


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_no_barcode_is_none(raw):
    assert parse_barcode(raw) is None


def test_part_numbers_compare_trimmed_and_case_insensitively_with_punctuation_kept():
    assert part_number_key("  ab-12 ") == part_number_key("AB-12")
    assert part_number_key("AB-12") != part_number_key("AB12")
    assert part_number_key("   ") is None


def test_check_digit_completion_produces_valid_codes():
    code = with_check_digit("03600024145")
    assert code == "036000241457"
    assert parse_barcode(code).status is BarcodeStatus.VALID


def test_a_part_number_key_never_outgrows_its_column():
    from core.identifiers import PART_NUMBER_KEY_LENGTH, part_number_key

    assert len(part_number_key("ß" * 64)) == PART_NUMBER_KEY_LENGTH
