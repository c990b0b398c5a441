"""Vulnerable groups: recognition, the question in forms, the directory."""

import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.catalog import Catalog, CatalogError, load_catalog
from actions.db.models import Case
from actions.db.session import session_scope
from actions.forms.reports import ValidateComplaintForm, ValidateReportForm
from actions.forms.services import ValidateAdviceForm
from actions.routing.groups import (
    NO_GROUP,
    conversation_texts,
    groups_in_conversation,
    groups_in_text,
    read_group_answer,
    services_for,
)
from actions.submit import SubmitRequest
from tests.support import PROJECT_ROOT, make_tracker, run_action

SHIPPED_CATALOG = PROJECT_ROOT / "catalog"
NLU_GROUP_EXAMPLES = PROJECT_ROOT / "tests" / "nlu" / "test_groups.yml"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CATALOG)


# Recognizing groups in what people write


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Soy adulto mayor y vivo solo", ["adulto_mayor"]),
        ("mi hijo tiene discapacidad", ["discapacidad"]),
        ("somos de Honduras y no tenemos papeles", ["migrante"]),
        ("mi esposo me pega cuando toma", ["mujer_violencia"]),
        ("hay unos niños solos en la casa de al lado", ["ninez"]),
        ("no tenemos para comer", ["pobreza"]),
        ("mi abuelita usa silla de ruedas", ["adulto_mayor", "discapacidad"]),
        ("el bache de la Av. Niños Héroes", []),
        ("donde estan los refugios anticrisis", []),
        ("quiero reportar un bache", []),
        ("", []),
    ],
)
def test_groups_in_text(catalog, text, expected):
    assert groups_in_text(text, catalog.groups) == expected


def nlu_file_examples() -> List[Any]:
    examples = load_data(str(NLU_GROUP_EXAMPLES)).intent_examples
    return [
        pytest.param(
            example.get("text"),
            example.get("metadata", {}).get("example", {}).get("groups"),
            id=example.get("text")[:40],
        )
        for example in examples
    ]


@pytest.mark.parametrize("text, expected", nlu_file_examples())
def test_nlu_file_groups_recognized(catalog, text, expected):
    assert expected is not None, "every example needs metadata.groups"
    assert groups_in_text(text, catalog.groups) == expected


def test_conversation_starts_over_at_new_session(catalog):
    events = [
        {"event": "user", "text": "soy adulto mayor"},
        {"event": "session_started"},
        {"event": "user", "text": "hay un bache enorme"},
        {"event": "bot", "text": "¿Dónde es?"},
        {"event": "user", "text": "somos migrantes, calle 5 sm 21"},
    ]
    assert conversation_texts(events) == [
        "hay un bache enorme",
        "somos migrantes, calle 5 sm 21",
    ]
    assert groups_in_conversation(events, catalog.groups) == ["migrante"]


# The service directory


def test_every_group_has_services(catalog):
    for group_id in catalog.groups:
        assert services_for(catalog.directory, [group_id], limit=3), group_id


def test_services_follow_group_order_and_limit(catalog):
    services = services_for(catalog.directory, ["migrante", "adulto_mayor"], limit=3)
    assert [entry.id for entry in services] == ["defensoria_publica", "comar", "inm"]
    assert len(services_for(catalog.directory, list(catalog.groups), limit=3)) == 3


def test_service_from_department_takes_its_contact(catalog):
    entry = catalog.directory["instituto_mujer"]
    department = catalog.departments["instituto_mujer"]
    assert entry.name == department.name
    assert entry.phone == department.phone
    assert entry.hours == department.hours


def test_service_description_fits_phone(catalog):
    text = catalog.directory["dif_adultos_mayores"].describe()
    lines = text.splitlines()
    assert lines[0] == (
        "• *DIF Benito Juárez, personas adultas mayores* (asistencia social)"
    )
    assert lines[2].startswith("  📞 998 884 7100.")
    assert len(text) < 300


# The optional question in forms


def report_at(slot: str, text: str, slots: Dict[str, Any], **kwargs: Any):
    return make_tracker(
        text=text,
        intent=kwargs.pop("intent", "nlu_fallback"),
        slots={"requested_slot": slot, **slots},
        active_loop=kwargs.pop("form", "report_form"),
        **kwargs,
    )


WATER = {
    "category": "agua",
    "description": "No nos llega el agua desde el lunes",
    "address": "calle Jaguar, SM 21",
}


async def test_question_comes_before_confirmation():
    tracker = report_at("reference", "no", WATER)
    slots, _ = await run_action(ValidateReportForm(), tracker)
    assert slots["requested_slot"] == "group_answer"
    assert slots["group_options"] == (
        "1. Persona adulta mayor (60 años o más)\n"
        "2. Persona con discapacidad\n"
        "3. Ninguna o prefiero no decir"
    )


async def test_no_question_where_groups_change_nothing():
    slots = {**WATER, "category": "bache"}
    tracker = report_at("reference", "no", slots)
    result, _ = await run_action(ValidateReportForm(), tracker)
    assert result["requested_slot"] == "confirmation"
    assert "group_options" not in result


async def test_no_question_once_a_message_named_a_group():
    events = [{"event": "user", "text": "soy adulto mayor y no me llega el agua"}]
    tracker = report_at("reference", "no", WATER, events=events)
    slots, _ = await run_action(ValidateReportForm(), tracker)
    assert slots["requested_slot"] == "confirmation"


async def test_no_question_once_answered_in_the_conversation():
    tracker = report_at("reference", "no", {**WATER, "group_answer": NO_GROUP})
    slots, _ = await run_action(ValidateReportForm(), tracker)
    assert slots["requested_slot"] == "confirmation"


@pytest.mark.parametrize(
    "answer, stored",
    [
        ("1", "adulto_mayor"),
        ("2️⃣", "discapacidad"),
        ("1 y 2", "adulto_mayor,discapacidad"),
        ("3", NO_GROUP),
        ("no", NO_GROUP),
        ("prefiero no decir", NO_GROUP),
        ("mi mamá usa silla de ruedas", "discapacidad"),
        ("somos migrantes", "migrante"),
    ],
)
async def test_group_answer(answer, stored):
    tracker = report_at(
        "group_answer", answer, {**WATER, "reference": "Sin referencia"},
        new_slots={"group_answer": answer},
    )
    slots, _ = await run_action(ValidateReportForm(), tracker)
    assert slots["group_answer"] == stored
    assert slots["requested_slot"] == "confirmation"


async def test_unreadable_answer_asked_once_more_then_skipped():
    filled = {**WATER, "reference": "Sin referencia"}
    tracker = report_at("group_answer", "x", filled, new_slots={"group_answer": "x"})
    slots, replies = await run_action(ValidateReportForm(), tracker)
    assert slots["group_answer"] is None
    assert replies == ["utter_invalid_group_answer"]

    tracker = report_at(
        "group_answer",
        "x",
        {**filled, "invalid_attempts": 1},
        new_slots={"group_answer": "x"},
    )
    slots, replies = await run_action(ValidateReportForm(), tracker)
    assert slots["group_answer"] == NO_GROUP
    assert slots["requested_slot"] == "confirmation"


async def test_group_named_is_not_interruption():
    tracker = report_at(
        "group_answer",
        "soy adulto mayor",
        {**WATER, "reference": "Sin referencia"},
        intent="out_of_scope",
        new_slots={"group_answer": "soy adulto mayor"},
    )
    slots, _ = await run_action(ValidateReportForm(), tracker)
    assert slots["group_answer"] == "adulto_mayor"


async def test_advice_asks_every_askable_group():
    tracker = report_at(
        "description",
        "necesito orientación para mi divorcio",
        {"advice_topic": "juridica"},
        form="advice_form",
    )
    slots, _ = await run_action(ValidateAdviceForm(), tracker)
    assert slots["requested_slot"] == "group_answer"
    assert slots["group_options"].splitlines()[-1] == "6. Ninguna o prefiero no decir"
    assert "violencia" not in slots["group_options"]


async def test_complaint_asks_only_about_children():
    slots = {
        "category": "seguridad",
        "description": "venden droga en la esquina",
        "address": "calle Jaguar, SM 21",
        "reference": "Sin referencia",
    }
    result, _ = await run_action(
        ValidateComplaintForm(),
        report_at("anonymous", "1", slots, form="complaint_form"),
    )
    assert result["requested_slot"] == "group_answer"
    assert result["group_options"] == (
        "1. Niña, niño o adolescente\n2. Ninguna o prefiero no decir"
    )


# Groups on the case and services offered


def finished_report(slots: Dict[str, Any], events: List[Dict[str, Any]]):
    history = events + [
        {"event": "active_loop", "name": "report_form"},
        {"event": "active_loop", "name": None},
    ]
    return make_tracker(text="1", slots=slots, events=history)


async def test_groups_stored_with_their_source(database):
    slots = {
        **WATER,
        "reference": "Sin referencia",
        "confirmation": "send",
        "group_answer": "discapacidad",
    }
    events = [{"event": "user", "text": "mi abuelita y yo no tenemos agua"}]
    dispatcher = CollectingDispatcher()
    await SubmitRequest().run(dispatcher, finished_report(slots, events), {})

    with session_scope() as session:
        case = session.execute(select(Case)).scalar_one()
        sources = {entry.group: entry.source for entry in case.groups}
    assert sources == {"adulto_mayor": "mencionado", "discapacidad": "respondido"}

    [services] = [
        message
        for message in dispatcher.messages
        if message["response"] == "utter_services_for_groups"
    ]
    assert services["services"].count("• *") == 3
    assert "DIF Benito Juárez, personas adultas mayores" in services["services"]


async def test_no_services_without_groups(database):
    slots = {**WATER, "reference": "Sin referencia", "confirmation": "send"}
    dispatcher = CollectingDispatcher()
    await SubmitRequest().run(dispatcher, finished_report(slots, []), {})
    responses = [message["response"] for message in dispatcher.messages]
    assert "utter_services_for_groups" not in responses
    assert "utter_priority_for_group" not in responses


# Validation of groups.yml and directory.yml


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, directory)
    return directory


BROKEN = [
    pytest.param(
        "groups.yml",
        lambda data: data["groups"]["adulto_mayor"]["keywords"].append("Tercera Edad"),
        "groups.adulto_mayor.keywords[21]: write 'Tercera Edad' lower-case",
        id="keyword-case",
    ),
    pytest.param(
        "groups.yml",
        lambda data: data["groups"].update(ninguno={"label": "x", "keywords": ["x"]}),
        "groups.ninguno: the id 'ninguno' is reserved",
        id="reserved-id",
    ),
    pytest.param(
        "groups.yml",
        lambda data: data["groups"]["migrante"].pop("label"),
        "groups.migrante.label: missing required key",
        id="missing-label",
    ),
    pytest.param(
        "directory.yml",
        lambda data: data["services"]["comar"].update(groups=["refugiados"]),
        "services.comar.groups[0]: unknown group 'refugiados'",
        id="unknown-group",
    ),
    pytest.param(
        "directory.yml",
        lambda data: data["services"]["comar"].update(service="migracion"),
        "services.comar.service: invalid value 'migracion'",
        id="unknown-service-kind",
    ),
    pytest.param(
        "directory.yml",
        lambda data: data["services"]["comar"].update(phone="55 5209 1100"),
        "services.comar.phone: unknown key",
        id="phone-with-department",
    ),
    pytest.param(
        "directory.yml",
        lambda data: data["services"]["linea_mujeres"].pop("hours"),
        "services.linea_mujeres.hours: missing required key",
        id="missing-hours",
    ),
    pytest.param(
        "directory.yml",
        lambda data: data["services"].pop("procuraduria_ninez"),
        "services: no service for the groups ninez",
        id="group-without-service",
    ),
]


@pytest.mark.parametrize("file_name, change, expected", BROKEN)
def test_error_names_file_and_key(
    catalog_copy: Path, file_name: str, change: Callable[[Any], Any], expected: str
):
    path = catalog_copy / file_name
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(CatalogError) as error:
        load_catalog(catalog_copy)
    assert f"catalog/{file_name}: {expected}" in str(error.value)


@pytest.mark.parametrize(
    "reply, expected",
    [("3", []), ("1, 2", ["adulto_mayor", "discapacidad"]), ("4", None), ("x", None)],
)
def test_read_group_answer(catalog, reply, expected):
    choices = ["adulto_mayor", "discapacidad"]
    assert read_group_answer(reply, choices, catalog.groups) == expected
