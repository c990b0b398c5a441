"""Phone numbers as the assistant stores them: E.164, one form per person.

WhatsApp still writes Mexican mobile numbers with the "1" that Mexico dropped
from dialling in 2019 (`+52 1 998 123 4567`), while a number typed by a person
or sent by another channel usually lacks it. Both forms must name the same
conversation, so the "1" is removed everywhere.

This module imports only `phonenumbers`, so the action server can use it
without loading the Rasa channel code.
"""

import phonenumbers

MEXICO_COUNTRY_CODE = 52
DEFAULT_REGION = "MX"
WHATSAPP_PREFIX = "whatsapp:"

# Mexican national numbers have 10 digits; the old mobile prefix makes 11.
_MEXICAN_NATIONAL_LENGTH = 10


def normalize_phone(raw: str) -> str:
    """Normalize a phone number or WhatsApp address to E.164.

    Accepts `whatsapp:+5219981234567`, `+52 998 123 4567`, `9981234567` (read
    as Mexican) and numbers of any other country with their `+` prefix.
    Mexican mobile numbers lose the old "1" after the country code.

    Args:
        raw: The number as Twilio or a person wrote it.

    Returns:
        The number in E.164, for example `+529981234567`.

    Raises:
        ValueError: If `raw` is not a phone number.
    """
    text = (raw or "").strip()
    if text.lower().startswith(WHATSAPP_PREFIX):
        text = text[len(WHATSAPP_PREFIX) :].strip()

    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"Invalid phone number {raw!r}: {error}") from None

    national = str(number.national_number)
    if (
        number.country_code == MEXICO_COUNTRY_CODE
        and len(national) == _MEXICAN_NATIONAL_LENGTH + 1
        and national.startswith("1")
    ):
        number.national_number = int(national[1:])

    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(number: str) -> str:
    """Hide all but the last four digits of a number, for logs."""
    digits = [char for char in number if char.isdigit()]
    if len(digits) <= 4:
        return "…"
    return "…" + "".join(digits[-4:])
