"""Routing: the table, zones, referrals to outside agencies and linked reports."""

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

from actions.cases import NewCase, cases_of_same_problem, create_case
from actions.catalog import Catalog, CatalogError, load_catalog
from actions.db.models import REQUEST_TYPES, Case, OutboxMessage, utc_now
from actions.db.session import session_scope
from actions.routing.areas import Area, read_area, street_key
from actions.routing.linking import distance_meters, find_nearby_open_case
from actions.routing.table import (
    CASE_REQUEST_TYPES,
    all_routes,
    format_table,
    resolve_route,
)
from actions.submit import SubmitRequest
from tests.support import CITIZEN, make_tracker

SHIPPED_CATALOG = Path(__file__).resolve().parent.parent / "catalog"
NEIGHBOUR = "+529987770000"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CATALOG)


# The routing table

# request type, category, body, delivery, response hours, outside agency
ROUTES = [
    ("reporte", "alumbrado", "servicios_publicos", "internal", 72, False),
    ("reporte", "bache", "obras_publicas", "internal", 120, False),
    ("reporte", "basura", "siresol", "internal", 48, False),
    ("reporte", "agua", "aguakan", "email", 24, True),
    ("reporte", "drenaje", "obras_publicas", "internal", 72, False),
    ("reporte", "semaforo", "seguridad_publica", "internal", 24, False),
    ("reporte", "arbol", "ecologia", "internal", 72, False),
    ("reporte", "parques", "servicios_publicos", "internal", 120, False),
    ("reporte", "animales", "atencion_animal", "internal", 48, False),
    ("reporte", "electricidad", "cfe", "internal", 24, True),
    ("denuncia", "ruido", "ecologia", "internal", 48, False),
    ("denuncia", "construccion", "desarrollo_urbano", "internal", 120, False),
    ("denuncia", "maltrato_animal", "atencion_animal", "internal", 48, False),
    ("denuncia", "funcionario", "contraloria", "internal", 120, False),
    ("denuncia", "comercio", "fiscalizacion", "internal", 72, False),
    ("denuncia", "tiradero", "ecologia", "internal", 72, False),
    ("denuncia", "seguridad", "seguridad_publica", "internal", 24, False),
    ("tramite", "licencia_funcionamiento", "tesoreria", "internal", 48, False),
    ("tramite", "predial", "tesoreria", "internal", 48, False),
    ("tramite", "permiso_construccion", "desarrollo_urbano", "internal", 72, False),
    ("tramite", "constancia_residencia", "secretaria_general", "internal", 48, False),
    ("tramite", "permiso_evento", "fiscalizacion", "internal", 72, False),
    ("tramite", "multas_transito", "tesoreria", "internal", 48, False),
    ("tramite", "uso_suelo", "desarrollo_urbano", "internal", 72, False),
    ("tramite", "licencia_alcohol", "fiscalizacion", "internal", 72, False),
    ("tramite", "actas", "registro_civil", "internal", 48, True),
    ("tramite", "cita", "atencion_ciudadana", "internal", 24, False),
    ("asesoria", "juridica", "dif", "internal", 48, False),
    ("asesoria", "psicologica", "dif", "internal", 24, False),
    ("asesoria", "asistencia_social", "desarrollo_social", "internal", 72, False),
    ("asesoria", "adultos_mayores", "dif", "internal", 72, False),
    ("asesoria", "discapacidad", "dif", "internal", 72, False),
    ("asesoria", "migrantes", "atencion_ciudadana", "internal", 72, False),
    ("consulta", None, "atencion_ciudadana", "internal", 48, False),
    ("violencia", None, "instituto_mujer", "internal", 2, False),
]


@pytest.mark.parametrize(
    "request_type, category, body, delivery, hours, referral",
    ROUTES,
    ids=[f"{row[0]}-{row[1] or 'any'}" for row in ROUTES],
)
def test_route(catalog, request_type, category, body, delivery, hours, referral):
    route = resolve_route(catalog, request_type, category)
    assert route.department.id == body
    assert route.delivery.method == delivery
    assert route.sla_hours == hours
    assert route.is_referral is referral
    if referral:
        assert route.delivery.have_at_hand
    if delivery == "email":
        assert "@" in route.delivery_target


def test_table_covers_every_category_and_type(catalog):
    routed = {(route.request_type, route.category) for route in all_routes(catalog)}
    assert routed == {(row[0], row[1]) for row in ROUTES}


def test_request_types_match_case_store():
    assert CASE_REQUEST_TYPES == REQUEST_TYPES


def test_outside_agencies_say_what_to_bring(catalog):
    for department in catalog.departments.values():
        if department.is_external:
            have_at_hand = catalog.routing.delivery_for(department.id).have_at_hand
            assert have_at_hand and len(have_at_hand) > 20, department.id


@pytest.mark.parametrize(
    "body, words",
    [
        ("cfe", "recibo de luz"),
        ("aguakan", "recibo de agua"),
        ("registro_civil", "CURP"),
    ],
)
def test_have_at_hand_names_the_document(catalog, body, words):
    assert words in catalog.routing.delivery_for(body).have_at_hand


def test_zone_gives_category_to_another_body(catalog):
    route = resolve_route(catalog, "reporte", "agua", "calle 5, Alfredo V. Bonfil")
    assert route.department.id == "capa"
    assert route.area_rule == 0
    assert "CAPA" in route.citizen_note
    assert route.is_referral


def test_zone_rule_leaves_other_zones_and_categories(catalog):
    downtown = resolve_route(catalog, "reporte", "agua", "Av. Kabah, SM 64")
    assert downtown.department.id == "aguakan"
    pothole = resolve_route(catalog, "reporte", "bache", "calle 5, Alfredo V. Bonfil")
    assert pothole.department.id == "obras_publicas"


def test_table_prints_one_line_per_route(catalog):
    lines = format_table(all_routes(catalog)).splitlines()
    assert lines[0].split() == [
        "request", "type", "category", "body", "delivery", "hours", "referral"
    ]
    assert len(lines) == len(ROUTES) + 1
    assert lines[4].split() == ["reporte", "agua", "aguakan", "email", "24", "yes"]


# Reading zones and streets


@pytest.mark.parametrize(
    "address, area",
    [
        ("Av. Kabah, SM 64", Area(sm=64)),
        ("calle 20 de noviembre region 94", Area(region=94)),
        ("R-259 mza 3 lote 12", Area(region=259)),
        ("smz 21, mza 5, lte 3", Area(sm=21)),
        ("S.M. 5 Centro", Area(sm=5, colonia="centro")),
        ("Retorno 5, Villas Otoch Paraíso", Area(colonia="villas otoch paraiso")),
        ("por la Plaza Las Américas", Area(colonia="las americas")),
        ("frente al Oxxo", Area()),
    ],
)
def test_read_area(catalog, address, area):
    assert read_area(address, catalog.places) == area


def test_area_key_prefers_sm(catalog):
    assert read_area("SM 21 región 94 Centro", catalog.places).key == "sm 21"
    assert read_area("Galaxia", catalog.places).key == "galaxia"
    assert read_area(None, catalog.places).key is None


@pytest.mark.parametrize(
    "address, key",
    [
        ("Av. Kabah, SM 64", "av kabah"),
        ("sobre la kabah frente al oxxo", "av kabah"),
        ("avenida Cobá esquina Tulum", "av coba"),
        ("calle Jaguar, SM 21", "calle jaguar"),
        ("Calle jaguar #12 sm 21", "calle jaguar"),
        ("Retorno 5, Villas Otoch", "retorno 5"),
        ("calle 20 de noviembre region 94", "av 20 de noviembre"),
        ("privada Los Olivos mza 3", "privada los olivos"),
        ("zona hotelera km 9.5", None),
        ("mza 5 lote 3", None),
    ],
)
def test_street_key(catalog, address, key):
    assert street_key(address, catalog.places) == key


def test_distance_meters():
    # Two points on Av. Tulum about 1.1 km apart.
    assert 1000 < distance_meters(21.1619, -86.8515, 21.1720, -86.8490) < 1200
    assert distance_meters(21.16, -86.85, 21.16, -86.85) == 0


# Validation of routing.yml


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, directory)
    return directory


def edit_routing(directory: Path, change: Callable[[Dict[str, Any]], Any]) -> None:
    path = directory / "routing.yml"
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


BROKEN_ROUTING = [
    pytest.param(
        lambda data: data["bodies"]["cfe"].pop("have_at_hand"),
        "bodies.cfe.have_at_hand: missing required key: 'cfe' is an outside agency",
        id="agency-without-have-at-hand",
    ),
    pytest.param(
        lambda data: data["bodies"].pop("comar"),
        "bodies.comar.have_at_hand: missing required key",
        id="agency-not-listed",
    ),
    pytest.param(
        lambda data: data["bodies"]["cfe"].update(delivery="fax"),
        "bodies.cfe.delivery: invalid value 'fax'; expected one of internal, email, "
        "webhook",
        id="delivery-method",
    ),
    pytest.param(
        lambda data: data["bodies"]["aguakan"].pop("email"),
        "bodies.aguakan.email: missing required key: delivery is email",
        id="email-without-address",
    ),
    pytest.param(
        lambda data: data["bodies"]["cfe"].update(delivery="webhook"),
        "bodies.cfe.webhook_url: missing required key: delivery is webhook",
        id="webhook-without-url",
    ),
    pytest.param(
        lambda data: data["bodies"]["cfe"].update(
            delivery="webhook", webhook_url="cfe.test/hook"
        ),
        "bodies.cfe.webhook_url: invalid URL 'cfe.test/hook'",
        id="webhook-url",
    ),
    pytest.param(
        lambda data: data["bodies"].update(luz={"delivery": "internal"}),
        "bodies.luz: unknown department",
        id="unknown-body",
    ),
    pytest.param(
        lambda data: data["areas"][0].update(to="agua_potable"),
        "areas[0].to: unknown department 'agua_potable'",
        id="area-unknown-body",
    ),
    pytest.param(
        lambda data: data["areas"][0].update(colonias=["Bonfil Viejo"]),
        "areas[0].colonias[0]: unknown colonia 'Bonfil Viejo'",
        id="area-unknown-colonia",
    ),
    pytest.param(
        lambda data: data["areas"][0].update(sm=[21, "22"]),
        "areas[0].sm[1]: expected a whole number above 0, got text ('22')",
        id="area-sm-text",
    ),
    pytest.param(
        lambda data: data["areas"][0].update(categories=["pipas"]),
        "areas[0].categories[0]: unknown id 'pipas'",
        id="area-unknown-category",
    ),
    pytest.param(
        lambda data: [
            data["areas"][0].pop(key) for key in ("request_types", "categories")
        ],
        "areas[0]: needs request_types or categories",
        id="area-without-filter",
    ),
    pytest.param(
        lambda data: data["areas"][0].pop("colonias"),
        "areas[0]: needs at least one of sm, regions, colonias",
        id="area-without-zone",
    ),
    pytest.param(
        lambda data: data["linking"].update(request_types=["tramite"]),
        "linking.request_types[0]: unknown id 'tramite'",
        id="linking-type",
    ),
    pytest.param(
        lambda data: data["linking"].update(days=0),
        "linking.days: must be greater than 0, got 0",
        id="linking-days",
    ),
]


@pytest.mark.parametrize("change, expected", BROKEN_ROUTING)
def test_routing_error_names_file_and_key(catalog_copy, change, expected):
    edit_routing(catalog_copy, change)
    with pytest.raises(CatalogError) as error:
        load_catalog(catalog_copy)
    assert f"catalog/routing.yml: {expected}" in str(error.value)


def test_missing_routing_file(catalog_copy):
    (catalog_copy / "routing.yml").unlink()
    with pytest.raises(CatalogError, match="catalog/routing.yml: file not found"):
        load_catalog(catalog_copy)


# Linking a report to an open one nearby


def report(
    category: str = "bache",
    street: Optional[str] = "av kabah",
    area: Optional[str] = "sm 64",
    latitude: Optional[float] = None,
    longitude: Optional[float] = None,
    sender: str = CITIZEN,
    linked_case_id: Optional[int] = None,
) -> int:
    with session_scope() as session:
        return create_case(
            session,
            NewCase(
                request_type="reporte",
                category=category,
                department="obras_publicas",
                sender=sender,
                sla_hours=120,
                street=street,
                area=area,
                latitude=latitude,
                longitude=longitude,
                linked_case_id=linked_case_id,
            ),
        ).id


def nearby(**place: Any) -> Optional[int]:
    place.setdefault("category", "bache")
    with session_scope() as session:
        match = find_nearby_open_case(
            session,
            since=utc_now() - timedelta(days=7),
            max_distance_meters=150,
            **place,
        )
        return match.id if match else None


def test_same_street_and_zone_links(database):
    first = report()
    assert nearby(street="av kabah", area="sm 64") == first


def test_same_street_other_zone_does_not_link(database):
    report()
    assert nearby(street="av kabah", area="sm 90") is None


def test_same_street_without_zone_links(database):
    first = report(area=None)
    assert nearby(street="av kabah", area="sm 64") == first


def test_other_category_does_not_link(database):
    report(category="alumbrado")
    assert nearby(street="av kabah", area="sm 64") is None


def test_close_location_links(database):
    first = report(street=None, area=None, latitude=21.16190, longitude=-86.85150)
    # About 90 m north.
    assert nearby(street=None, latitude=21.16271, longitude=-86.85150) == first


def test_far_location_does_not_link(database):
    report(street=None, area=None, latitude=21.16190, longitude=-86.85150)
    # About 300 m north.
    assert nearby(street=None, latitude=21.16460, longitude=-86.85150) is None


def test_old_report_does_not_link(database):
    first = report()
    with session_scope() as session:
        session.execute(
            update(Case)
            .where(Case.id == first)
            .values(created_at=utc_now() - timedelta(days=8))
        )
    assert nearby(street="av kabah", area="sm 64") is None


def test_closed_report_does_not_link(database):
    first = report()
    with session_scope() as session:
        session.execute(update(Case).where(Case.id == first).values(status="resuelto"))
    assert nearby(street="av kabah", area="sm 64") is None


def test_links_point_at_earliest_case(database):
    first = report()
    second = report(linked_case_id=first)
    with session_scope() as session:
        session.execute(update(Case).where(Case.id == first).values(street="otra"))
    assert nearby(street="av kabah", area="sm 64") == first
    with session_scope() as session:
        group = cases_of_same_problem(session, session.get(Case, second))
        assert [case.id for case in group] == [first, second]


def test_no_street_nor_location_never_links(database):
    report(street=None)
    assert nearby(street=None) is None


# Submitting reports: referral and linking


def submitted(slots: Dict[str, Any], form: str = "report_form", sender: str = CITIZEN):
    events = [
        {"event": "active_loop", "name": form},
        {"event": "active_loop", "name": None},
    ]
    return make_tracker(text="1", slots=slots, events=events, sender=sender)


async def submit(slots: Dict[str, Any], sender: str = CITIZEN):
    dispatcher = CollectingDispatcher()
    await SubmitRequest().run(dispatcher, submitted(slots, sender=sender), {})
    return dispatcher.messages


def stored(folio_order: int = -1) -> Case:
    with session_scope() as session:
        cases = list(session.execute(select(Case).order_by(Case.id)).scalars())
        case = cases[folio_order]
        session.expunge(case)
        return case


LEAK = {
    "category": "agua",
    "description": "Fuga de agua potable en la banqueta desde ayer",
    "address": "Av. Kabah, SM 64",
    "reference": "frente al Oxxo",
    "confirmation": "send",
}


async def test_outside_agency_case_is_referred(database):
    messages = await submit(LEAK)

    case = stored()
    assert case.status == "canalizado"
    assert case.department == "aguakan"
    assert case.delivery == "email"
    [first] = [message for message in messages if message["response"]]
    assert first["response"] == "utter_case_referred"
    assert first["folio"] == case.folio
    assert first["agency"] == "Aguakan"
    assert first["phone"] == "998 881 2400"
    assert "recibo de agua" in first["have_at_hand"]
    with session_scope() as session:
        [row] = session.execute(select(OutboxMessage)).scalars()
        assert row.receiver == "email:aguakan"
        assert row.target == "reportes@aguakan.com.mx"


async def test_power_cut_tells_citizen_to_call_cfe(database):
    slots = {
        **LEAK,
        "category": "electricidad",
        "description": "Se fue la luz en toda la cuadra",
    }
    messages = await submit(slots)

    case = stored()
    assert case.status == "canalizado"
    assert case.delivery == "internal"
    assert messages[0]["response"] == "utter_case_referred_call"
    assert messages[0]["phone"] == "071"
    assert "número de servicio" in messages[0]["have_at_hand"]
    with session_scope() as session:
        assert session.execute(select(OutboxMessage)).first() is None


async def test_second_report_nearby_is_linked(database):
    pothole = {
        "category": "bache",
        "description": "Bache enorme en el carril de baja",
        "address": "Av. Kabah, SM 64",
        "reference": "frente al Oxxo",
        "confirmation": "send",
    }
    first_messages = await submit(pothole)
    second_messages = await submit(
        {**pothole, "address": "sobre la kabah sm 64, cerca del oxxo"}, sender=NEIGHBOUR
    )

    first, second = stored(0), stored(1)
    assert first.linked_case_id is None
    assert second.linked_case_id == first.id
    assert second.folio != first.folio
    assert "utter_already_reported" not in [m["response"] for m in first_messages]
    responses = [message["response"] for message in second_messages]
    assert responses[:2] == ["utter_case_created", "utter_already_reported"]
    assert second_messages[0]["folio"] == second.folio


async def test_report_on_other_street_is_not_linked(database):
    pothole = {
        "category": "bache",
        "description": "Bache enorme en el carril de baja",
        "address": "Av. Kabah, SM 64",
        "reference": "frente al Oxxo",
        "confirmation": "send",
    }
    await submit(pothole)
    await submit({**pothole, "address": "calle Jaguar, SM 21"}, sender=NEIGHBOUR)
    assert stored(1).linked_case_id is None


async def test_area_and_street_stored_on_case(database):
    await submit(LEAK)
    case = stored()
    assert case.area == "sm 64"
    assert case.street == "av kabah"
