"""Priority rules of catalog/priority.yml: one test per rule, levels, errors."""

import shutil
from pathlib import Path
from typing import Any, Callable, Dict

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.catalog import Catalog, CatalogError, load_catalog
from actions.db.models import Case
from actions.db.session import session_scope
from actions.submit import SubmitRequest
from tests.support import make_tracker

SHIPPED_CATALOG = Path(__file__).resolve().parent.parent / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CATALOG)


# Each rule of the shipped file: a request it applies to, the priority and
# escalation that request gets, and a close request it does not apply to.
RULE_CASES: Dict[str, Dict[str, Any]] = {
    "violencia": {
        "request": ("violencia", None, []),
        "priority": "urgente",
        "escalate": True,
        "not_for": ("denuncia", "seguridad", []),
    },
    "agua_movilidad": {
        "request": ("reporte", "agua", ["adulto_mayor"]),
        "priority": "alta",
        "escalate": False,
        "not_for": ("reporte", "agua", ["migrante"]),
    },
    "animal_agresivo_vulnerables": {
        "request": ("reporte", "animales", ["ninez"]),
        "priority": "alta",
        "escalate": False,
        "not_for": ("reporte", "animales", []),
    },
    "inseguridad_ninez": {
        "request": ("denuncia", "seguridad", ["ninez"]),
        "priority": "alta",
        "escalate": False,
        "not_for": ("denuncia", "seguridad", ["adulto_mayor"]),
    },
    "semaforo": {
        "request": ("reporte", "semaforo", []),
        "priority": "alta",
        "escalate": False,
        "not_for": ("reporte", "alumbrado", []),
    },
    "tramite_acompanado": {
        "request": ("tramite", "predial", ["discapacidad"]),
        "priority": "alta",
        "escalate": False,
        "not_for": ("tramite", "predial", ["pobreza"]),
    },
    "asesoria_grupos": {
        "request": ("asesoria", "juridica", ["migrante"]),
        "priority": "alta",
        "escalate": False,
        "not_for": ("asesoria", "juridica", []),
    },
    "asesoria_mujer_violencia": {
        "request": ("asesoria", "psicologica", ["mujer_violencia"]),
        "priority": "urgente",
        "escalate": False,
        "not_for": ("asesoria", "psicologica", ["ninez"]),
    },
}


def test_every_rule_has_a_case(catalog):
    assert set(RULE_CASES) == {rule.id for rule in catalog.priority.rules}


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_applies(catalog, rule_id):
    case = RULE_CASES[rule_id]
    decision = catalog.priority.decide(*case["request"])
    assert rule_id in decision.rule_ids
    assert decision.priority == case["priority"]
    assert decision.escalate is case["escalate"]


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_does_not_apply_elsewhere(catalog, rule_id):
    decision = catalog.priority.decide(*RULE_CASES[rule_id]["not_for"])
    assert rule_id not in decision.rule_ids


def test_request_without_rule_is_normal(catalog):
    decision = catalog.priority.decide("reporte", "bache", ["adulto_mayor"])
    assert decision.priority == "normal"
    assert decision.rule_ids == ()
    assert decision.escalate is False


def test_highest_level_wins(catalog):
    decision = catalog.priority.decide("asesoria", "juridica", ["mujer_violencia"])
    assert set(decision.rule_ids) == {"asesoria_grupos", "asesoria_mujer_violencia"}
    assert decision.priority == "urgente"
    assert decision.group_rule_ids == decision.rule_ids


@pytest.mark.parametrize(
    "level, base, expected",
    [
        ("normal", 72, 72),
        ("alta", 24, 12),
        ("alta", 5, 3),
        ("alta", 1, 1),
        ("urgente", 120, 2),
        ("urgente", 1, 1),
    ],
)
def test_level_shortens_response_time(catalog, level, base, expected):
    assert catalog.priority.levels[level].response_hours(base) == expected


@pytest.mark.parametrize(
    "request_type, category, expected",
    [
        ("reporte", "agua", ["adulto_mayor", "discapacidad"]),
        ("reporte", "animales", ["adulto_mayor", "ninez"]),
        ("reporte", "bache", []),
        ("tramite", "actas", ["adulto_mayor", "discapacidad"]),
        (
            "asesoria",
            "juridica",
            ["adulto_mayor", "discapacidad", "ninez", "pobreza", "migrante"],
        ),
        ("consulta", None, []),
        ("violencia", None, []),
    ],
)
def test_groups_that_matter(catalog, request_type, category, expected):
    askable = [group.id for group in catalog.groups.values() if group.question_option]
    matter = catalog.priority.groups_that_matter(request_type, category, askable)
    assert matter == expected


# A submitted request gets the priority and the shorter response time


async def test_group_raises_priority_of_case(database):
    slots = {
        "category": "agua",
        "description": "No nos llega el agua desde hace tres días",
        "address": "calle Jaguar, SM 21",
        "reference": "Sin referencia",
        "confirmation": "send",
        "group_answer": "adulto_mayor",
    }
    events = [
        {"event": "active_loop", "name": "report_form"},
        {"event": "active_loop", "name": None},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="1", slots=slots, events=events)
    await SubmitRequest().run(dispatcher, tracker, {})

    with session_scope() as session:
        case = session.execute(select(Case)).scalar_one()
        assert case.priority == "alta"
        assert case.priority_rules == "agua_movilidad"
        hours = (case.due_at - case.created_at).total_seconds() / 3600
        assert round(hours) == 12
    responses = [message["response"] for message in dispatcher.messages]
    assert "utter_priority_for_group" in responses


# Validation of priority.yml


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, directory)
    return directory


def rule(data: Dict[str, Any], rule_id: str) -> Dict[str, Any]:
    return next(item for item in data["rules"] if item["id"] == rule_id)


BROKEN_PRIORITY = [
    pytest.param(
        lambda data: rule(data, "agua_movilidad")["when"].update(groups=["abuelos"]),
        "rules[1].when.groups[0]: unknown id 'abuelos'",
        id="unknown-group",
    ),
    pytest.param(
        lambda data: rule(data, "semaforo")["when"].update(categories=["pipas"]),
        "rules[4].when.categories[0]: unknown id 'pipas'",
        id="unknown-category",
    ),
    pytest.param(
        lambda data: rule(data, "tramite_acompanado")["when"].update(
            categories=["agua"]
        ),
        "rules[5].when.categories[0]: 'agua' is a reporte, which the rule's "
        "request_types (tramite) leave out",
        id="category-of-other-type",
    ),
    pytest.param(
        lambda data: rule(data, "semaforo")["when"].update(request_types=["queja"]),
        "rules[4].when.request_types[0]: unknown id 'queja'",
        id="unknown-request-type",
    ),
    pytest.param(
        lambda data: rule(data, "semaforo").update(id="violencia"),
        "rules[4].id: duplicate id 'violencia', first used in rules[0]",
        id="duplicate-id",
    ),
    pytest.param(
        lambda data: rule(data, "semaforo").update(priority="maxima"),
        "rules[4].priority: invalid value 'maxima'; expected one of urgente, alta, "
        "normal",
        id="unknown-level",
    ),
    pytest.param(
        lambda data: rule(data, "semaforo").update(when={}),
        "rules[4].when: needs at least one of request_types, categories, groups",
        id="empty-condition",
    ),
    pytest.param(
        lambda data: data["levels"]["alta"].update(response_time_percent=150),
        "levels.alta.response_time_percent: must be at most 100, got 150",
        id="percent-above-100",
    ),
    pytest.param(
        lambda data: data["levels"].pop("alta"),
        "levels.alta: missing required key",
        id="missing-level",
    ),
    pytest.param(
        lambda data: data["rules"].pop(0),
        "rules: missing a rule with when: {request_types: [violencia]}, priority: "
        "urgente and escalate: true",
        id="no-violence-rule",
    ),
    pytest.param(
        lambda data: rule(data, "violencia").pop("escalate"),
        "rules: missing a rule with when: {request_types: [violencia]}",
        id="violence-not-escalated",
    ),
]


@pytest.mark.parametrize("change, expected", BROKEN_PRIORITY)
def test_priority_error_names_file_and_key(
    catalog_copy: Path, change: Callable[[Dict[str, Any]], Any], expected: str
):
    path = catalog_copy / "priority.yml"
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(CatalogError) as error:
        load_catalog(catalog_copy)
    assert f"catalog/priority.yml: {expected}" in str(error.value)


def test_shipped_files_mark_unverified_entries():
    for name in ("routing.yml", "priority.yml", "groups.yml", "directory.yml"):
        header = (SHIPPED_CATALOG / name).read_text("utf-8")[:800]
        assert "confirm: true" in header, name
