"""Text helpers for Spanish as it is typed on phones.

Citizens write without accents, with emojis and with numbers spelled out, so
every comparison between what they wrote and a catalog keyword goes through
`normalize` first.
"""

import functools
import re
import unicodedata
from typing import Iterable, Optional, Sequence

_KEYCAP_DIGITS = {f"{digit}\ufe0f\u20e3": str(digit) for digit in range(10)}
_KEYCAP_DIGITS.update({f"{digit}\u20e3": str(digit) for digit in range(10)})

_NUMBER_WORDS = {
    "uno": 1,
    "una": 1,
    "primero": 1,
    "primera": 1,
    "dos": 2,
    "segundo": 2,
    "segunda": 2,
    "tres": 3,
    "tercero": 3,
    "tercera": 3,
    "cuatro": 4,
    "cuarto": 4,
    "cuarta": 4,
    "cinco": 5,
    "quinto": 5,
    "quinta": 5,
    "seis": 6,
    "sexto": 6,
    "sexta": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
}

# "1", "1.", "#1", "opcion 1", "la 1", "el numero 2", "la tercera", "uno"
_OPTION_PATTERN = re.compile(
    r"^(?:(?:la|el|en|es|opcion|opc|op|numero|num|no)\s*)*"
    r"#?\s*(?P<number>\d{1,2}|[a-z]+)\s*[.)]?\s*(?:porfa\w*|por favor|gracias)?$"
)


def strip_accents(text: str) -> str:
    """Remove accents and diacritics, keeping ñ as n as people type it."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalize(text: Optional[str]) -> str:
    """Lower-case, strip accents and emojis, and collapse whitespace.

    The result keeps letters, digits and the separators that matter in
    addresses and folios (`-`, `#`, `.`, `,`).
    """
    if not text:
        return ""
    for keycap, digit in _KEYCAP_DIGITS.items():
        text = text.replace(keycap, f" {digit} ")
    text = strip_accents(text.lower())
    text = re.sub(r"[^\w\s\-#.,]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_option(text: Optional[str], option_count: int) -> Optional[int]:
    """Return the 1-based option a reply chooses, or None.

    Accepts the number alone and the usual ways to say it: "2", "2.", "#2",
    "opción 2", "la 2", "la segunda", "dos", "2️⃣".
    """
    match = _OPTION_PATTERN.match(normalize(text).rstrip(". "))
    if not match:
        return None
    token = match.group("number")
    number = int(token) if token.isdigit() else _NUMBER_WORDS.get(token)
    if number is None or not 1 <= number <= option_count:
        return None
    return number


def _plural_pattern(word: str) -> str:
    if word.endswith("z"):
        return re.escape(word[:-1]) + r"(?:z|ces)"
    return re.escape(word) + r"(?:e?s)?"


@functools.lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> "re.Pattern[str]":
    # Each word may carry a Spanish plural ending, so "bache" also finds
    # "baches", "lampara" finds "lamparas" and "luz" finds "luces".
    words = [_plural_pattern(word) for word in normalize(keyword).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def contains_keyword(normalized_text: str, keyword: str) -> bool:
    """Tell whether a keyword occurs in normalized text as whole words.

    A word of the keyword also matches its plural ("bache" finds "baches").
    """
    return _keyword_pattern(keyword).search(normalized_text) is not None


def keyword_score(text: str, keywords: Iterable[str]) -> int:
    """Score how well the text matches keywords: one point a word matched.

    A phrase of several words counts once per word, so "camion de la basura"
    outweighs "basura" alone.
    """
    normalized = normalize(text)
    return sum(
        len(normalize(keyword).split())
        for keyword in keywords
        if contains_keyword(normalized, keyword)
    )


def numbered_list(labels: Sequence[str]) -> str:
    """Format options as the numbered lines that WhatsApp users answer."""
    return "\n".join(f"{index}. {label}" for index, label in enumerate(labels, 1))
