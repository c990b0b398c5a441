"""Tests for the municipal catalog loader and its keyword matching."""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict

import pytest
import yaml

from actions.catalog import (
    CATEGORY_IDS,
    Catalog,
    CatalogError,
    Category,
    Faq,
    Places,
    get_catalog,
    load_catalog,
)
from actions.text import normalize

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CATALOG = REPO_ROOT / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CATALOG)


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """Copy of the shipped catalog that a test may break."""
    directory = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, directory)
    return directory


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: Any) -> None:
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def edit_yaml(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    data = read_yaml(directory / name)
    change(data)
    write_yaml(directory / name, data)


def load_error(directory: Path) -> str:
    with pytest.raises(CatalogError) as error:
        load_catalog(directory)
    return str(error.value)


# The shipped catalog


def test_shipped_catalog_loads(catalog: Catalog) -> None:
    assert len(catalog.departments) >= 22
    assert len(catalog.categories) == 17
    assert len(catalog.procedures) >= 9
    assert len(catalog.advice_topics) == 6
    assert len(catalog.faqs) >= 15


def test_category_ids_are_exactly_the_17(catalog: Catalog) -> None:
    assert set(catalog.categories) == set(CATEGORY_IDS)


def test_every_reference_names_a_department(catalog: Catalog) -> None:
    referenced = [category.department for category in catalog.categories.values()]
    referenced += [procedure.department for procedure in catalog.procedures.values()]
    referenced += [topic.department for topic in catalog.advice_topics.values()]
    for department_id in referenced:
        assert department_id in catalog.departments, department_id


def test_required_ids_are_shipped(catalog: Catalog) -> None:
    for procedure_id in (
        "licencia_funcionamiento",
        "predial",
        "permiso_construccion",
        "constancia_residencia",
        "permiso_evento",
        "multas_transito",
        "uso_suelo",
        "licencia_alcohol",
        "cita",
    ):
        assert procedure_id in catalog.procedures, procedure_id
    assert set(catalog.advice_topics) == {
        "juridica",
        "psicologica",
        "asistencia_social",
        "adultos_mayores",
        "discapacidad",
        "migrantes",
    }
    for department_id in ("siresol", "cfe", "aguakan", "fiscalia", "inm", "comar"):
        assert department_id in catalog.departments, department_id


def test_category_keywords_count_and_form(catalog: Catalog) -> None:
    for category in catalog.categories.values():
        assert 6 <= len(category.keywords) <= 20, category.id
        for keyword in category.keywords:
            assert keyword == normalize(keyword), keyword


def test_external_departments(catalog: Catalog) -> None:
    assert catalog.departments["cfe"].is_external
    assert catalog.departments["aguakan"].is_external
    assert not catalog.departments["servicios_publicos"].is_external


def test_electricidad_sends_citizen_to_cfe(catalog: Catalog) -> None:
    electricidad = catalog.categories["electricidad"]
    assert electricidad.department == "cfe"
    assert electricidad.citizen_note is not None
    assert "071" in electricidad.citizen_note
    assert "recibo" in electricidad.citizen_note


def test_categories_keep_file_order(catalog: Catalog) -> None:
    file_order = list(read_yaml(SHIPPED_CATALOG / "categories.yml")["categories"])
    assert list(catalog.categories) == file_order


def test_categories_for_splits_menus(catalog: Catalog) -> None:
    reportes = [category.id for category in catalog.categories_for("reporte")]
    denuncias = [category.id for category in catalog.categories_for("denuncia")]
    assert set(reportes) == set(CATEGORY_IDS[:10])
    assert set(denuncias) == set(CATEGORY_IDS[10:])
    assert reportes == [
        category_id
        for category_id in catalog.categories
        if category_id in CATEGORY_IDS[:10]
    ]


def test_categories_for_rejects_unknown_type(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="queja"):
        catalog.categories_for("queja")


def test_service_numbers(catalog: Catalog) -> None:
    assert catalog.service["emergency_phone"] == "911"
    assert catalog.service["anonymous_report_phone"] == "089"
    assert catalog.service["women_line"] == {"phone": "079", "option": 1}
    assert catalog.service["dif_phone"]
    assert catalog.service["office_hours"]
    assert catalog.service["handoff"]["reply_text"]
    assert catalog.service["information_department"] == "atencion_ciudadana"
    assert catalog.service["violence_department"] == "instituto_mujer"
    assert catalog.service["violence_sla_hours"] > 0


def test_unverified_entries_stay_marked(catalog: Catalog) -> None:
    assert catalog.departments["siresol"].confirm
    assert "dif_phone" in catalog.service["confirm"]
    for name in (
        "departments.yml",
        "categories.yml",
        "procedures.yml",
        "advice.yml",
        "faq.yml",
        "places.yml",
        "service.yml",
    ):
        header = (SHIPPED_CATALOG / name).read_text(encoding="utf-8")[:800]
        assert "confirm" in header, name


def test_places_contains(catalog: Catalog) -> None:
    places = catalog.places
    assert places.contains(21.1619, -86.8515)  # Palacio Municipal, downtown
    assert places.contains(21.0830, -86.7760)  # Hotel Zone, km 16
    assert not places.contains(20.9674, -89.5926)  # Mérida
    assert not places.contains(21.2580, -86.7480)  # Isla Mujeres, north of the box
    assert places.contains(places.lat_min, places.lon_max)


def test_places_word_lists(catalog: Catalog) -> None:
    places = catalog.places
    assert "mza" in places.street_words
    assert "sm" in places.area_words
    assert "Tulum" in places.avenues
    assert "Tulum" in places.outside_places
    assert "Villas Otoch" in places.neighborhoods


# Matching on citizen text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no pasa el camion de la basura", "basura"),
        ("Hay VASURA por todos lados", "basura"),
        ("un vache enorme en la av kabah", "bache"),
        ("la lámpara de mi calle no prende", "alumbrado"),
        ("esta muy oscuro, no hay luz en la calle", "alumbrado"),
        ("se fue la luz en toda la colonia", "electricidad"),
        ("no hay agua desde ayer en la region 94", "agua"),
        ("la coladera tapada y salen aguas negras", "drenaje"),
        ("el semaforo de coba y tulum esta apagado", "semaforo"),
        ("se cayo un arbol en la banqueta", "arbol"),
        ("el parque esta lleno de maleza", "parques"),
        ("hay un perro muerto en la avenida", "animales"),
        ("los vecinos con la musica a todo volumen, no dejan dormir", "ruido"),
        ("estan construyendo sin permiso un segundo piso", "construccion"),
        ("le pegan al perro todos los dias", "maltrato_animal"),
        ("un inspector me pidio mordida", "funcionario"),
        ("venden alcohol a menores en el deposito", "comercio"),
        ("estan tirando basura en el terreno baldio", "tiradero"),
        ("asaltaron a mi vecina en la parada", "seguridad"),
    ],
)
def test_match_category(catalog: Catalog, text: str, expected: str) -> None:
    assert catalog.match_category(text) == expected


def test_match_category_within_request_type(catalog: Catalog) -> None:
    text = "estan tirando basura en el terreno baldio"
    assert catalog.match_category(text, "denuncia") == "tiradero"
    assert catalog.match_category(text, "reporte") == "basura"


def test_match_category_without_keyword(catalog: Catalog) -> None:
    assert catalog.match_category("hola, buenas tardes") is None
    assert catalog.match_category("") is None


def test_match_category_tie_in_shipped_data(catalog: Catalog) -> None:
    # "basura" and "parque" score one point each.
    assert catalog.match_category("hay mucha basura en el parque") is None


def test_best_match_tie_and_margin() -> None:
    def category(category_id: str, keywords: tuple) -> Category:
        return Category(
            id=category_id,
            request_type="reporte",
            label=category_id,
            department="obras_publicas",
            sla_hours=24,
            keywords=keywords,
            citizen_note=None,
        )

    catalog = Catalog(
        departments={},
        categories={
            "uno": category("uno", ("hoyo", "calle")),
            "dos": category("dos", ("hoyo", "banqueta")),
        },
        procedures={},
        advice_topics={},
        faqs=(),
        places=Places(0.0, 1.0, 0.0, 1.0, (), (), (), (), ()),
        service={},
    )
    assert catalog.match_category("un hoyo") is None
    assert catalog.match_category("un hoyo en la calle") == "uno"
    assert catalog.match_category("hoyo en la banqueta") == "dos"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("quiero sacar mi licencia de funcionamiento", "licencia_funcionamiento"),
        ("como abro un negocio", "licencia_funcionamiento"),
        ("donde pago el predial", "predial"),
        ("necesito permiso para construir una barda", "permiso_construccion"),
        ("ocupo una constancia de residencia", "constancia_residencia"),
        ("quiero cerrar la calle para una fiesta", "permiso_evento"),
        ("me multaron y mi carro esta en el corralon", "multas_transito"),
        ("que uso de suelo tiene mi terreno", "uso_suelo"),
        ("licencia para vender alcohol", "licencia_alcohol"),
        ("quiero sacar cita con el director", "cita"),
    ],
)
def test_match_procedure(catalog: Catalog, text: str, expected: str) -> None:
    assert catalog.match_procedure(text) == expected


def test_match_procedure_without_keyword(catalog: Catalog) -> None:
    assert catalog.match_procedure("gracias") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("necesito un abogado para mi divorcio", "juridica"),
        ("me siento con mucha ansiedad", "psicologica"),
        ("hay algun apoyo de despensa", "asistencia_social"),
        ("mi abuelita es adulta mayor y vive sola", "adultos_mayores"),
        ("necesito una silla de ruedas para mi hijo", "discapacidad"),
        ("soy migrante y no tengo papeles", "migrantes"),
    ],
)
def test_match_advice_topic(catalog: Catalog, text: str, expected: str) -> None:
    assert catalog.match_advice_topic(text) == expected


def test_match_advice_topic_without_keyword(catalog: Catalog) -> None:
    assert catalog.match_advice_topic("buen dia") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a q hora abren el palacio", "horario_palacio"),
        ("A qué hora cierran las oficinas del ayuntamiento?", "horario_palacio"),
        ("donde pago el predial", "pago_predial"),
        ("a que hora pasa el camion de la basura", "horario_basura"),
        ("mi esposo me pega", "linea_mujeres"),
        ("como saco mi tarjeta inapam", "tarjeta_inapam"),
        ("donde esta el dif", "direccion_dif"),
        ("abren mañana que es dia festivo?", "dias_inhabiles"),
        ("que eventos hay este fin de semana", "eventos"),
        ("como funciona chatcun", "como_funciona"),
        ("como va mi reporte, tengo el folio", "seguimiento_folio"),
        ("que hago en temporada de huracanes", "huracanes"),
        ("donde estan los refugios anticrisis", "refugios"),
        ("perdi mis documentos", "documentos_perdidos"),
    ],
)
def test_match_faq(catalog: Catalog, text: str, expected: str) -> None:
    faq = catalog.match_faq(text)
    assert isinstance(faq, Faq)
    assert faq.id == expected


def test_match_faq_tie_or_nothing(catalog: Catalog) -> None:
    # "telefono" and "palacio" each point to a different FAQ.
    assert catalog.match_faq("cual es el telefono del palacio") is None
    assert catalog.match_faq("buenas tardes") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("telefono de aguakan", "998 881 2400"),
        ("cual es el numero de la cfe", "071"),
        ("a que hora abre el registro civil", "Registro Civil del Estado"),
        ("donde esta migracion", "Instituto Nacional de Migración"),
        ("donde pago el predial", "Tesorería del Palacio Municipal"),
        ("donde esta el dif", "Av. Chichén Itzá"),
    ],
)
def test_answer_question(catalog: Catalog, text: str, expected: str) -> None:
    assert expected in catalog.answer_question(text)


def test_answer_question_without_answer(catalog: Catalog) -> None:
    assert catalog.answer_question("quien gano el partido de ayer") is None


def test_faq_ids_are_unique(catalog: Catalog) -> None:
    ids = [faq.id for faq in catalog.faqs]
    assert len(ids) == len(set(ids))


def test_department_for_each_kind_of_id(catalog: Catalog) -> None:
    assert catalog.department_for("electricidad").id == "cfe"
    assert catalog.department_for("predial").id == "tesoreria"
    assert catalog.department_for("juridica").id == catalog.advice_topics[
        "juridica"
    ].department
    assert catalog.department_for("ecologia").id == "ecologia"


def test_department_for_unknown_id(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="no_existe"):
        catalog.department_for("no_existe")


# Default directory and caching


def test_load_catalog_reads_catalog_dir(
    catalog_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def rename(data: Dict[str, Any]) -> None:
        data["categories"]["bache"]["label"] = "Hoyo en la calle"

    edit_yaml(catalog_copy, "categories.yml", rename)
    monkeypatch.setenv("CATALOG_DIR", str(catalog_copy))
    assert load_catalog().categories["bache"].label == "Hoyo en la calle"


def test_get_catalog_is_cached(
    catalog_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_DIR", str(catalog_copy))
    get_catalog.cache_clear()
    try:
        first = get_catalog()
        (catalog_copy / "faq.yml").unlink()
        assert get_catalog() is first
    finally:
        get_catalog.cache_clear()


def test_import_reads_no_file(tmp_path: Path) -> None:
    # The package's __init__ loads the catalog on purpose at server start, so
    # this imports the module under a bare package to check the module alone.
    script = (
        "import sys, types\n"
        "package = types.ModuleType('actions')\n"
        f"package.__path__ = [{str(REPO_ROOT / 'actions')!r}]\n"
        "sys.modules['actions'] = package\n"
        "import actions.catalog\n"
    )
    missing = tmp_path / "no_catalog"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={"CATALOG_DIR": str(missing), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# Validation errors name the file and the key path


def test_error_missing_directory(tmp_path: Path) -> None:
    message = load_error(tmp_path / "nowhere")
    assert "nowhere" in message
    assert "catalog directory not found" in message


def test_error_missing_file(catalog_copy: Path) -> None:
    (catalog_copy / "faq.yml").unlink()
    message = load_error(catalog_copy)
    assert "catalog/faq.yml: file not found" in message


def test_error_bad_yaml(catalog_copy: Path) -> None:
    (catalog_copy / "procedures.yml").write_text(
        "procedures:\n  predial:\n    name: [Pago del predial\n", encoding="utf-8"
    )
    message = load_error(catalog_copy)
    assert "catalog/procedures.yml: invalid YAML" in message
    assert "line 4" in message


def test_error_duplicate_yaml_key(catalog_copy: Path) -> None:
    text = (catalog_copy / "departments.yml").read_text(encoding="utf-8")
    duplicate = "  cfe:\n    name: Otra CFE\n"
    (catalog_copy / "departments.yml").write_text(text + duplicate, encoding="utf-8")
    message = load_error(catalog_copy)
    assert "catalog/departments.yml: invalid YAML" in message
    assert "duplicate key 'cfe'" in message


def test_error_empty_file(catalog_copy: Path) -> None:
    (catalog_copy / "advice.yml").write_text("", encoding="utf-8")
    message = load_error(catalog_copy)
    assert "catalog/advice.yml: expected a mapping with the keys topics" in message


def test_error_unknown_department(catalog_copy: Path) -> None:
    def change(data: Dict[str, Any]) -> None:
        data["categories"]["bache"]["department"] = "obras"

    edit_yaml(catalog_copy, "categories.yml", change)
    message = load_error(catalog_copy)
    assert (
        "catalog/categories.yml: categories.bache.department: "
        "unknown department 'obras'"
    ) in message


def test_error_unknown_department_in_procedure(catalog_copy: Path) -> None:
    def change(data: Dict[str, Any]) -> None:
        data["procedures"]["predial"]["department"] = "finanzas"

    edit_yaml(catalog_copy, "procedures.yml", change)
    message = load_error(catalog_copy)
    assert (
        "catalog/procedures.yml: procedures.predial.department: "
        "unknown department 'finanzas'"
    ) in message


# Each case: file, change to its parsed data, expected "<key path>: <problem>".
BROKEN_CASES = [
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["bache"].pop("sla_hours"),
        "categories.bache.sla_hours: missing required key",
        id="missing-key",
    ),
    pytest.param(
        "departments.yml",
        lambda data: data["departments"]["dif"].pop("phone"),
        "departments.dif.phone: missing required key",
        id="missing-department-phone",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["bache"].update(sla_hours="48 horas"),
        "categories.bache.sla_hours: expected a whole number, got text ('48 horas')",
        id="wrong-type-sla",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["bache"].update(sla_hours=True),
        "categories.bache.sla_hours: expected a whole number, got true/false (true)",
        id="boolean-sla",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["bache"].update(sla_hours=0),
        "categories.bache.sla_hours: must be greater than 0, got 0",
        id="zero-sla",
    ),
    pytest.param(
        "departments.yml",
        lambda data: data["departments"]["cfe"].update(phone=71),
        "departments.cfe.phone: expected text, got a number (71); put the value in "
        "quotes",
        id="wrong-type-phone",
    ),
    pytest.param(
        "procedures.yml",
        lambda data: data["procedures"]["predial"].update(requirements="INE"),
        "procedures.predial.requirements: expected a list, got text ('INE')",
        id="wrong-type-list",
    ),
    pytest.param(
        "faq.yml",
        lambda data: data.update(faqs={"horario": "8 a 4"}),
        "faqs: expected a list, got a mapping",
        id="wrong-type-faqs",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["ruido"].update(request_type="queja"),
        "categories.ruido.request_type: invalid value 'queja'; expected one of "
        "reporte, denuncia",
        id="request-type",
    ),
    pytest.param(
        "departments.yml",
        lambda data: data["departments"]["dif"].update(kind="estatal"),
        "departments.dif.kind: invalid value 'estatal'",
        id="department-kind",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"].pop("semaforo"),
        "categories: missing categories: semaforo",
        id="missing-category",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"].update(
            {"banqueta": dict(data["categories"]["bache"])}
        ),
        "categories.banqueta: unknown category id",
        id="extra-category",
    ),
    pytest.param(
        "procedures.yml",
        lambda data: data["procedures"].update(
            {"Pago-Agua": dict(data["procedures"]["predial"])}
        ),
        "procedures.Pago-Agua: invalid id 'Pago-Agua'; use snake_case",
        id="id-not-snake-case",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["bache"]["keywords"].insert(0, " "),
        "categories.bache.keywords[0]: must not be empty",
        id="empty-keyword",
    ),
    pytest.param(
        "advice.yml",
        lambda data: data["topics"]["juridica"]["keywords"].insert(0, "Asesoría"),
        "topics.juridica.keywords[0]: write 'Asesoría' lower-case",
        id="keyword-with-accent",
    ),
    pytest.param(
        "faq.yml",
        lambda data: data["faqs"][1]["keywords"].insert(
            0, data["faqs"][1]["keywords"][0]
        ),
        "faqs[1].keywords[1]: duplicate of faqs[1].keywords[0]",
        id="duplicate-keyword",
    ),
    pytest.param(
        "faq.yml",
        lambda data: data["faqs"][2].update(id=data["faqs"][0]["id"]),
        "faqs[2].id: duplicate id",
        id="duplicate-faq-id",
    ),
    pytest.param(
        "faq.yml",
        lambda data: data["faqs"][0].update(answer="Abrimos. " * 100),
        "faqs[0].answer: too long (899 characters, maximum 700)",
        id="answer-too-long",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["bache"].update(citizen_notes="Hola"),
        "categories.bache.citizen_notes: unknown key; allowed keys:",
        id="unknown-key",
    ),
    pytest.param(
        "categories.yml",
        lambda data: data["categories"]["electricidad"].pop("citizen_note"),
        "categories.electricidad.citizen_note: missing required key: department "
        "'cfe' is external",
        id="external-without-note",
    ),
    pytest.param(
        "departments.yml",
        lambda data: data["departments"]["tesoreria"].update(confirm="si"),
        "departments.tesoreria.confirm: expected true or false, got text ('si')",
        id="confirm-not-boolean",
    ),
    pytest.param(
        "departments.yml",
        lambda data: data["departments"]["dif"].update(email="dif.cancun.gob.mx"),
        "departments.dif.email: invalid e-mail address 'dif.cancun.gob.mx'",
        id="email",
    ),
    pytest.param(
        "procedures.yml",
        lambda data: data["procedures"].update(
            {"ecologia": dict(data["procedures"]["predial"])}
        ),
        "procedures.ecologia: id already used in",
        id="id-used-twice",
    ),
    pytest.param(
        "places.yml",
        lambda data: data["bounds"].update(lat_min=21.3),
        "bounds.lat_min: must be less than lat_max (21.3 >= ",
        id="bounds-order",
    ),
    pytest.param(
        "places.yml",
        lambda data: data["bounds"].update(lon_max=-186.0),
        "bounds.lon_max: must be between -180 and 180, got -186.0",
        id="bounds-range",
    ),
    pytest.param(
        "places.yml",
        lambda data: data["bounds"].update(lat_max="21.25 N"),
        "bounds.lat_max: expected a number, got text ('21.25 N')",
        id="bounds-type",
    ),
    pytest.param(
        "places.yml",
        lambda data: data.pop("avenues"),
        "avenues: missing required key",
        id="places-missing-list",
    ),
    pytest.param(
        "service.yml",
        lambda data: data["women_line"].pop("option"),
        "women_line.option: missing required key",
        id="service-missing-key",
    ),
    pytest.param(
        "service.yml",
        lambda data: data.update(violence_department="mujeres"),
        "violence_department: unknown department 'mujeres'",
        id="service-unknown-department",
    ),
    pytest.param(
        "service.yml",
        lambda data: data["violence_department_by_group"].update(nines="dif"),
        "violence_department_by_group.nines: unknown group 'nines'",
        id="service-unknown-group",
    ),
    pytest.param(
        "service.yml",
        lambda data: data["violence_department_by_group"].update(ninez="difs"),
        "violence_department_by_group.ninez: unknown department 'difs'",
        id="service-group-unknown-department",
    ),
    pytest.param(
        "departments.yml",
        lambda data: data["departments"]["aguakan"].update(keywords=["Aguakán"]),
        "departments.aguakan.keywords",
        id="department-keyword-not-normalized",
    ),
    pytest.param(
        "service.yml",
        lambda data: data.update(emergency_phone=911),
        "emergency_phone: expected text, got a number (911)",
        id="service-wrong-type",
    ),
    pytest.param(
        "service.yml",
        lambda data: data["confirm"].insert(0, "horario"),
        "confirm[0]: unknown key 'horario'",
        id="service-confirm-key",
    ),
]


@pytest.mark.parametrize("file_name, change, expected", BROKEN_CASES)
def test_error_names_file_and_key(
    catalog_copy: Path, file_name: str, change: Callable[[Any], Any], expected: str
) -> None:
    edit_yaml(catalog_copy, file_name, change)
    message = load_error(catalog_copy)
    assert f"catalog/{file_name}: {expected}" in message
