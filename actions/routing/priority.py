"""Priority of a case, from its request type, category and vulnerable groups.

The rules live in ``catalog/priority.yml``. Every rule whose conditions hold
applies: the case gets the highest priority among them, and needs escalation
to the on-call channel when any of them sets `escalate`. A higher priority shortens
the response-time target by the percentage its level sets.
"""

import math
from dataclasses import dataclass
from typing import Any, Collection, Dict, List, Mapping, Optional, Sequence, Tuple

from actions.catalog_file import CatalogFile

# Highest first. The case store uses the same three values.
PRIORITY_LEVELS = ("urgente", "alta", "normal")
DEFAULT_PRIORITY = "normal"

ANY_GROUP = "any"


@dataclass(frozen=True)
class PriorityLevel:
    """Response-time change that a priority level makes."""

    id: str
    response_time_percent: int
    max_response_hours: Optional[int]

    def response_hours(self, base_hours: int) -> int:
        """Return the response-time target for a route's target, in whole hours.

        The result is never below one hour.
        """
        hours = math.ceil(base_hours * self.response_time_percent / 100)
        if self.max_response_hours is not None:
            hours = min(hours, self.max_response_hours)
        return max(1, hours)


@dataclass(frozen=True)
class PriorityRule:
    """Conditions on a request and the priority they give it.

    An empty condition holds for every request. `groups` holds when the case
    has at least one of the listed groups; `any_group` when it has any group.
    """

    id: str
    request_types: Tuple[str, ...]
    categories: Tuple[str, ...]
    groups: Tuple[str, ...]
    any_group: bool
    priority: str
    escalate: bool

    @property
    def needs_group(self) -> bool:
        """Whether the rule applies only to people of some group."""
        return self.any_group or bool(self.groups)

    def matches_request(self, request_type: str, category: Optional[str]) -> bool:
        """Tell whether the request type and category conditions hold."""
        if self.request_types and request_type not in self.request_types:
            return False
        return not self.categories or category in self.categories

    def matches(
        self, request_type: str, category: Optional[str], groups: Collection[str]
    ) -> bool:
        """Tell whether every condition of the rule holds."""
        if not self.matches_request(request_type, category):
            return False
        if self.any_group:
            return bool(groups)
        return not self.groups or any(group in groups for group in self.groups)


@dataclass(frozen=True)
class PriorityDecision:
    """The outcome of the rules for one request.

    Attributes:
        rule_ids: Every rule that applied.
        group_rule_ids: The rules among them that depend on a group.
    """

    level: PriorityLevel
    escalate: bool
    rule_ids: Tuple[str, ...]
    group_rule_ids: Tuple[str, ...] = ()

    @property
    def priority(self) -> str:
        return self.level.id


@dataclass(frozen=True)
class PriorityRules:
    """The levels and rules of ``priority.yml``."""

    levels: Dict[str, PriorityLevel]
    rules: Tuple[PriorityRule, ...]

    def decide(
        self, request_type: str, category: Optional[str], groups: Collection[str]
    ) -> PriorityDecision:
        """Apply every rule to a request and return the resulting priority."""
        matched = [
            rule for rule in self.rules if rule.matches(request_type, category, groups)
        ]
        priority = DEFAULT_PRIORITY
        for rule in matched:
            if PRIORITY_LEVELS.index(rule.priority) < PRIORITY_LEVELS.index(priority):
                priority = rule.priority
        return PriorityDecision(
            level=self.levels[priority],
            escalate=any(rule.escalate for rule in matched),
            rule_ids=tuple(rule.id for rule in matched),
            group_rule_ids=tuple(rule.id for rule in matched if rule.needs_group),
        )

    def groups_that_matter(
        self, request_type: str, category: Optional[str], all_groups: Sequence[str]
    ) -> List[str]:
        """Return the groups that would change this request's priority.

        Args:
            request_type: The request's type.
            category: Its category, procedure or advice topic id, if any.
            all_groups: Every group id, in the order to return them.
        """
        relevant = set()
        for rule in self.rules:
            if not rule.needs_group or not rule.matches_request(request_type, category):
                continue
            relevant.update(all_groups if rule.any_group else rule.groups)
        return [group for group in all_groups if group in relevant]


def parse_priority(
    file: CatalogFile,
    request_types: Sequence[str],
    categories: Mapping[str, str],
    groups: Collection[str],
) -> PriorityRules:
    """Read ``priority.yml``.

    Args:
        file: The opened file.
        request_types: Every request type a case can have.
        categories: Request type of each id a rule may name: categories,
            procedures (tramite) and advice topics (asesoria).
        groups: The group ids of ``groups.yml``.
    """
    root = file.root(["levels", "rules"])
    levels = _parse_levels(file, root["levels"])

    items = root["rules"]
    if not isinstance(items, list):
        raise file.type_error("rules", "a list", items)
    rules: List[PriorityRule] = []
    positions: Dict[str, int] = {}
    for index, value in enumerate(items):
        path = f"rules[{index}]"
        entry = file.entry(
            value,
            path,
            required=["id", "when", "priority"],
            optional=["escalate", "confirm"],
        )
        rule_id = entry["id"]
        file.check_id(rule_id, f"{path}.id")
        if rule_id in positions:
            raise file.error(
                f"{path}.id",
                f"duplicate id {rule_id!r}, first used in rules[{positions[rule_id]}]",
            )
        positions[rule_id] = index
        rules.append(
            _parse_rule(file, entry, path, request_types, categories, groups)
        )

    if not any(_escalates_all_violence(rule) for rule in rules):
        raise file.error(
            "rules",
            "missing a rule with when: {request_types: [violencia]}, priority: "
            "urgente and escalate: true; every violence case must reach the "
            "on-call channel",
        )
    return PriorityRules(levels=levels, rules=tuple(rules))


def _escalates_all_violence(rule: PriorityRule) -> bool:
    """Tell whether a rule makes every violence case urgent and escalated."""
    return (
        rule.matches_request("violencia", None)
        and not rule.categories
        and not rule.needs_group
        and rule.priority == PRIORITY_LEVELS[0]
        and rule.escalate
    )


def _parse_levels(file: CatalogFile, value: Any) -> Dict[str, PriorityLevel]:
    entry = file.entry(value, "levels", required=PRIORITY_LEVELS, optional=())
    levels: Dict[str, PriorityLevel] = {}
    for level_id in PRIORITY_LEVELS:
        path = f"levels.{level_id}"
        level = file.entry(
            entry[level_id],
            path,
            required=["response_time_percent"],
            optional=["max_response_hours", "confirm"],
        )
        percent = file.positive_int(level, path, "response_time_percent")
        if percent > 100:
            raise file.error(
                f"{path}.response_time_percent",
                f"must be at most 100, got {percent}; a priority never lengthens "
                "the response time",
            )
        max_hours = None
        if "max_response_hours" in level:
            max_hours = file.positive_int(level, path, "max_response_hours")
        levels[level_id] = PriorityLevel(level_id, percent, max_hours)
    return levels


def _parse_rule(
    file: CatalogFile,
    entry: Dict[str, Any],
    path: str,
    request_types: Sequence[str],
    categories: Mapping[str, str],
    groups: Collection[str],
) -> PriorityRule:
    when_path = f"{path}.when"
    when = file.entry(
        entry["when"],
        when_path,
        required=[],
        optional=["request_types", "categories", "groups"],
    )
    if not when:
        raise file.error(
            when_path, "needs at least one of request_types, categories, groups"
        )

    types: Tuple[str, ...] = ()
    if "request_types" in when:
        types = file.text_list(when, when_path, "request_types")
        _check_members(file, f"{when_path}.request_types", types, request_types)

    rule_categories: Tuple[str, ...] = ()
    if "categories" in when:
        rule_categories = file.text_list(when, when_path, "categories")
        _check_members(
            file, f"{when_path}.categories", rule_categories, list(categories)
        )
        for index, category in enumerate(rule_categories):
            if types and categories[category] not in types:
                raise file.error(
                    f"{when_path}.categories[{index}]",
                    f"{category!r} is a {categories[category]}, which the rule's "
                    f"request_types ({', '.join(types)}) leave out",
                )

    rule_groups: Tuple[str, ...] = ()
    any_group = when.get("groups") == ANY_GROUP
    if "groups" in when and not any_group:
        rule_groups = file.text_list(when, when_path, "groups")
        _check_members(
            file, f"{when_path}.groups", rule_groups, [*groups], extra=ANY_GROUP
        )

    return PriorityRule(
        id=entry["id"],
        request_types=types,
        categories=rule_categories,
        groups=rule_groups,
        any_group=any_group,
        priority=file.choice(entry, path, "priority", PRIORITY_LEVELS),
        escalate=file.boolean(entry, path, "escalate"),
    )


def _check_members(
    file: CatalogFile,
    key_path: str,
    values: Sequence[str],
    allowed: Sequence[str],
    extra: Optional[str] = None,
) -> None:
    """Raise unless every value is one of the allowed ids."""
    for index, value in enumerate(values):
        if value not in allowed:
            choices = ", ".join(allowed)
            hint = f", or write {extra!r} alone instead of a list" if extra else ""
            raise file.error(
                f"{key_path}[{index}]",
                f"unknown id {value!r}; use one of {choices}{hint}",
            )
