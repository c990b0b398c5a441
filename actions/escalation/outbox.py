"""The outbox table: writing messages with a case, and claiming them to send.

Rows are written by `enqueue_case_messages` inside the transaction that
creates the case, so a case and its messages are stored together or not at
all. Workers claim rows with a lease: a conditional UPDATE that only succeeds
while nobody else holds the row, preceded on PostgreSQL by
``SELECT … FOR UPDATE SKIP LOCKED`` so that concurrent workers pick
different rows instead of waiting on each other.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import case as sql_case
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from actions.db.models import Case, OutboxMessage
from actions.db.session import session_scope

logger = logging.getLogger(__name__)

ONCALL_WEBHOOK = "oncall_webhook"
ONCALL_WHATSAPP = "oncall_whatsapp"
ESCALATION_RECEIVERS = (ONCALL_WEBHOOK, ONCALL_WHATSAPP)

PENDING, DELIVERED, SKIPPED = "pending", "delivered", "skipped"
ESCALATION, DELIVERY = "escalation", "delivery"


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """Return a stored time as aware UTC; SQLite returns naive UTC values."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def case_snapshot(case: Case, in_danger: Optional[bool] = None) -> Dict[str, Any]:
    """Return the case fields a receiver gets, as JSON-ready values."""
    return {
        "folio": case.folio,
        "request_type": case.request_type,
        "category": case.category or case.subject,
        "department": case.department,
        "status": case.status,
        "priority": case.priority,
        "priority_rules": (case.priority_rules or "").split() or [],
        "groups": case.group_ids,
        "in_danger": in_danger,
        "description": case.description,
        "address": case.address,
        "reference": case.reference,
        "latitude": case.latitude,
        "longitude": case.longitude,
        "anonymous": case.anonymous,
        # The citizen's number stays out of anonymous complaints.
        "sender": None if case.anonymous else case.sender,
        "safe_contact": case.contact,
        "channel": case.channel,
        "linked_case_id": case.linked_case_id,
        "attachments": [attachment.url for attachment in case.attachments],
        "created_at": as_utc(case.created_at).isoformat(),
        "due_at": as_utc(case.due_at).isoformat() if case.due_at else None,
    }


def enqueue_case_messages(
    session: Session,
    case: Case,
    escalate: bool,
    delivery: str,
    delivery_target: Optional[str],
    in_danger: Optional[bool] = None,
) -> List[OutboxMessage]:
    """Add the outbox rows of a new case to the caller's transaction.

    Args:
        session: The session that created the case, not yet committed.
        case: The case, flushed so that it has an id and a folio.
        escalate: Whether to alert the on-call channel.
        delivery: How the case's body receives cases (internal, email,
            webhook); internal adds no row.
        delivery_target: The body's e-mail address or webhook URL.
        in_danger: The citizen's answer to "are you in danger now", for the
            on-call channel.
    """
    payload = json.dumps(case_snapshot(case, in_danger), ensure_ascii=False)
    receivers = []
    if escalate:
        receivers += [(ESCALATION, receiver, None) for receiver in ESCALATION_RECEIVERS]
    if delivery in ("email", "webhook"):
        receivers.append((DELIVERY, f"{delivery}:{case.department}", delivery_target))

    messages = [
        OutboxMessage(
            case_id=case.id,
            folio=case.folio,
            kind=kind,
            receiver=receiver,
            target=target,
            payload=payload,
            status=PENDING,
            attempts=0,
            uncertain=False,
            next_attempt_at=case.created_at,
            created_at=case.created_at,
        )
        for kind, receiver, target in receivers
    ]
    session.add_all(messages)
    session.flush()
    for message in messages:
        logger.info("Queued case %s for %s", case.folio, message.receiver)
    return messages


@dataclass(frozen=True)
class ClaimedMessage:
    """An outbox row that one worker has claimed until `lease_until`."""

    id: int
    case_id: int
    folio: str
    kind: str
    receiver: str
    target: Optional[str]
    payload: Dict[str, Any]
    attempts: int
    uncertain: bool
    created_at: datetime
    lease_until: datetime

    @property
    def delivery_id(self) -> str:
        """Return the id a receiver uses to recognize a repeated delivery."""
        return f"{self.folio}/{self.receiver}"


def claim_due_messages(
    worker_id: str, now: datetime, lease: timedelta, limit: int
) -> List[ClaimedMessage]:
    """Claim up to `limit` pending rows that are due, escalations first.

    A row whose previous attempt never finished (its worker stopped while
    sending) is marked uncertain, because the receiver may have got it.
    """
    lease_until = now + lease
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    with session_scope() as session:
        candidates = session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
                free,
            )
            .order_by(
                sql_case((OutboxMessage.kind == ESCALATION, 0), else_=1),
                OutboxMessage.next_attempt_at,
                OutboxMessage.id,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars().all()

        claimed_ids = []
        for message_id in candidates:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == PENDING,
                    free,
                )
                .values(
                    claimed_by=worker_id,
                    claimed_until=lease_until,
                    uncertain=sql_case(
                        (OutboxMessage.sending_since.isnot(None), True),
                        else_=OutboxMessage.uncertain,
                    ),
                    sending_since=None,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed_ids.append(message_id)

        rows = session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed_ids))
            .order_by(
                sql_case((OutboxMessage.kind == ESCALATION, 0), else_=1),
                OutboxMessage.id,
            )
        ).scalars()
        return [_claimed(row, lease_until) for row in rows]


def _claimed(row: OutboxMessage, lease_until: datetime) -> ClaimedMessage:
    return ClaimedMessage(
        id=row.id,
        case_id=row.case_id,
        folio=row.folio,
        kind=row.kind,
        receiver=row.receiver,
        target=row.target,
        payload=json.loads(row.payload),
        attempts=row.attempts,
        uncertain=bool(row.uncertain),
        created_at=as_utc(row.created_at),
        lease_until=lease_until,
    )


def start_attempt(
    message: ClaimedMessage, worker_id: str, now: datetime, lease: timedelta
) -> bool:
    """Record that an attempt starts; False if the worker lost the row.

    The lease starts again, so that it covers the whole attempt even when
    the row waited in a batch. From here until the attempt is recorded, a stop
    of the worker leaves `sending_since` set, which marks the outcome as
    unknown for the next worker.
    """
    return _update_held(
        message,
        worker_id,
        sending_since=now,
        claimed_until=now + lease,
        attempts=OutboxMessage.attempts + 1,
    )


def record_delivered(message: ClaimedMessage, worker_id: str, now: datetime) -> bool:
    """Mark a row delivered and release it; False if the worker lost the row."""
    return _update_held(
        message,
        worker_id,
        status=DELIVERED,
        delivered_at=now,
        sending_since=None,
        claimed_until=None,
        last_error=None,
    )


def record_failure(
    message: ClaimedMessage,
    worker_id: str,
    error: str,
    retry_at: datetime,
    uncertain: bool,
) -> bool:
    """Schedule the next attempt after a failed one and release the row."""
    values: Dict[str, Any] = {
        "next_attempt_at": retry_at,
        "sending_since": None,
        "claimed_until": None,
        "last_error": error[:2000],
    }
    if uncertain:
        values["uncertain"] = True
    return _update_held(message, worker_id, **values)


def record_skipped(message: ClaimedMessage, worker_id: str, reason: str) -> bool:
    """Mark a row that no receiver is configured for, so it is never sent."""
    return _update_held(
        message,
        worker_id,
        status=SKIPPED,
        sending_since=None,
        claimed_until=None,
        last_error=reason,
    )


def release(message: ClaimedMessage, worker_id: str) -> bool:
    """Give a claimed row back untouched, for a worker that is stopping."""
    return _update_held(message, worker_id, claimed_until=None)


def _update_held(message: ClaimedMessage, worker_id: str, **values: Any) -> bool:
    """Update a row only while this worker still has it claimed."""
    with session_scope() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.claimed_by == worker_id,
                OutboxMessage.status == PENDING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        held = result.rowcount == 1
    if not held:
        logger.warning(
            "Outbox row %s (case %s, %s) was taken over by another worker",
            message.id,
            message.folio,
            message.receiver,
        )
    return held
