"""Folio numbers: `CUN-YY-NNNNNC`, a year, a sequence and a Damm check digit.

The sequence is the case's database id, at least five digits wide, and the
check digit is computed with the Damm algorithm over the year digits followed
by the zero-padded sequence. Damm catches every single-digit error and every
swap of two adjacent digits, the two mistakes people make copying a number.
"""

import re
from typing import Optional

PREFIX = "CUN"
SEQUENCE_WIDTH = 5

# The quasigroup table of order 10 given by H. Michael Damm (2004).
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Letters CUN, two year digits and six or more digits, with any dashes, dots
# or spaces between the groups, in any letter case.
FOLIO_PATTERN = re.compile(
    r"(?<![a-z0-9])cun[\s\-_.#]*(?P<year>\d{2})[\s\-_.]*"
    r"(?P<digits>\d(?:[\s\-_.]?\d){5,})(?![0-9])",
    re.IGNORECASE,
)


def damm_check_digit(digits: str) -> int:
    """Return the Damm check digit of a string of decimal digits."""
    interim = 0
    for digit in digits:
        interim = _DAMM_TABLE[interim][int(digit)]
    return interim


def format_folio(year: int, sequence: int) -> str:
    """Build the folio of a case from its creation year and sequence number.

    Args:
        year: the full or two-digit year, e.g. 2026 or 26.
        sequence: a positive integer, unique over all cases.
    """
    if sequence < 1:
        raise ValueError(f"folio sequence must be positive, got {sequence}")
    year_digits = f"{year % 100:02d}"
    sequence_digits = f"{sequence:0{SEQUENCE_WIDTH}d}"
    check = damm_check_digit(year_digits + sequence_digits)
    return f"{PREFIX}-{year_digits}-{sequence_digits}{check}"


def normalize_folio(text: Optional[str]) -> Optional[str]:
    """Return the canonical folio written in the text, or None.

    Accepts lower case, spaces and dashes anywhere between the groups, e.g.
    "cun 26 000127" or "CUN-26-00012-7". Returns None when no folio-shaped
    text is present or when its check digit does not match, so a mistyped
    folio is never looked up as if it were someone else's.
    """
    candidate = find_folio_candidate(text)
    if candidate is None or not has_valid_check_digit(candidate):
        return None
    return candidate


def find_folio_candidate(text: Optional[str]) -> Optional[str]:
    """Return the first folio-shaped text in canonical form, valid or not."""
    if not text:
        return None
    match = FOLIO_PATTERN.search(text)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group("digits"))
    return f"{PREFIX}-{match.group('year')}-{digits}"


def has_valid_check_digit(folio: str) -> bool:
    """Tell whether a canonical folio's last digit matches its Damm digit."""
    _, year_digits, digits = folio.split("-")
    return damm_check_digit(year_digits + digits[:-1]) == int(digits[-1])


def sequence_of(folio: str) -> int:
    """Return the sequence number (the case id) inside a canonical folio."""
    return int(folio.split("-")[2][:-1])
