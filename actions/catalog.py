"""Municipal catalog: departments, request categories, procedures, advice and FAQs.

Conversation designers edit the YAML files in ``catalog/``. `load_catalog` reads
and validates all of them, so that a mistake stops the assistant at start-up with
a `CatalogError` that names the file and the key path, for example
``catalog/categories.yml: categories.bache.department: unknown department 'obras'``.
Nothing is read at import time.
"""

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

import yaml

from actions.text import keyword_score, normalize

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

# Menu labels go in numbered lists on small phone screens, and longer texts
# are sent as one WhatsApp message that should fit without much scrolling.
MAX_LABEL_LENGTH = 40
MAX_QUESTION_LENGTH = 80
MAX_TEXT_LENGTH = 700

_ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

_DEPARTMENTS_FILE = "departments.yml"
_CATEGORIES_FILE = "categories.yml"
_PROCEDURES_FILE = "procedures.yml"
_ADVICE_FILE = "advice.yml"
_FAQ_FILE = "faq.yml"
_PLACES_FILE = "places.yml"
_SERVICE_FILE = "service.yml"
_FILE_NAMES = (
    _DEPARTMENTS_FILE,
    _CATEGORIES_FILE,
    _PROCEDURES_FILE,
    _ADVICE_FILE,
    _FAQ_FILE,
    _PLACES_FILE,
    _SERVICE_FILE,
)


class CatalogError(ValueError):
    """Invalid or missing catalog file, with the file and key path in the message."""


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

    @property
    def is_external(self) -> bool:
        """Whether the body is outside the municipality, such as CFE or Aguakan."""
        return self.kind == "external"


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
    the numbered menus.
    """

    departments: Dict[str, Department]
    categories: Dict[str, Category]
    procedures: Dict[str, Procedure]
    advice_topics: Dict[str, AdviceTopic]
    faqs: Tuple[Faq, ...]
    places: Places
    service: Dict[str, Any]

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
        raise CatalogError(f"{_display_path(folder)}: catalog directory not found")

    files = {name: _CatalogFile(folder, name) for name in _FILE_NAMES}
    departments = _parse_departments(files[_DEPARTMENTS_FILE])
    categories = _parse_categories(files[_CATEGORIES_FILE], departments)
    procedures = _parse_procedures(files[_PROCEDURES_FILE], departments)
    advice_topics = _parse_advice_topics(files[_ADVICE_FILE], departments)
    faqs = _parse_faqs(files[_FAQ_FILE])
    places = _parse_places(files[_PLACES_FILE])
    service = _parse_service(files[_SERVICE_FILE], departments)
    _check_unique_ids(
        (files[_DEPARTMENTS_FILE], "departments", departments),
        (files[_CATEGORIES_FILE], "categories", categories),
        (files[_PROCEDURES_FILE], "procedures", procedures),
        (files[_ADVICE_FILE], "topics", advice_topics),
    )

    catalog = Catalog(
        departments=departments,
        categories=categories,
        procedures=procedures,
        advice_topics=advice_topics,
        faqs=faqs,
        places=places,
        service=service,
    )
    logger.info(
        "Loaded catalog from %s: %d departments, %d categories, %d procedures, "
        "%d advice topics, %d FAQs, %d entries marked confirm",
        _display_path(folder),
        len(departments),
        len(categories),
        len(procedures),
        len(advice_topics),
        len(faqs),
        sum(catalog_file.confirm_count for catalog_file in files.values()),
    )
    return catalog


@functools.lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """Load the catalog from the default directory once and reuse it.

    Call ``get_catalog.cache_clear()`` to read the files again.
    """
    return load_catalog()


def _display_path(path: Path) -> str:
    """Return the path relative to the working directory when it is inside it."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


# PyYAML's libyaml-based loader parses faster when libyaml is installed. It uses
# the same constructors and resolver, so the catalog reads the same with either.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader that rejects a key repeated in one mapping.

    PyYAML keeps the last of two equal keys, which would silently drop an
    entry that a designer pasted twice.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                break  # the base class raises the error for an unhashable key
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _join(key_path: str, key: str) -> str:
    """Append a key to a key path. An empty path is the top of the file."""
    return f"{key_path}.{key}" if key_path else key


def _describe(value: Any) -> str:
    """Name the YAML type of a value for an error message."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _CatalogFile:
    """One parsed catalog file with typed getters that raise CatalogError.

    Every getter takes the key path of the value, such as
    ``categories.bache.keywords``, to put in the error message.
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.label = _display_path(folder / name)
        self.confirm_count = 0
        self.data = self._read(folder / name)

    def _read(self, path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CatalogError(f"{self.label}: file not found") from None
        except UnicodeDecodeError as error:
            raise CatalogError(
                f"{self.label}: invalid UTF-8 at byte {error.start}; save the file "
                "as UTF-8"
            ) from None
        except OSError as error:
            raise CatalogError(f"{self.label}: cannot read file: {error}") from None

        try:
            return yaml.load(text, Loader=_UniqueKeyLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            position = ""
            if mark is not None:
                position = f" at line {mark.line + 1}, column {mark.column + 1}"
            raise CatalogError(
                f"{self.label}: invalid YAML{position}: {error.problem}"
            ) from None
        except yaml.YAMLError as error:
            raise CatalogError(f"{self.label}: invalid YAML: {error}") from None

    def error(self, key_path: str, problem: str) -> CatalogError:
        """Build the error for a problem at a key path of this file."""
        return CatalogError(f"{self.label}: {key_path}: {problem}")

    def type_error(self, key_path: str, expected: str, value: Any) -> CatalogError:
        """Build the error for a value of the wrong type."""
        hint = ""
        if expected == "text" and isinstance(value, (bool, int, float)):
            # YAML 1.1 reads 071 as the octal number 57 and "no" as false.
            hint = (
                "; put the value in quotes, because YAML reads bare numbers, "
                "yes/no and true/false as other types"
            )
        return self.error(
            key_path, f"expected {expected}, got {_describe(value)}{hint}"
        )

    def root(
        self, required: Sequence[str], allow_other_keys: bool = False
    ) -> Dict[str, Any]:
        """Return the top-level mapping after checking its keys."""
        if not isinstance(self.data, dict):
            keys = ", ".join(required)
            raise CatalogError(
                f"{self.label}: expected a mapping with the keys {keys}, got "
                f"{_describe(self.data)}"
            )
        self._check_keys(self.data, "", required, None if allow_other_keys else ())
        return self.data

    def entry(
        self,
        value: Any,
        key_path: str,
        required: Sequence[str],
        optional: Sequence[str] = ("confirm",),
    ) -> Dict[str, Any]:
        """Return a mapping after checking its keys and counting its confirm mark."""
        if not isinstance(value, dict):
            raise self.type_error(key_path, "a mapping", value)
        self._check_keys(value, key_path, required, optional)
        if "confirm" in optional and self.boolean(value, key_path, "confirm"):
            self.confirm_count += 1
        return value

    def _check_keys(
        self,
        mapping: Dict[Any, Any],
        key_path: str,
        required: Sequence[str],
        optional: Optional[Sequence[str]],
    ) -> None:
        """Raise if a required key is missing or a key is not allowed.

        With optional=None every other key is allowed.
        """
        for key in required:
            if key not in mapping:
                raise self.error(_join(key_path, key), "missing required key")
        if optional is None:
            return
        allowed = list(required) + list(optional)
        for key in mapping:
            if key not in allowed:
                raise self.error(
                    _join(key_path, str(key)),
                    f"unknown key; allowed keys: {', '.join(allowed)}",
                )

    def entries(self, value: Any, key_path: str) -> Iterator[Tuple[str, Any, str]]:
        """Yield (id, value, key path) for each item of a mapping keyed by id."""
        if not isinstance(value, dict):
            raise self.type_error(key_path, "a mapping of ids to entries", value)
        if not value:
            raise self.error(key_path, "must have at least one entry")
        for item_id, item in value.items():
            entry_path = f"{key_path}.{item_id}"
            self.check_id(item_id, entry_path)
            yield item_id, item, entry_path

    def check_id(self, item_id: Any, key_path: str) -> None:
        """Raise unless the id is snake_case text."""
        if not isinstance(item_id, str) or not _ID_PATTERN.fullmatch(item_id):
            raise self.error(
                key_path,
                f"invalid id {item_id!r}; use snake_case: lower-case letters, digits "
                "and underscores, starting with a letter",
            )

    def text(
        self,
        entry: Dict[str, Any],
        key_path: str,
        key: str,
        max_length: int = MAX_TEXT_LENGTH,
    ) -> str:
        """Return a non-empty text value, at most max_length characters long."""
        value = entry.get(key)
        path = _join(key_path, key)
        if not isinstance(value, str):
            raise self.type_error(path, "text", value)
        value = value.strip()
        if not value:
            raise self.error(path, "must not be empty")
        if len(value) > max_length:
            raise self.error(
                path,
                f"too long ({len(value)} characters, maximum {max_length}); "
                "shorten it so it fits a phone screen",
            )
        return value

    def optional_text(
        self, entry: Dict[str, Any], key_path: str, key: str
    ) -> Optional[str]:
        """Return a text value, or None when the key is absent."""
        if key not in entry:
            return None
        return self.text(entry, key_path, key)

    def choice(
        self, entry: Dict[str, Any], key_path: str, key: str, allowed: Sequence[str]
    ) -> str:
        """Return a text value that must be one of the allowed values."""
        value = self.text(entry, key_path, key)
        if value not in allowed:
            raise self.error(
                _join(key_path, key),
                f"invalid value {value!r}; expected one of {', '.join(allowed)}",
            )
        return value

    def boolean(self, entry: Dict[str, Any], key_path: str, key: str) -> bool:
        """Return a true/false value, False when the key is absent."""
        value = entry.get(key, False)
        if not isinstance(value, bool):
            raise self.type_error(_join(key_path, key), "true or false", value)
        return value

    def positive_int(self, entry: Dict[str, Any], key_path: str, key: str) -> int:
        """Return a whole number greater than zero."""
        value = entry.get(key)
        path = _join(key_path, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.type_error(path, "a whole number", value)
        if value <= 0:
            raise self.error(path, f"must be greater than 0, got {value}")
        return value

    def number(self, entry: Dict[str, Any], key_path: str, key: str) -> float:
        """Return an integer or decimal number as a float."""
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.type_error(_join(key_path, key), "a number", value)
        return float(value)

    def reference(
        self,
        entry: Dict[str, Any],
        key_path: str,
        key: str,
        departments: Mapping[str, Department],
    ) -> str:
        """Return a department id that must exist in departments.yml."""
        value = self.text(entry, key_path, key)
        if value not in departments:
            raise self.error(
                _join(key_path, key),
                f"unknown department {value!r}; add it to {_DEPARTMENTS_FILE} or use "
                "one of its ids",
            )
        return value

    def text_list(
        self,
        entry: Dict[str, Any],
        key_path: str,
        key: str,
        normalized: bool = False,
    ) -> Tuple[str, ...]:
        """Return a non-empty list of distinct, non-empty texts.

        With normalized=True every item must already be in the form that
        `normalize` produces (lower-case, no accents, no marks such as ¿ ? ¡ !),
        which is the form keywords and address words are written in.
        """
        value = entry.get(key)
        path = _join(key_path, key)
        if not isinstance(value, list):
            raise self.type_error(path, "a list", value)
        if not value:
            raise self.error(path, "must have at least one item")

        items: List[str] = []
        seen: Dict[str, int] = {}
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if not isinstance(item, str):
                raise self.type_error(item_path, "text", item)
            item = item.strip()
            comparable = normalize(item)
            if not comparable:
                raise self.error(item_path, "must not be empty")
            if normalized and item != comparable:
                raise self.error(
                    item_path,
                    f"write {item!r} lower-case, without accents or marks such as "
                    f"¿ ? ¡ !: {comparable!r}",
                )
            if comparable in seen:
                raise self.error(
                    item_path, f"duplicate of {path}[{seen[comparable]}] ({item!r})"
                )
            seen[comparable] = index
            items.append(item)
        return tuple(items)

    def keywords(self, entry: Dict[str, Any], key_path: str) -> Tuple[str, ...]:
        """Return the keywords of an entry."""
        return self.text_list(entry, key_path, "keywords", normalized=True)


def _parse_departments(file: _CatalogFile) -> Dict[str, Department]:
    root = file.root(["departments"])
    departments: Dict[str, Department] = {}
    for department_id, value, path in file.entries(root["departments"], "departments"):
        entry = file.entry(
            value,
            path,
            required=["name", "kind", "phone", "address", "hours"],
            optional=["email", "confirm"],
        )
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
        )
    return departments


def _parse_categories(
    file: _CatalogFile, departments: Mapping[str, Department]
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
    file: _CatalogFile, departments: Mapping[str, Department]
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
    file: _CatalogFile, departments: Mapping[str, Department]
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


def _parse_faqs(file: _CatalogFile) -> Tuple[Faq, ...]:
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


def _parse_places(file: _CatalogFile) -> Places:
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
    file: _CatalogFile, key_path: str, minimum: float, maximum: float, limit: float
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
    file: _CatalogFile, departments: Mapping[str, Department]
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


def _check_unique_ids(*groups: Tuple[_CatalogFile, str, Mapping[str, Any]]) -> None:
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
