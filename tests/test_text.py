"""Reading text as it is typed on phones: options, keywords, normalization."""

import pytest

from actions.text import contains_keyword, normalize, numbered_list, parse_option


@pytest.mark.parametrize(
    "reply, option",
    [
        ("1", 1),
        ("2.", 2),
        ("#3", 3),
        ("opcion 2", 2),
        ("Opción 4", 4),
        ("la 2", 2),
        ("la segunda", 2),
        ("dos", 2),
        ("2️⃣", 2),
        ("3)", 3),
        ("el numero 5", 5),
        ("1 porfa", 1),
    ],
)
def test_parse_option_accepts(reply, option):
    assert parse_option(reply, 10) == option


@pytest.mark.parametrize("reply", ["", "hola", "no", "si", "12", "0", "1 2", "la casa"])
def test_parse_option_rejects(reply):
    assert parse_option(reply, 10) is None


def test_parse_option_respects_count():
    assert parse_option("4", 3) is None


def test_normalize_strips_accents_and_emojis():
    assert normalize("¡Hola! Hay un BÁCHE 😡 en la Av. Tulum") == "hola hay un bache en la av. tulum"


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("hay baches en mi calle", "bache"),
        ("las lamparas no prenden", "lampara"),
        ("no hay luces", "luz"),
        ("pasa el camion de la basura", "camion de la basura"),
        ("Ya no pasa el CAMIÓN", "camion"),
    ],
)
def test_keyword_found(text, keyword):
    assert contains_keyword(normalize(text), keyword)


@pytest.mark.parametrize(
    "text, keyword",
    [("el lucero", "luz"), ("bachelor", "bache"), ("arbolito", "arbol")],
)
def test_keyword_not_found_inside_words(text, keyword):
    assert not contains_keyword(normalize(text), keyword)


def test_numbered_list():
    assert numbered_list(["Sí", "No"]) == "1. Sí\n2. No"
