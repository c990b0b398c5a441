"""Reading where a problem is: written addresses and shared locations."""

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from actions.catalog import Places
from actions.text import contains_keyword, normalize

# A shared location travels through the `address` slot as this prefix plus
# JSON until the validator turns it into an address and coordinates.
LOCATION_PREFIX = "geo:"

MISSING_STREET = "la calle o avenida"
MISSING_AREA = "la colonia, SM o región"

# Words that open a landmark written after an address: "av kabah sm 63
# frente al oxxo", "calle 10 region 94, atrás del mercado".
LANDMARK_START = re.compile(
    r"\b(?:en)?frente (?:a|al|de|del)\b"
    r"|\b(?:junto|pegado) al?\b"
    r"|\b(?:a un|al) lado del?\b"
    r"|\b(?:atr[aá]s|detr[aá]s|cerca|enseguida|despu[eé]s|antes) del?\b",
    re.IGNORECASE,
)


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
        return f"{MISSING_STREET} y {MISSING_AREA}"
    if not has_street:
        return MISSING_STREET
    if not has_area:
        return MISSING_AREA
    return None


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
