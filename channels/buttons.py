"""Buttons as numbered options, and the citizen's answer back to a payload.

WhatsApp sessions through Twilio show no buttons for free-form replies, so
the buttons of a bot response become one message with numbered lines
("1. Reportar un bache"). The buttons sent last to each citizen are kept
until their next message, which may name an option by its number, its title
or its payload.
"""

import re
import unicodedata
from typing import Any, Dict, List, Optional, Sequence

from channels.store import JsonSlot

BUTTON_MEMORY_TTL_SECONDS = 24 * 3600

_KEYCAP_SUFFIXES = ("\ufe0f\u20e3", "\u20e3")
_OPTION_NUMBER = re.compile(r"^(?:(?:opcion|opc|numero|la|el|#)\s*)*(\d{1,2})[.)]?$")
_EDGE_PUNCTUATION = "¡!¿?.,;:\"'()[] "


def button_choices(buttons: Sequence[Dict[str, Any]]) -> List[Dict[str, str]]:
    """Reduce Rasa buttons to their titles and payloads.

    A button without payload answers with its title, as Rasa does.
    """
    choices = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title).strip()
        if title or payload:
            choices.append({"title": title or payload, "payload": payload})
    return choices


def format_buttons(text: Optional[str], choices: Sequence[Dict[str, str]]) -> str:
    """Write the text followed by one numbered line per choice."""
    lines = [f"{number}. {choice['title']}" for number, choice in enumerate(choices, 1)]
    options = "\n".join(lines)
    text = (text or "").strip()
    if not text:
        return options
    return f"{text}\n\n{options}"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    collapsed = re.sub(r"\s+", " ", without_accents)
    return collapsed.strip(_EDGE_PUNCTUATION)


def _option_number(text: str) -> Optional[int]:
    for suffix in _KEYCAP_SUFFIXES:
        text = text.replace(suffix, "")
    match = _OPTION_NUMBER.match(_fold(text))
    if not match:
        return None
    return int(match.group(1))


def resolve_reply(text: str, choices: Sequence[Dict[str, str]]) -> Optional[str]:
    """Return the payload of the choice that `text` names, or None.

    Accepts the option number ("2", "2.", "#2", "opción 2", "2️⃣"), the title
    and the payload, ignoring case, accents and surrounding punctuation.
    """
    if not text or not choices:
        return None

    number = _option_number(text)
    if number is not None:
        if 1 <= number <= len(choices):
            return choices[number - 1]["payload"]
        return None

    stripped = text.strip()
    folded = _fold(text)
    for choice in choices:
        if stripped == choice["payload"] or folded == _fold(choice["title"]):
            return choice["payload"]
    for choice in choices:
        if folded and folded == _fold(choice["payload"]):
            return choice["payload"]
    return None


class ButtonMemory:
    """The choices sent last to each citizen, kept until their next message."""

    def __init__(self, store: Any, ttl_seconds: int = BUTTON_MEMORY_TTL_SECONDS):
        self._slot = JsonSlot(store, "buttons", ttl_seconds)

    async def remember(self, sender_id: str, choices: List[Dict[str, str]]) -> None:
        """Replace the choices pending for `sender_id`."""
        await self._slot.put(sender_id, choices)

    async def take(self, sender_id: str) -> List[Dict[str, str]]:
        """Remove and return the choices pending for `sender_id`."""
        choices = await self._slot.pop(sender_id)
        if not isinstance(choices, list):
            return []
        return [c for c in choices if isinstance(c, dict) and "payload" in c]
