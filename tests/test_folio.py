"""Folio format, Damm check digit and tolerant parsing."""

import itertools

import pytest

from actions.db.folio import (
    damm_check_digit,
    find_folio_candidate,
    format_folio,
    has_valid_check_digit,
    normalize_folio,
    sequence_of,
)


def test_damm_reference_value():
    # The worked example of the Damm algorithm: 572 has check digit 4.
    assert damm_check_digit("572") == 4


def test_format_folio_shape():
    folio = format_folio(2026, 124)
    assert folio.startswith("CUN-26-00124")
    assert len(folio) == len("CUN-26-000000")
    assert has_valid_check_digit(folio)


def test_sequence_grows_past_five_digits():
    folio = format_folio(2027, 1234567)
    assert folio.startswith("CUN-27-1234567")
    assert sequence_of(folio) == 1234567
    assert has_valid_check_digit(folio)


def test_sequence_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        format_folio(2026, 0)


@pytest.mark.parametrize(
    "typed",
    ["cun 26 001241", "CUN-26-00124-1", "cun26001241", "Cun_26_001241", "CUN 26-001 241"],
)
def test_tolerant_parsing(typed):
    assert find_folio_candidate(f"hola, mi folio es {typed} gracias") == "CUN-26-001241"


def test_every_single_digit_error_is_rejected():
    folio = format_folio(2026, 4821)
    digits = folio.replace("-", "")[3:]
    for position, replacement in itertools.product(range(len(digits)), "0123456789"):
        if digits[position] == replacement:
            continue
        typo = digits[:position] + replacement + digits[position + 1 :]
        assert normalize_folio(f"CUN-{typo[:2]}-{typo[2:]}") is None, typo


def test_every_adjacent_swap_is_rejected():
    folio = format_folio(2026, 4821)
    digits = folio.replace("-", "")[3:]
    for position in range(len(digits) - 1):
        if digits[position] == digits[position + 1]:
            continue
        swapped = (
            digits[:position]
            + digits[position + 1]
            + digits[position]
            + digits[position + 2 :]
        )
        assert normalize_folio(f"CUN-{swapped[:2]}-{swapped[2:]}") is None, swapped


def test_text_without_folio():
    assert find_folio_candidate("quiero saber de mi reporte") is None
    assert find_folio_candidate("CUN-26-123") is None
