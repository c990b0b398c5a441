"""The domain's contract: intent names, menu order and responses in use."""

import re
from pathlib import Path

import pytest
import yaml

from actions.catalog import get_catalog
from actions.menu import MAIN_MENU_INTENTS
from tests.support import PROJECT_ROOT

# Outside evaluations address these intents by name.
REQUIRED_INTENTS = {
    "greet", "goodbye", "affirm", "deny", "thank", "help", "human_handoff",
    "cancel", "bot_challenge", "out_of_scope", "report_issue",
    "request_procedure", "request_advice", "ask_information", "file_complaint",
    "check_case_status", "report_violence", "emergency",
}
CATEGORY_IDS = {
    "reporte": [
        "alumbrado", "bache", "basura", "agua", "drenaje", "semaforo", "arbol",
        "parques", "animales", "electricidad",
    ],
    "denuncia": [
        "ruido", "construccion", "maltrato_animal", "funcionario", "comercio",
        "tiradero", "seguridad",
    ],
}


def load_domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text("utf-8"))


def test_domain_has_exactly_required_intents():
    assert set(load_domain()["intents"]) == REQUIRED_INTENTS


def test_training_data_has_exactly_required_intents():
    from rasa.shared.nlu.training_data.loading import load_data

    intents = load_data(str(PROJECT_ROOT / "data" / "nlu")).intents
    assert intents == REQUIRED_INTENTS


def test_catalog_category_ids():
    catalog = get_catalog()
    for request_type, ids in CATEGORY_IDS.items():
        assert sorted(c.id for c in catalog.categories_for(request_type)) == sorted(ids)


@pytest.mark.parametrize("response", ["utter_menu", "utter_out_of_scope_menu"])
def test_menu_numbers_match_classifier(response):
    menu = load_domain()["responses"][response][0]["text"]
    options = re.findall(r"^(\d)\. (.+)$", menu, flags=re.MULTILINE)
    assert [int(number) for number, _ in options] == list(range(1, 7))
    words = ["Reportar", "trámite", "asesoría", "Consultar", "denuncia", "folio"]
    for (_, label), word in zip(options, words):
        assert word in label
    assert len(MAIN_MENU_INTENTS) == 6


def test_every_response_is_sent_somewhere():
    domain = load_domain()
    sources = "\n".join(
        path.read_text("utf-8")
        for folder in ("actions", "data", "components")
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in (".py", ".yml")
    )
    slots = set(domain["slots"])
    forms = set(domain["forms"])
    unused = []
    for response in domain["responses"]:
        if re.search(rf"\b{response}\b", sources):
            continue
        asked = response.removeprefix("utter_ask_")
        if response.startswith("utter_ask_") and (
            asked in slots
            or any(asked.startswith(f"{form}_") and asked[len(form) + 1 :] in slots for form in forms)
        ):
            continue
        unused.append(response)
    assert unused == []


def test_citizen_texts_open_questions_and_exclamations():
    for name, variants in load_domain()["responses"].items():
        for variant in variants:
            text = variant.get("text", "")
            for sentence in re.split(r"(?<=[.!?\n])", text):
                if "?" in sentence:
                    assert "¿" in sentence, (name, sentence)
                if "!" in sentence:
                    assert "¡" in sentence, (name, sentence)
