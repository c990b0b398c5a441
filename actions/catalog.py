"""Municipal catalog: departments, requests, FAQs, routing, priority and groups.

Conversation designers edit the YAML files in ``catalog/``. `load_catalog` reads
and validates all of them, so that a mistake stops the assistant at start-up with
a `CatalogError` that names the file and the key path, for example
``catalog/categories.yml: categories.bache.department: unknown department 'obras'``.
Nothing is read at import time.
"""

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    Union,
)

# CatalogError and MAX_TEXT_LENGTH are also imported from here by callers.
from actions.catalog_file import (  # noqa: F401
    DEPARTMENTS_FILE,
    MAX_TEXT_LENGTH,
    CatalogError,
    CatalogFile,
    display_path,
)
from actions.routing.groups import (
    DirectoryEntry,
    Group,
    parse_directory,
    parse_groups,
)
from actions.routing.priority import PriorityRules, parse_priority
from actions.routing.table import (
    CASE_REQUEST_TYPES,
    Linking,
    RoutingTable,
    parse_routing,
)
from actions.text import keyword_score

logger = logging.getLogger(__name__)

CATALOG_DIR_ENV = "CATALOG_DIR"
DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog"

REQUEST_TYPES = ("reporte", "denuncia")
DEPARTMENT_KINDS = ("municipal", "external")

# The assistant's stories, forms and menus refer to these ids, so the loader
# requires exactly this set. The file decides their order in the menus.
CATEGORY_IDS = (
    "alumbrado",
    "bache",
    "basura",
    "agua",
    "drenaje",
    "semaforo",
    "arbol",
    "parques",
    "animales",
    "electricidad",
    "ruido",
    "construccion",
    "maltrato_animal",
    "funcionario",
    "comercio",
    "tiradero",
    "seguridad",
)

# Menu labels go in numbered lists on small phone screens.
MAX_LABEL_LENGTH = 40
MAX_QUESTION_LENGTH = 80

_CATEGORIES_FILE = "categories.yml"
_PROCEDURES_FILE = "procedures.yml"
_ADVICE_FILE = "advice.yml"
_FAQ_FILE = "faq.yml"
_PLACES_FILE = "places.yml"
_SERVICE_FILE = "service.yml"
_ROUTING_FILE = "routing.yml"
_PRIORITY_FILE = "priority.yml"
_GROUPS_FILE = "groups.yml"
_DIRECTORY_FILE = "directory.yml"
_FILE_NAMES = (
    DEPARTMENTS_FILE,
    _CATEGORIES_FILE,
    _PROCEDURES_FILE,
    _ADVICE_FILE,
    _FAQ_FILE,
    _PLACES_FILE,
    _SERVICE_FILE,
    _ROUTING_FILE,
    _PRIORITY_FILE,
    _GROUPS_FILE,
    _DIRECTORY_FILE,
)


@dataclass(frozen=True)
class Department:
    """Municipal office or outside agency that handles requests."""

    id: str
    name: str
    kind: str
    phone: str
    address: str
    hours: str
    email: Optional[str]
    confirm: bool
    keywords: Tuple[str, ...] = ()

    @property
    def is_external(self) -> bool:
        """Whether the body is outside the municipality, such as CFE or Aguakan."""
        return self.kind == "external"

    def contact_card(self) -> str:
        """Return the lines a citizen needs to reach the body."""
        return (
            f"*{self.name}*\n📞 {self.phone}\n📍 {self.address}\n🕘 {self.hours}"
        )


@dataclass(frozen=True)
class Category:
    """Kind of reporte or denuncia, with the department that receives it."""

    id: str
    request_type: str
    label: str
    department: str
    sla_hours: int
    keywords: Tuple[str, ...]
    citizen_note: Optional[str]


@dataclass(frozen=True)
class Procedure:
    """Municipal procedure (trámite): requirements, cost and office."""

    id: str
    name: str
    keywords: Tuple[str, ...]
    department: str
    requirements: Tuple[str, ...]
    cost: str
    where: str
    sla_hours: int


@dataclass(frozen=True)
class AdviceTopic:
    """Free advice (asesoría) that a department gives on request."""

    id: str
    label: str
    department: str
    keywords: Tuple[str, ...]
    sla_hours: int
    description: str


@dataclass(frozen=True)
class Faq:
    """Frequent question with the answer the assistant sends."""

    id: str
    question: str
    keywords: Tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Places:
    """Bounding box of the municipality and the words that mark addresses."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    street_words: Tuple[str, ...]
    area_words: Tuple[str, ...]
    avenues: Tuple[str, ...]
    neighborhoods: Tuple[str, ...]
    outside_places: Tuple[str, ...]

    def contains(self, latitude: float, longitude: float) -> bool:
        """Tell whether a point lies inside the bounding box, edges included.

        The box is a rectangle, so a point near its edges may still belong to a
        neighbouring municipality.
        """
        return (
            self.lat_min <= latitude <= self.lat_max
            and self.lon_min <= longitude <= self.lon_max
        )


class _Keyworded(Protocol):
    """Catalog entry that `_best_match` can score."""

    @property
    def keywords(self) -> Tuple[str, ...]: ...


_KeywordedT = TypeVar("_KeywordedT", bound=_Keyworded)


def _best_match(text: str, candidates: Iterable[_KeywordedT]) -> Optional[_KeywordedT]:
    """Return the candidate whose keywords score highest against the text.

    Returns None when nothing scores, or when the top two scores are equal,
    because then the assistant must ask instead of guessing.
    """
    best: Optional[_KeywordedT] = None
    best_score = 0
    runner_up_score = 0
    for candidate in candidates:
        score = keyword_score(text, candidate.keywords)
        if score > best_score:
            runner_up_score = best_score
            best, best_score = candidate, score
        elif score > runner_up_score:
            runner_up_score = score

    if best_score == 0 or runner_up_score == best_score:
        return None
    return best


@dataclass(frozen=True)
class Catalog:
    """Validated municipal data that routing, menus and FAQ replies read.

    The category mapping keeps the order of the file, which is the order of
    the numbered menus. Routing, priority rules, groups and the directory
    default to empty, for tests that build a catalog by hand.
    """

    departments: Dict[str, Department]
    categories: Dict[str, Category]
    procedures: Dict[str, Procedure]
    advice_topics: Dict[str, AdviceTopic]
    faqs: Tuple[Faq, ...]
    places: Places
    service: Dict[str, Any]
    routing: RoutingTable = field(
        default_factory=lambda: RoutingTable({}, (), Linking((), 1, 1))
    )
    priority: PriorityRules = field(default_factory=lambda: PriorityRules({}, ()))
    groups: Dict[str, Group] = field(default_factory=dict)
    directory: Dict[str, DirectoryEntry] = field(default_factory=dict)

    def categories_for(self, request_type: str) -> List[Category]:
        """Return the categories of one request type in menu order.

        Raises:
            ValueError: If request_type is not "reporte" or "denuncia".
        """
        if request_type not in REQUEST_TYPES:
            raise ValueError(
                f"invalid request type {request_type!r}, expected one of "
                f"{', '.join(REQUEST_TYPES)}"
            )
        return [
            category
            for category in self.categories.values()
            if category.request_type == request_type
        ]

    def match_category(
        self, text: str, request_type: Optional[str] = None
    ) -> Optional[str]:
        """Return the id of the category whose keywords best match the text.

        Args:
            text: Message as the citizen typed it.
            request_type: If given, only categories of this type compete.

        Returns:
            The category id, or None when no keyword matches or the top two
            categories score the same.
        """
        if request_type is None:
            candidates: Iterable[Category] = self.categories.values()
        else:
            candidates = self.categories_for(request_type)
        best = _best_match(text, candidates)
        return best.id if best else None

    def match_procedure(self, text: str) -> Optional[str]:
        """Return the id of the best-matching procedure, or None if none or a tie."""
        best = _best_match(text, self.procedures.values())
        return best.id if best else None

    def match_advice_topic(self, text: str) -> Optional[str]:
        """Return the id of the best-matching advice topic, or None if none or a tie."""
        best = _best_match(text, self.advice_topics.values())
        return best.id if best else None

    def match_faq(self, text: str) -> Optional[Faq]:
        """Return the best-matching FAQ, or None if none matches or two tie."""
        return _best_match(text, self.faqs)

    def answer_question(self, text: str) -> Optional[str]:
        """Return the catalog's answer to a question, or None if it has none.

        A question that names a department or agency ("telefono de aguakan")
        gets that body's contact card, unless a FAQ matches it better.
        """
        faq = self.match_faq(text)
        faq_score = keyword_score(text, faq.keywords) if faq else 0
        named = _best_match(
            text, [body for body in self.departments.values() if body.keywords]
        )
        if named is not None and keyword_score(text, named.keywords) >= faq_score:
            return named.contact_card()
        return faq.answer if faq else None

    def department_for(
        self, category_or_procedure_or_topic_department_id: str
    ) -> Department:
        """Return the department for a department id, or the one that handles an item.

        Ids are unique across departments, categories, procedures and advice
        topics (the loader checks it), so one argument covers all four.

        Raises:
            KeyError: If no department, category, procedure or advice topic
                has this id.
        """
        item_id = category_or_procedure_or_topic_department_id
        department = self.departments.get(item_id)
        if department is not None:
            return department

        for collection in (self.categories, self.procedures, self.advice_topics):
            item = collection.get(item_id)
            if item is not None:
                return self.departments[item.department]
        raise KeyError(
            f"unknown department, category, procedure or advice topic id {item_id!r}"
        )


def load_catalog(directory: Optional[Union[str, Path]] = None) -> Catalog:
    """Read and validate every catalog file.

    Args:
        directory: Folder with the YAML files. Defaults to the CATALOG_DIR
            environment variable, else the ``catalog`` folder of the repository.

    Returns:
        The validated catalog.

    Raises:
        CatalogError: If a file is missing or is not valid YAML, or if an entry
            breaks a rule. The message names the file and the key path.
    """
    if directory is None:
        directory = os.environ.get(CATALOG_DIR_ENV) or DEFAULT_CATALOG_DIR
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise CatalogError(f"{display_path(folder)}: catalog directory not found")

    files = {name: CatalogFile(folder, name) for name in _FILE_NAMES}
    departments = _parse_departments(files[DEPARTMENTS_FILE])
    categories = _parse_categories(files[_CATEGORIES_FILE], departments)
    procedures = _parse_procedures(files[_PROCEDURES_FILE], departments)
    advice_topics = _parse_advice_topics(files[_ADVICE_FILE], departments)
    faqs = _parse_faqs(files[_FAQ_FILE])
    places = _parse_places(files[_PLACES_FILE])
    service = _parse_service(files[_SERVICE_FILE], departments)
    _check_unique_ids(
        (files[DEPARTMENTS_FILE], "departments", departments),
        (files[_CATEGORIES_FILE], "categories", categories),
        (files[_PROCEDURES_FILE], "procedures", procedures),
        (files[_ADVICE_FILE], "topics", advice_topics),
    )

    # Request type of every id a route or a priority rule may name.
    request_type_of: Dict[str, str] = {
        category_id: category.request_type
        for category_id, category in categories.items()
    }
    request_type_of.update({procedure_id: "tramite" for procedure_id in procedures})
    request_type_of.update({topic_id: "asesoria" for topic_id in advice_topics})
    routing = parse_routing(files[_ROUTING_FILE], departments, request_type_of, places)
    groups = parse_groups(files[_GROUPS_FILE])
    for group in service["violence_department_by_group"]:
        if group not in groups:
            raise files[_SERVICE_FILE].error(
                f"violence_department_by_group.{group}",
                f"unknown group {group!r}; use one of the ids in {_GROUPS_FILE}",
            )
    priority = parse_priority(
        files[_PRIORITY_FILE], CASE_REQUEST_TYPES, request_type_of, list(groups)
    )
    directory = parse_directory(files[_DIRECTORY_FILE], groups, departments)

    catalog = Catalog(
        departments=departments,
        categories=categories,
        procedures=procedures,
        advice_topics=advice_topics,
        faqs=faqs,
        places=places,
        service=service,
        routing=routing,
        priority=priority,
        groups=groups,
        directory=directory,
    )
    logger.info(
        "Loaded catalog from %s: %d departments, %d categories, %d procedures, "
        "%d advice topics, %d FAQs, %d priority rules, %d groups, %d directory "
        "services, %d entries marked confirm",
        display_path(folder),
        len(departments),
        len(categories),
        len(procedures),
        len(advice_topics),
        len(faqs),
        len(priority.rules),
        len(groups),
        len(directory),
        sum(catalog_file.confirm_count for catalog_file in files.values()),
    )
    return catalog


@functools.lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """Load the catalog from the default directory once and reuse it.

    Call ``get_catalog.cache_clear()`` to read the files again.
    """
    return load_catalog()


def _parse_departments(file: CatalogFile) -> Dict[str, Department]:
    root = file.root(["departments"])
    departments: Dict[str, Department] = {}
    for department_id, value, path in file.entries(root["departments"], "departments"):
        entry = file.entry(
            value,
            path,
            required=["name", "kind", "phone", "address", "hours"],
            optional=["email", "keywords", "confirm"],
        )
        keywords: Tuple[str, ...] = ()
        if "keywords" in entry:
            keywords = file.text_list(entry, path, "keywords", normalized=True)
        email = file.optional_text(entry, path, "email")
        if email is not None and "@" not in email:
            raise file.error(f"{path}.email", f"invalid e-mail address {email!r}")
        departments[department_id] = Department(
            id=department_id,
            name=file.text(entry, path, "name"),
            kind=file.choice(entry, path, "kind", DEPARTMENT_KINDS),
            phone=file.text(entry, path, "phone"),
            address=file.text(entry, path, "address"),
            hours=file.text(entry, path, "hours"),
            email=email,
            confirm=file.boolean(entry, path, "confirm"),
            keywords=keywords,
        )
    return departments


def _parse_categories(
    file: CatalogFile, departments: Mapping[str, Department]
) -> Dict[str, Category]:
    root = file.root(["categories"])
    categories: Dict[str, Category] = {}
    for category_id, value, path in file.entries(root["categories"], "categories"):
        if category_id not in CATEGORY_IDS:
            raise file.error(
                path,
                "unknown category id; the assistant uses exactly these: "
                f"{', '.join(CATEGORY_IDS)}",
            )
        entry = file.entry(
            value,
            path,
            required=["request_type", "label", "department", "sla_hours", "keywords"],
            optional=["citizen_note", "confirm"],
        )
        category = Category(
            id=category_id,
            request_type=file.choice(entry, path, "request_type", REQUEST_TYPES),
            label=file.text(entry, path, "label", max_length=MAX_LABEL_LENGTH),
            department=file.reference(entry, path, "department", departments),
            sla_hours=file.positive_int(entry, path, "sla_hours"),
            keywords=file.keywords(entry, path),
            citizen_note=file.optional_text(entry, path, "citizen_note"),
        )
        if departments[category.department].is_external and not category.citizen_note:
            raise file.error(
                f"{path}.citizen_note",
                f"missing required key: department {category.department!r} is "
                "external, so tell the citizen who handles the problem",
            )
        categories[category_id] = category

    missing = [
        category_id for category_id in CATEGORY_IDS if category_id not in categories
    ]
    if missing:
        raise file.error("categories", f"missing categories: {', '.join(missing)}")
    return categories


def _parse_procedures(
    file: CatalogFile, departments: Mapping[str, Department]
) -> Dict[str, Procedure]:
    root = file.root(["procedures"])
    procedures: Dict[str, Procedure] = {}
    for procedure_id, value, path in file.entries(root["procedures"], "procedures"):
        entry = file.entry(
            value,
            path,
            required=[
                "name",
                "keywords",
                "department",
                "requirements",
                "cost",
                "where",
                "sla_hours",
            ],
        )
        procedures[procedure_id] = Procedure(
            id=procedure_id,
            name=file.text(entry, path, "name"),
            keywords=file.keywords(entry, path),
            department=file.reference(entry, path, "department", departments),
            requirements=file.text_list(entry, path, "requirements"),
            cost=file.text(entry, path, "cost"),
            where=file.text(entry, path, "where"),
            sla_hours=file.positive_int(entry, path, "sla_hours"),
        )
    return procedures


def _parse_advice_topics(
    file: CatalogFile, departments: Mapping[str, Department]
) -> Dict[str, AdviceTopic]:
    root = file.root(["topics"])
    topics: Dict[str, AdviceTopic] = {}
    for topic_id, value, path in file.entries(root["topics"], "topics"):
        entry = file.entry(
            value,
            path,
            required=["label", "department", "keywords", "sla_hours", "description"],
        )
        topics[topic_id] = AdviceTopic(
            id=topic_id,
            label=file.text(entry, path, "label", max_length=MAX_LABEL_LENGTH),
            department=file.reference(entry, path, "department", departments),
            keywords=file.keywords(entry, path),
            sla_hours=file.positive_int(entry, path, "sla_hours"),
            description=file.text(entry, path, "description"),
        )
    return topics


def _parse_faqs(file: CatalogFile) -> Tuple[Faq, ...]:
    root = file.root(["faqs"])
    items = root["faqs"]
    if not isinstance(items, list):
        raise file.type_error("faqs", "a list", items)
    if not items:
        raise file.error("faqs", "must have at least one item")

    faqs: List[Faq] = []
    positions: Dict[str, int] = {}
    for index, value in enumerate(items):
        path = f"faqs[{index}]"
        entry = file.entry(
            value, path, required=["id", "question", "keywords", "answer"]
        )
        faq_id = entry["id"]
        file.check_id(faq_id, f"{path}.id")
        if faq_id in positions:
            raise file.error(
                f"{path}.id",
                f"duplicate id {faq_id!r}, first used in faqs[{positions[faq_id]}]",
            )
        positions[faq_id] = index
        faqs.append(
            Faq(
                id=faq_id,
                question=file.text(
                    entry, path, "question", max_length=MAX_QUESTION_LENGTH
                ),
                keywords=file.keywords(entry, path),
                answer=file.text(entry, path, "answer"),
            )
        )
    return tuple(faqs)


def _parse_places(file: CatalogFile) -> Places:
    root = file.root(
        [
            "bounds",
            "street_words",
            "area_words",
            "avenues",
            "neighborhoods",
            "outside_places",
        ]
    )
    bounds = file.entry(
        root["bounds"], "bounds", required=["lat_min", "lat_max", "lon_min", "lon_max"]
    )
    lat_min = file.number(bounds, "bounds", "lat_min")
    lat_max = file.number(bounds, "bounds", "lat_max")
    lon_min = file.number(bounds, "bounds", "lon_min")
    lon_max = file.number(bounds, "bounds", "lon_max")
    _check_range(file, "bounds.lat", lat_min, lat_max, limit=90)
    _check_range(file, "bounds.lon", lon_min, lon_max, limit=180)

    return Places(
        lat_min=lat_min,
        lat_max=lat_max,
        lon_min=lon_min,
        lon_max=lon_max,
        street_words=file.text_list(root, "", "street_words", normalized=True),
        area_words=file.text_list(root, "", "area_words", normalized=True),
        avenues=file.text_list(root, "", "avenues"),
        neighborhoods=file.text_list(root, "", "neighborhoods"),
        outside_places=file.text_list(root, "", "outside_places"),
    )


def _check_range(
    file: CatalogFile, key_path: str, minimum: float, maximum: float, limit: float
) -> None:
    """Raise unless -limit <= minimum < maximum <= limit."""
    for value, suffix in ((minimum, "_min"), (maximum, "_max")):
        if not -limit <= value <= limit:
            raise file.error(
                f"{key_path}{suffix}",
                f"must be between {-limit} and {limit}, got {value}",
            )
    if minimum >= maximum:
        raise file.error(
            f"{key_path}_min",
            f"must be less than {key_path.rsplit('.', 1)[-1]}_max "
            f"({minimum} >= {maximum})",
        )


def _parse_service(
    file: CatalogFile, departments: Mapping[str, Department]
) -> Dict[str, Any]:
    root = file.root(
        [
            "emergency_phone",
            "anonymous_report_phone",
            "women_line",
            "dif_phone",
            "handoff",
            "office_hours",
            "information_department",
            "information_sla_hours",
            "violence_department",
            "violence_sla_hours",
        ],
        allow_other_keys=True,
    )
    service = dict(root)
    text_keys = (
        "emergency_phone",
        "anonymous_report_phone",
        "dif_phone",
        "office_hours",
    )
    for key in text_keys:
        service[key] = file.text(root, "", key)
    for prefix in ("information", "violence"):
        department_key = f"{prefix}_department"
        sla_key = f"{prefix}_sla_hours"
        service[department_key] = file.reference(root, "", department_key, departments)
        service[sla_key] = file.positive_int(root, "", sla_key)
    by_group = root.get("violence_department_by_group") or {}
    if not isinstance(by_group, dict):
        raise file.type_error("violence_department_by_group", "a mapping", by_group)
    service["violence_department_by_group"] = {
        str(group): file.reference(
            by_group, "violence_department_by_group", group, departments
        )
        for group in by_group
    }

    women_line = file.entry(root["women_line"], "women_line", ["phone", "option"], ())
    service["women_line"] = {
        "phone": file.text(women_line, "women_line", "phone"),
        "option": file.positive_int(women_line, "women_line", "option"),
    }
    handoff = file.entry(root["handoff"], "handoff", ["reply_text"], ())
    service["handoff"] = {"reply_text": file.text(handoff, "handoff", "reply_text")}

    if "confirm" in root:
        unverified = file.text_list(root, "", "confirm")
        for index, key in enumerate(unverified):
            if key not in root:
                raise file.error(
                    f"confirm[{index}]",
                    f"unknown key {key!r}; list only top-level keys of this file",
                )
        service["confirm"] = list(unverified)
        file.confirm_count += len(unverified)
    return service


def _check_unique_ids(*groups: Tuple[CatalogFile, str, Mapping[str, Any]]) -> None:
    """Raise if one id names two things, which would make `department_for` ambiguous."""
    owners: Dict[str, str] = {}
    for file, key, items in groups:
        for item_id in items:
            if item_id in owners:
                raise file.error(
                    f"{key}.{item_id}",
                    f"id already used in {owners[item_id]}; ids must be unique across "
                    "departments, categories, procedures and advice topics",
                )
            owners[item_id] = f"{file.label} ({key}.{item_id})"
