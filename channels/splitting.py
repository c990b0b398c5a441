"""Splits long text into WhatsApp messages at natural boundaries."""

import re
from typing import List

# Twilio rejects a Body over 1,600 characters (error 21617).
MAX_BODY_CHARS = 1600

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_LINE_BREAK = re.compile(r"\n")
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")
_WHITESPACE = re.compile(r"\s")


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _fitting_prefix_length(text: str, limit: int) -> int:
    # Counted in UTF-16 code units, which is never less than the characters
    # Twilio counts, so a chunk never exceeds the limit.
    units = 0
    for index, char in enumerate(text):
        units += _utf16_units(char)
        if units > limit:
            return index
    return len(text)


def _last_break(pattern: "re.Pattern[str]", window: str, low: int, high: int) -> int:
    # End of the chunk at the last match that starts or ends in [low, high].
    position = -1
    for match in pattern.finditer(window):
        cut = match.end() if pattern is _SENTENCE_END else match.start()
        if low <= cut <= high:
            position = cut
    return position


def _cut_position(text: str, fit: int) -> int:
    # Prefer a paragraph, then a line, then a sentence in the second half of
    # the window, and any space before cutting through a word.
    window = text[: fit + 1]
    for pattern in (_PARAGRAPH_BREAK, _LINE_BREAK, _SENTENCE_END):
        position = _last_break(pattern, window, fit // 2, fit)
        if position > 0:
            return position
    position = _last_break(_WHITESPACE, window, 1, fit)
    if position > 0:
        return position
    # A single word longer than the limit (a long link) has to be cut.
    return fit


def split_message(text: str, limit: int = MAX_BODY_CHARS) -> List[str]:
    """Split text into messages of at most `limit` characters.

    Cuts at a paragraph, line or sentence boundary when one lies in the
    second half of a chunk, otherwise at a space. Only a single word longer
    than `limit` is cut inside. No text is dropped other than the whitespace
    at a cut.

    Args:
        text: The full response.
        limit: Maximum length of a message, in UTF-16 code units.

    Returns:
        The chunks in order; empty if `text` has no visible characters.
    """
    chunks: List[str] = []
    remaining = text.strip()
    while remaining:
        fit = _fitting_prefix_length(remaining, limit)
        if fit == len(remaining):
            chunks.append(remaining)
            break
        cut = _cut_position(remaining, fit)
        chunk = remaining[:cut].rstrip()
        if chunk:
            chunks.append(chunk)
        remaining = remaining[cut:].lstrip()
    return chunks
