"""Vulnerable groups and the service directory offered to them.

A group is recognized when any message of the conversation contains one of
its keywords (``catalog/groups.yml``), written the way people type, so a
designer can add a phrase without retraining the model. The directory
(``catalog/directory.yml``) lists health, security, social assistance and
legal advice services, each for one or more groups.
"""

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from actions.catalog_file import CatalogFile
from actions.text import contains_keyword, normalize, numbered_list

# The value stored when the citizen chooses none of the groups, or prefers
# not to say.
NO_GROUP = "ninguno"
NO_GROUP_OPTION = "Ninguna o prefiero no decir"
NO_GROUP_WORDS = frozenset(
    {
        "no",
        "nop",
        "nel",
        "ninguna",
        "ninguno",
        "nada",
        "ninguna de esas",
        "prefiero no decir",
        "prefiero no",
        "no quiero decir",
        "paso",
        "no aplica",
    }
)
# One or more option numbers: "2", "1 y 3", "1, 2".
_OPTION_NUMBERS = re.compile(r"\d{1,2}(?:\s*(?:,|y|e)?\s*\d{1,2})*")

SERVICE_KINDS = ("salud", "seguridad", "asistencia_social", "asesoria_legal")
SERVICE_KIND_LABELS = {
    "salud": "salud",
    "seguridad": "seguridad",
    "asistencia_social": "asistencia social",
    "asesoria_legal": "asesoría legal",
}

# Events after which Rasa starts the conversation over.
_CONVERSATION_START_EVENTS = ("session_started", "restart")


@dataclass(frozen=True)
class Group:
    """A vulnerable group that the assistant recognizes and may ask about.

    Attributes:
        question_option: Text of the group's option when a form asks the
            citizen, or None for a group that is only recognized when the
            citizen mentions it and never asked about.
    """

    id: str
    label: str
    question_option: Optional[str]
    keywords: Tuple[str, ...]

    def is_mentioned_in(self, text: str) -> bool:
        """Tell whether the text contains one of the group's keywords."""
        normalized = normalize(text)
        return any(contains_keyword(normalized, keyword) for keyword in self.keywords)


@dataclass(frozen=True)
class DirectoryEntry:
    """A service offered to people of some groups, with how to reach it."""

    id: str
    name: str
    service: str
    groups: Tuple[str, ...]
    phone: str
    address: str
    hours: str
    description: Optional[str]

    def describe(self) -> str:
        """Format the entry as a few short lines for WhatsApp."""
        kind = SERVICE_KIND_LABELS[self.service]
        lines = [f"• *{self.name}* ({kind})"]
        if self.description:
            lines.append(f"  {self.description}")
        lines.append(f"  📞 {self.phone}. {self.hours}")
        lines.append(f"  📍 {self.address}")
        return "\n".join(lines)


def groups_in_text(text: Optional[str], groups: Mapping[str, Group]) -> List[str]:
    """Return the ids of the groups a text mentions, in catalog order."""
    if not text:
        return []
    return [group.id for group in groups.values() if group.is_mentioned_in(text)]


def question_options(groups: Mapping[str, Group], choices: Sequence[str]) -> str:
    """Return the numbered options of the question about some groups."""
    labels = []
    for group_id in choices:
        group = groups[group_id]
        labels.append(group.question_option or group.label)
    return numbered_list(labels + [NO_GROUP_OPTION])


def read_group_answer(
    text: Optional[str], choices: Sequence[str], groups: Mapping[str, Group]
) -> Optional[List[str]]:
    """Read the answer to the question about groups.

    Args:
        text: The reply: option numbers ("1 y 3"), "no", or words that name
            a group, which may be one that was not offered.
        choices: The groups offered, in the order of the options; the next
            number is "none".
        groups: Every group of the catalog.

    Returns:
        The chosen group ids, an empty list for none, or None when the reply
        cannot be read.
    """
    normalized = normalize(text).strip(" .")
    if _OPTION_NUMBERS.fullmatch(normalized):
        numbers = [int(number) for number in re.findall(r"\d+", normalized)]
        if not all(1 <= number <= len(choices) + 1 for number in numbers):
            return None
        chosen = [choices[number - 1] for number in numbers if number <= len(choices)]
        return list(dict.fromkeys(chosen))
    if normalized in NO_GROUP_WORDS:
        return []
    return groups_in_text(text, groups) or None


def conversation_texts(events: Iterable[Dict[str, Any]]) -> List[str]:
    """Return what the citizen wrote since the conversation last started."""
    texts: List[str] = []
    for event in events:
        name = event.get("event")
        if name in _CONVERSATION_START_EVENTS:
            texts = []
        elif name == "user" and event.get("text"):
            texts.append(event["text"])
    return texts


def groups_in_conversation(
    events: Iterable[Dict[str, Any]], groups: Mapping[str, Group]
) -> List[str]:
    """Return the ids of the groups mentioned in any message of the conversation."""
    found = set()
    for text in conversation_texts(events):
        found.update(groups_in_text(text, groups))
    return [group_id for group_id in groups if group_id in found]


def services_for(
    directory: Mapping[str, DirectoryEntry], group_ids: Sequence[str], limit: int
) -> List[DirectoryEntry]:
    """Return up to `limit` directory entries for the groups, in file order.

    Entries are taken group by group, in the order of `group_ids`, so the
    first group named gets its services first.
    """
    chosen: List[DirectoryEntry] = []
    for group_id in group_ids:
        for entry in directory.values():
            if group_id in entry.groups and entry not in chosen:
                chosen.append(entry)
    return chosen[:limit]


def parse_groups(file: CatalogFile) -> Dict[str, Group]:
    """Read ``groups.yml``: each group's label, question option and keywords."""
    root = file.root(["groups"])
    groups: Dict[str, Group] = {}
    for group_id, value, path in file.entries(root["groups"], "groups"):
        if group_id == NO_GROUP:
            raise file.error(path, f"the id {NO_GROUP!r} is reserved for no group")
        entry = file.entry(
            value, path, required=["label", "keywords"], optional=["ask", "confirm"]
        )
        groups[group_id] = Group(
            id=group_id,
            label=file.text(entry, path, "label", max_length=60),
            question_option=file.optional_text(entry, path, "ask"),
            keywords=file.keywords(entry, path),
        )
    return groups


def parse_directory(
    file: CatalogFile,
    groups: Mapping[str, Group],
    departments: Mapping[str, Any],
) -> Dict[str, DirectoryEntry]:
    """Read ``directory.yml``: services with their groups and contact details.

    An entry that names a `department` takes its phone, address and hours
    from ``departments.yml`` and may not repeat them.
    """
    root = file.root(["services"])
    entries: Dict[str, DirectoryEntry] = {}
    for entry_id, value, path in file.entries(root["services"], "services"):
        if isinstance(value, dict) and "department" in value:
            entry = file.entry(
                value,
                path,
                required=["department", "service", "groups"],
                optional=["name", "description", "confirm"],
            )
            department_id = file.reference(entry, path, "department", departments)
            department = departments[department_id]
            name = file.optional_text(entry, path, "name") or department.name
            phone = department.phone
            address = department.address
            hours = department.hours
        else:
            entry = file.entry(
                value,
                path,
                required=["name", "service", "groups", "phone", "address", "hours"],
                optional=["description", "confirm"],
            )
            name = file.text(entry, path, "name")
            phone = file.text(entry, path, "phone")
            address = file.text(entry, path, "address")
            hours = file.text(entry, path, "hours")

        entries[entry_id] = DirectoryEntry(
            id=entry_id,
            name=name,
            service=file.choice(entry, path, "service", SERVICE_KINDS),
            groups=_group_ids(file, entry, path, groups),
            phone=phone,
            address=address,
            hours=hours,
            description=file.optional_text(entry, path, "description"),
        )

    uncovered = [
        group_id
        for group_id in groups
        if not any(group_id in entry.groups for entry in entries.values())
    ]
    if uncovered:
        raise file.error(
            "services",
            f"no service for the groups {', '.join(uncovered)}; every group in "
            "groups.yml needs at least one",
        )
    return entries


def _group_ids(
    file: CatalogFile, entry: Dict[str, Any], path: str, groups: Mapping[str, Group]
) -> Tuple[str, ...]:
    """Return the `groups` list of an entry, each an id from groups.yml."""
    ids = file.text_list(entry, path, "groups")
    for index, group_id in enumerate(ids):
        if group_id not in groups:
            raise file.error(
                f"{path}.groups[{index}]",
                f"unknown group {group_id!r}; use one of {', '.join(groups)}",
            )
    return ids
