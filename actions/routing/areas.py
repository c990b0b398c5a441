"""Reading the zone and the street of an address as citizens write it.

Cancún's old city is divided in supermanzanas ("SM 64", "smz 21"), newer
parts in regiones ("región 94", "R-259"), and fraccionamientos and colonias
have names ("Villas Otoch"). Routing sends some categories to another body
in some zones, and linking joins reports made on the same street.
"""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from actions.text import contains_keyword, normalize

if TYPE_CHECKING:  # the catalog imports this package while it loads
    from actions.catalog import Places

_SM = re.compile(
    r"(?<![a-z0-9])(?:sm|smz|s\.m\.?|supermanzana|super manzana)"
    r"\s*\.?\s*(\d{1,3})(?!\d)"
)
_REGION = re.compile(r"(?<![a-z0-9])(?:region|reg|r)\s*[-.]?\s*(\d{1,3})(?!\d)")

# Street words and the canonical word that keys a street: "av.", "ave" and
# "avenida" all key as "av".
_STREET_KINDS = {
    "calle": "calle",
    "av": "av",
    "ave": "av",
    "avenida": "av",
    "blvd": "blvd",
    "boulevard": "blvd",
    "bulevar": "blvd",
    "andador": "andador",
    "retorno": "retorno",
    "privada": "privada",
    "priv": "privada",
    "cerrada": "cerrada",
    "circuito": "circuito",
    "prolongacion": "prolongacion",
    "carretera": "carretera",
}
# Words that end a street's name: a zone, a lot, a corner or a reference.
_NAME_END_WORDS = (
    "sm smz supermanzana super region reg r colonia col fracc fraccionamiento "
    "mza mz manzana lote lt lte esquina esq cruce con frente entre junto atras "
    "cerca por numero num no zona"
).split()
_STREET = re.compile(
    r"(?<![a-z0-9])(" + "|".join(sorted(_STREET_KINDS, key=len, reverse=True)) + r")"
    r"\.?\s+(?:de\s+la\s+|del\s+|de\s+)?([a-z0-9][a-z0-9 ]*)"
)


@dataclass(frozen=True)
class Area:
    """The zone an address names: its SM, its región and its colonia."""

    sm: Optional[int] = None
    region: Optional[int] = None
    colonia: Optional[str] = None

    @property
    def key(self) -> Optional[str]:
        """Return the most precise zone as text ("sm 64"), or None if unknown."""
        if self.sm is not None:
            return f"sm {self.sm}"
        if self.region is not None:
            return f"region {self.region}"
        return self.colonia


def read_area(address: Optional[str], places: "Places") -> Area:
    """Read the SM, región and colonia named in an address.

    The colonia is the longest neighborhood of ``places.yml`` the address
    names, normalized ("villas otoch paraiso").
    """
    text = normalize(address)
    if not text:
        return Area()
    sm = _SM.search(text)
    region = _REGION.search(text)
    colonia = None
    for name in sorted(places.neighborhoods, key=len, reverse=True):
        if contains_keyword(text, name):
            colonia = normalize(name)
            break
    return Area(
        sm=int(sm.group(1)) if sm else None,
        region=int(region.group(1)) if region else None,
        colonia=colonia,
    )


def street_key(address: Optional[str], places: "Places") -> Optional[str]:
    """Return a key that is equal for two ways of writing the same street.

    A known avenue keys as "av <name>" wherever it appears ("sobre la Kabah",
    "Av. Kabah"); of two, the first one named ("Cobá esquina Tulum"). Otherwise
    the key is the street word in its canonical form and the name after it,
    up to a comma or a zone word ("calle jaguar", "retorno 5"). Returns None
    when the address names no street, for example "zona hotelera km 9.5" or a
    shared location.
    """

    text = normalize(address)
    if not text:
        return None
    named = []
    for avenue in places.avenues:
        match = re.search(r"(?<!\w)" + re.escape(normalize(avenue)) + r"(?!\w)", text)
        if match:
            named.append((match.start(), -len(avenue), normalize(avenue)))
    if named:
        # The avenue named first is the street; a later one is a corner.
        return f"av {min(named)[2]}"

    match = _STREET.search(text)
    if match is None:
        return None
    name_words = []
    for word in match.group(2).split():
        if word in _NAME_END_WORDS:
            break
        name_words.append(word)
    if not name_words:
        return None
    return f"{_STREET_KINDS[match.group(1)]} {' '.join(name_words)}"
