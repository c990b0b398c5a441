"""Reading where a problem is: written addresses and shared locations."""

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Match, Optional, Tuple

from actions.catalog import Places
from actions.text import contains_keyword, normalize

# A shared location travels through the `address` slot as this prefix plus
# JSON until the validator turns it into an address and coordinates.
LOCATION_PREFIX = "geo:"

MISSING_STREET = "la calle o avenida"
MISSING_AREA = "la colonia, SM o región"
MISSING_STREET_AND_AREA = f"{MISSING_STREET} y {MISSING_AREA}"

# Words that open a landmark written after an address: "av kabah sm 63
# frente al oxxo", "calle 10 region 94, atrás del mercado".
LANDMARK_START = re.compile(
    r"\b(?:en)?frente (?:a|al|de|del)\b"
    r"|\b(?:junto|pegado) al?\b"
    r"|\b(?:a un|al) lado del?\b"
    r"|\b(?:atr[aá]s|detr[aá]s|cerca|enseguida|despu[eé]s|antes) del?\b",
    re.IGNORECASE,
)
# A landmark right after an address, up to the end of its clause.
LANDMARK_CLAUSE = re.compile(
    r"[\s,]+(?:" + LANDMARK_START.pattern + r")[^,.;!?\n]*", re.IGNORECASE
)
TRAILING_NON_WORD = re.compile(r"[^\w]+$")
# Maximum length, in words, of an address found inside a longer message.
MAX_FOUND_ADDRESS_WORDS = 6
# A house, block or area number that ends an address: "63", "22,", "#5".
NUMBER_WORD = re.compile(r"^#?\d+[a-z]?[,.;]?$", re.IGNORECASE)


@dataclass(frozen=True)
class SharedLocation:
    """A point the citizen shared from WhatsApp."""

    latitude: float
    longitude: float
    address: Optional[str] = None
    label: Optional[str] = None

    def describe(self) -> str:
        """Return the text staff read as the address of a shared point."""
        named = ", ".join(part for part in (self.label, self.address) if part)
        coordinates = f"{self.latitude:.5f}, {self.longitude:.5f}"
        return f"{named} ({coordinates})" if named else f"Ubicación {coordinates}"


def encode_shared_location(location: Dict[str, Any]) -> str:
    """Pack a channel's location metadata into an `address` slot value."""
    payload = {
        "latitude": float(location["latitude"]),
        "longitude": float(location["longitude"]),
        "address": location.get("address"),
        "label": location.get("label"),
    }
    return LOCATION_PREFIX + json.dumps(payload, ensure_ascii=False)


def decode_shared_location(value: str) -> SharedLocation:
    """Unpack an `address` slot value made by `encode_shared_location`."""
    payload = json.loads(value[len(LOCATION_PREFIX) :])
    return SharedLocation(**payload)


def mentions_outside_place(text: str, places: Places) -> bool:
    """Tell whether the text names a town outside the municipality.

    "Av. Tulum" is a Cancún avenue, so a place name preceded by a street word
    ("avenida Tulum") does not count as the town.
    """
    normalized = normalize(text)
    for place in places.outside_places:
        if not contains_keyword(normalized, place):
            continue
        place_words = normalize(place)
        preceded_by_street = any(
            contains_keyword(normalized, f"{street} {place_words}")
            for street in places.street_words
        )
        if not preceded_by_street:
            return True
    return False


def check_address(text: str, places: Places) -> Optional[str]:
    """Return what a written address lacks (street or area), or None.

    A street is a street word (calle, av, mza…) or a known avenue; an area is
    an area word (SM, región, colonia…) or a known neighborhood.
    """
    normalized = normalize(text)
    has_street = any(
        contains_keyword(normalized, word)
        for word in (*places.street_words, *places.avenues)
    )
    has_area = any(
        contains_keyword(normalized, word)
        for word in (*places.area_words, *places.neighborhoods)
    )
    if not has_street and not has_area:
        return MISSING_STREET_AND_AREA
    if not has_street:
        return MISSING_STREET
    if not has_area:
        return MISSING_AREA
    return None


def is_place_word(word: str, places: Places) -> bool:
    """Tell whether a word is a street or area word ("av", "calle", "sm")."""
    normalized = normalize(word).strip(",.;:")
    return normalized in places.street_words or normalized in places.area_words


def first_complete_run(
    text: str, words: List[Match[str]], places: Places
) -> Optional[Tuple[int, int]]:
    """Return the first and last word of the shortest run that is an address.

    Runs end as early as possible and hold at most MAX_FOUND_ADDRESS_WORDS
    words, because a longer one is likely a sentence, not an address.
    """
    for end in range(len(words)):
        for start in range(end, max(end - MAX_FOUND_ADDRESS_WORDS, -1), -1):
            span = text[words[start].start() : words[end].end()]
            if check_address(span, places) is None:
                return start, end
    return None


def find_address(text: str, places: Places) -> Optional[str]:
    """Find a short, complete address inside a longer message, or None.

    "hay un bache en la av kabah x la sm 63 😡" gives "av kabah x la sm 63":
    the shortest run of words with a street and an area, widened to whole
    names and numbers, and a landmark that follows it.
    """
    if check_address(text, places) is not None:
        # No run of words can hold a street and an area the whole text lacks.
        return None
    words = list(re.finditer(r"\S+", text))
    run = first_complete_run(text, words, places)
    if run is None:
        return None
    start, end = run

    # Widen the run to whole names: "kabah" takes the "av" before it, and
    # a trailing "sm" or "av" takes the number or name after it.
    while start > 0 and is_place_word(words[start - 1].group(), places):
        start -= 1
    while end + 1 < len(words) and (
        NUMBER_WORD.match(words[end + 1].group())
        or is_place_word(words[end].group(), places)
    ):
        end += 1

    address = text[words[start].start() : words[end].end()]
    landmark = LANDMARK_CLAUSE.match(text, words[end].end())
    if landmark:
        address += landmark.group()
    # Drop what trails the last word: punctuation, emojis.
    return TRAILING_NON_WORD.sub("", address).strip()


def split_landmark(text: str, places: Places) -> Tuple[str, Optional[str]]:
    """Split a written address from the landmark that follows it.

    Returns the address and the landmark, or the whole text and None when no
    landmark follows a complete address (street and area).
    """
    match = LANDMARK_START.search(text)
    if match is None:
        return text, None
    address = text[: match.start()].strip().rstrip(",;.-").strip()
    if not address or check_address(address, places) is not None:
        return text, None
    return address, text[match.start() :].strip()


def join_address(first: str, second: str) -> str:
    """Join two parts of an address given in separate messages."""
    return f"{first.strip().rstrip(',')}, {second.strip()}"
