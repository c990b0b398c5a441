"""Reads Twilio's WhatsApp webhook parameters into a turn for Rasa.

Twilio posts `MessageSid`, `From` (`whatsapp:+52...`), `Body`, `ProfileName`,
`WaId`, `NumMedia` with `MediaUrlN`/`MediaContentTypeN`, and for a shared
location `Latitude`, `Longitude`, `Address` and `Label`.
"""

import logging
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME

from channels.media import MediaItem
from channels.phone import normalize_phone
from channels.signature import FormParameters

logger = logging.getLogger(__name__)

CHANNEL_NAME = "whatsapp"

# Longer texts reach the NLU pipeline cut to this length; the metadata keeps
# the whole text under "full_text".
MAX_NLU_TEXT_CHARS = 4000

# Twilio attaches at most 10 media files to one message.
MAX_MEDIA_PER_MESSAGE = 10

# Invisible characters that change nothing a person meant to write: zero-width
# space, word joiner, byte order mark, soft hyphen and bidirectional overrides.
# The zero-width joiner (U+200D) stays, because emoji sequences need it.
_INVISIBLE_CHARS = {
    "\u00ad",
    "\u200b",
    "\u2060",
    "\ufeff",
    *(chr(code) for code in range(0x202A, 0x202F)),
    *(chr(code) for code in range(0x2066, 0x206A)),
}


class InvalidWebhookRequest(ValueError):
    """A webhook request that lacks what every Twilio message has."""


@dataclass
class InboundMessage:
    """One WhatsApp message as Twilio reported it."""

    message_sid: str
    reply_address: str
    sender_id: str
    text: str
    profile_name: Optional[str] = None
    wa_id: Optional[str] = None
    media_references: List[Dict[str, str]] = field(default_factory=list)
    location: Optional[Dict[str, Any]] = None


def clean_text(body: Optional[str]) -> str:
    """Remove control and invisible characters, keeping what was written.

    Line breaks and tabs stay; `\\r\\n` becomes `\\n`. Accents, `¡`, `¿` and
    emojis are kept exactly.
    """
    if not body:
        return ""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in text:
        if char in "\n\t":
            kept.append(char)
        elif unicodedata.category(char) == "Cc" or char in _INVISIBLE_CHARS:
            continue
        else:
            kept.append(char)
    return "".join(kept).strip()


def truncate_for_nlu(text: str, limit: int = MAX_NLU_TEXT_CHARS) -> Tuple[str, bool]:
    """Cut text to `limit` characters, at a space when one is near the end.

    Returns:
        The text for the NLU pipeline and whether it was cut.
    """
    if len(text) <= limit:
        return text, False
    window = text[:limit]
    space = max(window.rfind(" "), window.rfind("\n"))
    if space >= limit * 0.8:
        window = window[:space]
    return window.rstrip(), True


def _optional(form: FormParameters, name: str) -> Optional[str]:
    value = form.first(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _coordinate(value: Optional[str], bound: float) -> Optional[float]:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number) or abs(number) > bound:
        return None
    return number


def _location(form: FormParameters) -> Optional[Dict[str, Any]]:
    latitude = _coordinate(form.first("Latitude"), 90.0)
    longitude = _coordinate(form.first("Longitude"), 180.0)
    if latitude is None or longitude is None:
        if form.first("Latitude") or form.first("Longitude"):
            logger.warning("Ignoring a location with invalid coordinates")
        return None
    return {
        "latitude": latitude,
        "longitude": longitude,
        "address": _optional(form, "Address"),
        "label": _optional(form, "Label"),
    }


def _media_references(form: FormParameters) -> List[Dict[str, str]]:
    try:
        count = int(form.first("NumMedia") or 0)
    except ValueError:
        count = 0
    references = []
    for index in range(min(max(count, 0), MAX_MEDIA_PER_MESSAGE)):
        url = _optional(form, f"MediaUrl{index}")
        if url:
            content_type = _optional(form, f"MediaContentType{index}") or ""
            references.append({"url": url, "content_type": content_type})
    return references


def _text(form: FormParameters) -> str:
    # A tap on a quick-reply button of an approved template carries the
    # button's payload. A payload written as a Rasa intent ("/affirm") is
    # passed on as it is, and any other payload leaves the visible Body.
    payload = _optional(form, "ButtonPayload")
    if payload and payload.startswith("/"):
        return payload
    return clean_text(form.first("Body"))


def parse_inbound(form: FormParameters) -> InboundMessage:
    """Read a webhook's parameters.

    Raises:
        InvalidWebhookRequest: If `MessageSid` or `From` is missing, or
            `From` is not a phone number.
    """
    message_sid = _optional(form, "MessageSid") or _optional(form, "SmsMessageSid")
    reply_address = _optional(form, "From")
    if not message_sid:
        raise InvalidWebhookRequest("missing MessageSid")
    if not reply_address:
        raise InvalidWebhookRequest("missing From")
    try:
        sender_id = normalize_phone(reply_address)
    except ValueError:
        raise InvalidWebhookRequest("From is not a phone number") from None

    return InboundMessage(
        message_sid=message_sid,
        reply_address=reply_address,
        sender_id=sender_id,
        text=_text(form),
        profile_name=_optional(form, "ProfileName"),
        wa_id=_optional(form, "WaId"),
        media_references=_media_references(form),
        location=_location(form),
    )


def parse_data_without_text() -> Dict[str, Any]:
    """Return the NLU result for a turn that has no text.

    A photo without caption, a shared location or an empty message reaches
    Rasa as intent `nlu_fallback` with confidence 1.0 and no entities, and
    the NLU pipeline is skipped. Given an empty string, the pipeline returns
    an arbitrary intent with high confidence: a model of this project's data
    returned `deny` at 0.61 with an empty `category` entity. The fallback
    intent lets the rules and forms decide from the metadata instead.
    """
    intent = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
    return {"text": "", "intent": intent, "intent_ranking": [intent], "entities": []}


def build_metadata(
    message: InboundMessage,
    media: List[MediaItem],
    full_text: Optional[str] = None,
) -> Dict[str, Any]:
    """Build the metadata that the actions read from each user message.

    Args:
        message: The incoming message.
        media: Its attachments after download, rejected ones included.
        full_text: The whole text when the NLU received a shortened one; the
            key "full_text" is present only then.
    """
    metadata: Dict[str, Any] = {
        "channel": CHANNEL_NAME,
        "message_sid": message.message_sid,
        "profile_name": message.profile_name,
        "wa_id": message.wa_id,
        "media": [item.as_metadata() for item in media],
        "location": message.location,
    }
    if full_text is not None:
        metadata["full_text"] = full_text
    return metadata
