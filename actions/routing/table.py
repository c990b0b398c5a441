"""The routing table: which body handles each request and how it gets the case.

Who handles a kind of request and the response-time target are set where the
kind is defined: ``categories.yml`` (reportes and denuncias),
``procedures.yml`` (trámites), ``advice.yml`` (asesorías) and
``service.yml`` (consultas and violence). ``routing.yml`` adds how each body
receives its cases (`internal`, `email` or `webhook`) and what the citizen
should have at hand when calling an outside agency. It also lists the zones
where another body takes a category over, and when a new report joins an
open one nearby.

Run ``python -m actions.routing`` to print the resulting table.
"""

from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    FrozenSet,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

from actions.catalog_file import CatalogFile
from actions.routing.areas import Area, read_area
from actions.text import normalize

if TYPE_CHECKING:  # the catalog imports this module while it loads
    from actions.catalog import Catalog, Department, Places

# Every type a case can have, in the order of the main menu.
CASE_REQUEST_TYPES = (
    "reporte",
    "tramite",
    "asesoria",
    "consulta",
    "denuncia",
    "violencia",
)
DELIVERY_METHODS = ("internal", "email", "webhook")


@dataclass(frozen=True)
class BodyDelivery:
    """Delivery settings of one body.

    Attributes:
        method: `internal` (staff read the case store), `email` or `webhook`.
        email: Address for `email`; the department's e-mail when not set.
        webhook_url: URL that receives a signed JSON POST for `webhook`.
        have_at_hand: For an outside agency, what the citizen should have at
            hand when calling it.
    """

    department: str
    method: str = "internal"
    email: Optional[str] = None
    webhook_url: Optional[str] = None
    have_at_hand: Optional[str] = None


@dataclass(frozen=True)
class AreaRule:
    """Another body takes some requests over in some zones.

    A rule applies when the request matches `request_types` and `categories`
    (each empty means any) and its address is in one of the SMs, regiones or
    colonias listed.
    """

    index: int
    to: str
    request_types: Tuple[str, ...]
    categories: Tuple[str, ...]
    sm: FrozenSet[int]
    regions: FrozenSet[int]
    colonias: FrozenSet[str]
    citizen_note: Optional[str]

    def applies(self, request_type: str, category: Optional[str], area: Area) -> bool:
        """Tell whether the rule covers this request in this zone."""
        if self.request_types and request_type not in self.request_types:
            return False
        if self.categories and category not in self.categories:
            return False
        return (
            (area.sm is not None and area.sm in self.sm)
            or (area.region is not None and area.region in self.regions)
            or (area.colonia is not None and area.colonia in self.colonias)
        )


@dataclass(frozen=True)
class Linking:
    """When a new report joins an open one of the same category nearby."""

    request_types: Tuple[str, ...]
    days: int
    distance_meters: int


@dataclass(frozen=True)
class RoutingTable:
    """The contents of ``routing.yml``."""

    bodies: Dict[str, BodyDelivery]
    areas: Tuple[AreaRule, ...]
    linking: Linking

    def delivery_for(self, department_id: str) -> BodyDelivery:
        """Return how a body receives cases; `internal` when it is not listed."""
        return self.bodies.get(department_id) or BodyDelivery(department_id)


@dataclass(frozen=True)
class Route:
    """Destination of one request, and the note the citizen reads about it.

    Attributes:
        category: The category, procedure or advice topic id, if the request
            type has one.
        sla_hours: The response-time target before priority shortens it.
        area_rule: Position of the `areas` rule that chose the body, if any.
    """

    request_type: str
    category: Optional[str]
    department: "Department"
    delivery: BodyDelivery
    sla_hours: int
    citizen_note: Optional[str]
    area_rule: Optional[int] = None

    @property
    def is_referral(self) -> bool:
        """Whether an outside agency handles it, so the case is "canalizado"."""
        return self.department.is_external

    @property
    def delivery_target(self) -> Optional[str]:
        """Return the e-mail address or URL the case is sent to, if any."""
        if self.delivery.method == "email":
            return self.delivery.email or self.department.email
        if self.delivery.method == "webhook":
            return self.delivery.webhook_url
        return None


def resolve_route(
    catalog: "Catalog",
    request_type: str,
    category: Optional[str] = None,
    address: Optional[str] = None,
    groups: Sequence[str] = (),
) -> Route:
    """Return the route of a request: its body, delivery and response time.

    Args:
        catalog: The loaded catalog.
        request_type: One of `CASE_REQUEST_TYPES`.
        category: The category (reporte, denuncia), procedure (tramite) or
            advice topic (asesoria) id; ignored for consulta and violencia.
        address: The address as written, which may put the request in a zone
            with another body.
        groups: The citizen's vulnerable groups; violence against a child
            goes to the body that protects children.

    Raises:
        KeyError: If the request type needs a category and it is unknown.
    """
    department_id, sla_hours, note = _default_route(
        catalog, request_type, category, groups
    )
    if request_type in ("consulta", "violencia"):
        category = None

    area_rule = None
    area = read_area(address, catalog.places)
    for rule in catalog.routing.areas:
        if rule.applies(request_type, category, area):
            department_id = rule.to
            note = rule.citizen_note or note
            area_rule = rule.index
            break

    return Route(
        request_type=request_type,
        category=category,
        department=catalog.departments[department_id],
        delivery=catalog.routing.delivery_for(department_id),
        sla_hours=sla_hours,
        citizen_note=note,
        area_rule=area_rule,
    )


def _default_route(
    catalog: "Catalog",
    request_type: str,
    category: Optional[str],
    groups: Sequence[str],
) -> Tuple[str, int, Optional[str]]:
    """Return (department id, response hours, citizen note) before zones."""
    if request_type in ("reporte", "denuncia"):
        entry = catalog.categories[category or ""]
        return entry.department, entry.sla_hours, entry.citizen_note
    if request_type == "tramite":
        procedure = catalog.procedures[category or ""]
        return procedure.department, procedure.sla_hours, None
    if request_type == "asesoria":
        topic = catalog.advice_topics[category or ""]
        return topic.department, topic.sla_hours, None
    if request_type in ("consulta", "violencia"):
        prefix = "information" if request_type == "consulta" else "violence"
        service = catalog.service
        department = service[f"{prefix}_department"]
        if request_type == "violencia":
            by_group = service["violence_department_by_group"]
            department = next(
                (by_group[group] for group in groups if group in by_group), department
            )
        return department, service[f"{prefix}_sla_hours"], None
    raise KeyError(f"unknown request type {request_type!r}")


def all_routes(catalog: "Catalog") -> List[Route]:
    """Return the route of every request type and category, without zones."""
    routes: List[Route] = []
    for category in catalog.categories.values():
        routes.append(resolve_route(catalog, category.request_type, category.id))
    for procedure_id in catalog.procedures:
        routes.append(resolve_route(catalog, "tramite", procedure_id))
    for topic_id in catalog.advice_topics:
        routes.append(resolve_route(catalog, "asesoria", topic_id))
    routes.append(resolve_route(catalog, "consulta"))
    routes.append(resolve_route(catalog, "violencia"))
    return routes


def parse_routing(
    file: CatalogFile,
    departments: Mapping[str, "Department"],
    categories: Mapping[str, str],
    places: "Places",
) -> RoutingTable:
    """Read ``routing.yml``.

    Args:
        file: The opened file.
        departments: The departments of ``departments.yml``.
        categories: Request type of each category, procedure and advice topic.
        places: The place names, to check the colonias of zone rules.
    """
    root = file.root(["bodies", "areas", "linking"])
    bodies = _parse_bodies(file, root["bodies"], departments)
    areas = _parse_areas(file, root["areas"], departments, categories, places)
    linking = _parse_linking(file, root["linking"])

    for department in departments.values():
        delivery = bodies.get(department.id)
        if department.is_external and (delivery is None or not delivery.have_at_hand):
            raise file.error(
                f"bodies.{department.id}.have_at_hand",
                f"missing required key: {department.id!r} is an outside agency, so "
                "tell the citizen what to have at hand when calling it",
            )
    return RoutingTable(bodies=bodies, areas=areas, linking=linking)


def _parse_bodies(
    file: CatalogFile, value: Any, departments: Mapping[str, "Department"]
) -> Dict[str, BodyDelivery]:
    bodies: Dict[str, BodyDelivery] = {}
    for department_id, item, path in file.entries(value, "bodies"):
        if department_id not in departments:
            raise file.error(
                path, "unknown department; use an id from departments.yml"
            )
        entry = file.entry(
            item,
            path,
            required=["delivery"],
            optional=["email", "webhook_url", "have_at_hand", "confirm"],
        )
        method = file.choice(entry, path, "delivery", DELIVERY_METHODS)
        email = file.optional_text(entry, path, "email")
        webhook_url = file.optional_text(entry, path, "webhook_url")
        if email is not None and "@" not in email:
            raise file.error(f"{path}.email", f"invalid e-mail address {email!r}")
        if method == "email" and not (email or departments[department_id].email):
            raise file.error(
                f"{path}.email",
                "missing required key: delivery is email and the department has "
                "no e-mail in departments.yml",
            )
        if method == "webhook" and webhook_url is None:
            raise file.error(
                f"{path}.webhook_url", "missing required key: delivery is webhook"
            )
        if webhook_url is not None and not webhook_url.startswith(
            ("https://", "http://")
        ):
            raise file.error(
                f"{path}.webhook_url",
                f"invalid URL {webhook_url!r}; it must start with https://",
            )
        bodies[department_id] = BodyDelivery(
            department=department_id,
            method=method,
            email=email,
            webhook_url=webhook_url,
            have_at_hand=file.optional_text(entry, path, "have_at_hand"),
        )
    return bodies


def _parse_areas(
    file: CatalogFile,
    value: Any,
    departments: Mapping[str, "Department"],
    categories: Mapping[str, str],
    places: "Places",
) -> Tuple[AreaRule, ...]:
    if not isinstance(value, list):
        raise file.type_error("areas", "a list", value)
    neighborhoods = {normalize(name): name for name in places.neighborhoods}
    rules: List[AreaRule] = []
    for index, item in enumerate(value):
        path = f"areas[{index}]"
        entry = file.entry(
            item,
            path,
            required=["to"],
            optional=[
                "request_types",
                "categories",
                "sm",
                "regions",
                "colonias",
                "citizen_note",
                "confirm",
            ],
        )
        if "request_types" not in entry and "categories" not in entry:
            raise file.error(
                path,
                "needs request_types or categories, so that a zone never takes "
                "over every kind of request by mistake",
            )
        if not any(key in entry for key in ("sm", "regions", "colonias")):
            raise file.error(path, "needs at least one of sm, regions, colonias")

        request_types: Tuple[str, ...] = ()
        if "request_types" in entry:
            request_types = file.text_list(entry, path, "request_types")
            _check_listed(
                file, path, "request_types", request_types, CASE_REQUEST_TYPES
            )
        rule_categories: Tuple[str, ...] = ()
        if "categories" in entry:
            rule_categories = file.text_list(entry, path, "categories")
            _check_listed(file, path, "categories", rule_categories, list(categories))
        colonias: Tuple[str, ...] = ()
        if "colonias" in entry:
            colonias = file.text_list(entry, path, "colonias")
            for position, name in enumerate(colonias):
                if normalize(name) not in neighborhoods:
                    raise file.error(
                        f"{path}.colonias[{position}]",
                        f"unknown colonia {name!r}; add it to neighborhoods in "
                        "places.yml first",
                    )

        rules.append(
            AreaRule(
                index=index,
                to=file.reference(entry, path, "to", departments),
                request_types=request_types,
                categories=rule_categories,
                sm=_number_set(file, entry, path, "sm"),
                regions=_number_set(file, entry, path, "regions"),
                colonias=frozenset(normalize(name) for name in colonias),
                citizen_note=file.optional_text(entry, path, "citizen_note"),
            )
        )
    return tuple(rules)


def _parse_linking(file: CatalogFile, value: Any) -> Linking:
    entry = file.entry(
        value,
        "linking",
        required=["request_types", "days", "distance_meters"],
        optional=(),
    )
    request_types = file.text_list(entry, "linking", "request_types")
    _check_listed(
        file, "linking", "request_types", request_types, ("reporte", "denuncia")
    )
    return Linking(
        request_types=request_types,
        days=file.positive_int(entry, "linking", "days"),
        distance_meters=file.positive_int(entry, "linking", "distance_meters"),
    )


def _check_listed(
    file: CatalogFile,
    path: str,
    key: str,
    values: Tuple[str, ...],
    allowed: Any,
) -> None:
    for position, value in enumerate(values):
        if value not in allowed:
            raise file.error(
                f"{path}.{key}[{position}]",
                f"unknown id {value!r}; use one of {', '.join(allowed)}",
            )


def _number_set(
    file: CatalogFile, entry: Dict[str, Any], path: str, key: str
) -> FrozenSet[int]:
    """Return a list of SM or región numbers as a set; empty when absent."""
    if key not in entry:
        return frozenset()
    value = entry[key]
    if not isinstance(value, list) or not value:
        raise file.type_error(f"{path}.{key}", "a non-empty list of numbers", value)
    numbers = set()
    for position, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise file.type_error(
                f"{path}.{key}[{position}]", "a whole number above 0", number
            )
        numbers.add(number)
    return frozenset(numbers)


def format_table(routes: List[Route]) -> str:
    """Format routes as aligned text columns for a terminal."""
    header = ("request type", "category", "body", "delivery", "hours", "referral")
    rows = [header] + [
        (
            route.request_type,
            route.category or "-",
            route.department.id,
            route.delivery.method,
            str(route.sla_hours),
            "yes" if route.is_referral else "no",
        )
        for route in routes
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in rows
    )
