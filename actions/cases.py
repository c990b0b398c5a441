"""Creating cases and looking them up for the citizen who opened them."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.db.folio import format_folio, normalize_folio, sequence_of
from actions.db.models import (
    GROUP_ANSWERED,
    GROUP_MENTIONED,
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseGroup,
    HandoffRequest,
    StatusChange,
    utc_now,
)
from actions.escalation.outbox import enqueue_case_messages

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaItem:
    """A file the citizen sent, as the channel stored it."""

    url: str
    content_type: Optional[str] = None
    path: Optional[str] = None
    size: Optional[int] = None


@dataclass
class NewCase:
    """What a confirmed request carries into the case store.

    Attributes:
        groups: Ids of the citizen's vulnerable groups (catalog/groups.yml).
        answered_groups: The groups among them that the citizen chose when
            the form asked; the others were mentioned in a message.
        priority_rules: Ids of the priority rules that applied.
        delivery, delivery_target: How the body receives the case (internal,
            email, webhook) and the e-mail address or URL.
        area, street: Zone and street keys of the address, for linking.
        linked_case_id: The open case of the same problem nearby, if any.
        in_danger: Whether the citizen said they are in danger right now;
            only the on-call channel gets it.
    """

    request_type: str
    department: str
    sender: str
    sla_hours: int
    category: Optional[str] = None
    subject: Optional[str] = None
    description: Optional[str] = None
    address: Optional[str] = None
    reference: Optional[str] = None
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    anonymous: bool = False
    contact: Optional[str] = None
    channel: Optional[str] = None
    priority: str = "normal"
    needs_escalation: bool = False
    status: str = "recibido"
    status_note: Optional[str] = None
    media: Sequence[MediaItem] = field(default_factory=tuple)
    groups: Sequence[str] = field(default_factory=tuple)
    answered_groups: Sequence[str] = field(default_factory=tuple)
    priority_rules: Sequence[str] = field(default_factory=tuple)
    delivery: str = "internal"
    delivery_target: Optional[str] = None
    area: Optional[str] = None
    street: Optional[str] = None
    linked_case_id: Optional[int] = None
    in_danger: Optional[bool] = None


def create_case(session: Session, request: NewCase) -> Case:
    """Insert a case with its history, groups, attachments and outbox rows.

    The folio's sequence is the row id, so it is unique and never reused even
    when many cases are created at once. The outbox rows (escalation to the
    on-call channel, delivery by e-mail or webhook) go into the same
    transaction, which the caller commits.
    """
    now = utc_now()
    case = Case(
        request_type=request.request_type,
        category=request.category,
        subject=request.subject,
        department=request.department,
        status=request.status,
        priority=request.priority,
        priority_rules=" ".join(request.priority_rules) or None,
        needs_escalation=request.needs_escalation,
        delivery=request.delivery,
        description=request.description,
        address=request.address,
        reference=request.reference,
        latitude=request.latitude,
        longitude=request.longitude,
        area=request.area,
        street=request.street,
        linked_case_id=request.linked_case_id,
        anonymous=request.anonymous,
        contact=request.contact,
        sender=request.sender,
        channel=request.channel,
        created_at=now,
        updated_at=now,
        due_at=now + timedelta(hours=request.sla_hours),
    )
    case.history.append(
        StatusChange(status=request.status, note=request.status_note, changed_at=now)
    )
    for item in request.media:
        case.attachments.append(
            Attachment(
                url=item.url,
                content_type=item.content_type,
                path=item.path,
                size=item.size,
            )
        )
    for group in request.groups:
        source = GROUP_ANSWERED if group in request.answered_groups else GROUP_MENTIONED
        case.groups.append(CaseGroup(group=group, source=source))
    session.add(case)
    session.flush()

    case.folio = format_folio(now.year, case.id)
    session.flush()
    enqueue_case_messages(
        session,
        case,
        escalate=request.needs_escalation,
        delivery=request.delivery,
        delivery_target=request.delivery_target,
        in_danger=request.in_danger,
    )
    logger.info(
        "Created case %s (%s, %s, %s) for %s%s",
        case.folio,
        case.request_type,
        case.category or case.subject or "-",
        case.priority,
        case.department,
        f", linked to case {case.linked_case_id}" if case.linked_case_id else "",
    )
    return case


def find_case_for_sender(session: Session, folio_text: str, sender: str) -> Optional[Case]:
    """Return the case with this folio if the sender opened it, else None.

    A mistyped folio, an unknown one and someone else's all return None, so a
    caller cannot tell them apart and a case's details reach only its owner.
    """
    folio = normalize_folio(folio_text)
    if folio is None:
        return None
    statement = (
        select(Case)
        .where(Case.id == sequence_of(folio), Case.folio == folio)
        .options(selectinload(Case.history))
    )
    case = session.execute(statement).scalar_one_or_none()
    if case is None or case.sender != sender:
        return None
    return case


def list_open_cases(session: Session, sender: str, limit: int = 5) -> List[Case]:
    """Return the sender's open cases, newest first.

    Violence cases are left out: listing them would tell whoever holds the
    phone that a report exists. Their folio still finds them.
    """
    statement = (
        select(Case)
        .where(
            Case.sender == sender,
            Case.status.in_(OPEN_STATUSES),
            Case.request_type != "violencia",
        )
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def change_status(
    session: Session, case: Case, status: str, note: Optional[str], changed_by: str
) -> None:
    """Set a case's status and append the change to its history."""
    now = utc_now()
    case.status = status
    case.updated_at = now
    case.history.append(
        StatusChange(status=status, note=note, changed_by=changed_by, changed_at=now)
    )


def record_handoff(
    session: Session,
    sender: str,
    reason: Optional[str],
    last_message: Optional[str],
    answers: Optional[str] = None,
) -> HandoffRequest:
    """Record that a citizen asked for a person, for staff to pick up.

    `reason` names the situation in a few fixed words and is logged; what the
    citizen wrote goes only in `last_message` and `answers`.
    """
    handoff = HandoffRequest(
        sender=sender, reason=reason, last_message=last_message, answers=answers
    )
    session.add(handoff)
    session.flush()
    logger.info("Recorded handoff request %s (%s)", handoff.id, reason or "-")
    return handoff


def last_update(case: Case) -> datetime:
    """Return when the case last changed."""
    return case.updated_at


def cases_of_same_problem(session: Session, case: Case) -> List[Case]:
    """Return a case with the cases linked to it, earliest first, for staff.

    Linked cases all point at the earliest case, so one query finds them.
    """
    root_id = case.linked_case_id or case.id
    statement = (
        select(Case)
        .where((Case.id == root_id) | (Case.linked_case_id == root_id))
        .order_by(Case.id)
    )
    return list(session.execute(statement).scalars())
