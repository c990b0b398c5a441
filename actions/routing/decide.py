"""Everything routing decides for one request, in the fields a case stores."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence

from actions.routing.areas import read_area, street_key
from actions.routing.priority import PriorityDecision
from actions.routing.table import Route, resolve_route

if TYPE_CHECKING:
    from actions.catalog import Catalog

REFERRED = "canalizado"
RECEIVED = "recibido"


@dataclass(frozen=True)
class RoutingDecision:
    """The route, priority and place keys of one request.

    Attributes:
        sla_hours: The response-time target after the priority shortened it.
    """

    route: Route
    priority: PriorityDecision
    sla_hours: int
    area: Optional[str]
    street: Optional[str]

    @property
    def raised_by_group(self) -> bool:
        """Whether a rule that depends on a group raised the priority."""
        return self.priority.priority != "normal" and bool(self.priority.group_rule_ids)

    def case_fields(self) -> Dict[str, Any]:
        """Return the `NewCase` fields that routing decides."""
        route = self.route
        return {
            "department": route.department.id,
            "sla_hours": self.sla_hours,
            "priority": self.priority.priority,
            "needs_escalation": self.priority.escalate,
            "priority_rules": self.priority.rule_ids,
            "delivery": route.delivery.method,
            "delivery_target": route.delivery_target,
            "status": REFERRED if route.is_referral else RECEIVED,
            "area": self.area,
            "street": self.street,
        }


def decide_routing(
    catalog: "Catalog",
    request_type: str,
    category: Optional[str],
    address: Optional[str],
    groups: Sequence[str],
) -> RoutingDecision:
    """Route a request and compute its priority and response-time target.

    Args:
        catalog: The loaded catalog.
        request_type: One of the six case request types.
        category: The category, procedure or advice topic id, if any.
        address: The address as written, or None.
        groups: The citizen's vulnerable groups.
    """
    route = resolve_route(catalog, request_type, category, address, groups)
    priority = catalog.priority.decide(request_type, route.category, groups)
    return RoutingDecision(
        route=route,
        priority=priority,
        sla_hours=priority.level.response_hours(route.sla_hours),
        area=read_area(address, catalog.places).key,
        street=street_key(address, catalog.places),
    )
