"""Tables of the case store: cases, their history, groups, attachments and outbox."""

from datetime import datetime, timezone
from typing import List, Optional

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

REQUEST_TYPES = ("reporte", "tramite", "asesoria", "consulta", "denuncia", "violencia")
STATUSES = ("recibido", "en_proceso", "canalizado", "resuelto", "cerrado")
OPEN_STATUSES = ("recibido", "en_proceso", "canalizado")
PRIORITIES = ("urgente", "alta", "normal")
# How a case's group became known: the citizen wrote it in a message, or
# chose it when the form asked.
GROUP_MENTIONED, GROUP_ANSWERED = "mencionado", "respondido"


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class Case(Base):
    """A citizen's request with a folio, routed to one department."""

    __tablename__ = "case"
    # AUTOINCREMENT keeps SQLite from reusing the id of a deleted row, because
    # the id is the folio's sequence and a folio is never reused.
    __table_args__ = {"sqlite_autoincrement": True}

    id = Column(Integer, primary_key=True)
    folio = Column(String(24), unique=True, index=True)
    request_type = Column(String(16), nullable=False)
    category = Column(String(32))
    subject = Column(String(64))
    department = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False, default="recibido")
    priority = Column(String(16), nullable=False, default="normal")
    # Ids of the priority rules of catalog/priority.yml that applied.
    priority_rules = Column(String(255))
    needs_escalation = Column(Boolean, nullable=False, default=False)
    delivery = Column(String(16), nullable=False, default="internal")
    description = Column(Text)
    address = Column(Text)
    reference = Column(Text)
    latitude = Column(Float)
    longitude = Column(Float)
    # The zone ("sm 64", "region 94", a colonia) and the street key read from
    # the address by actions.routing.areas, for routing and linking.
    area = Column(String(64))
    street = Column(String(96), index=True)
    # The earliest open case of the same problem nearby, when this one was
    # reported after it; staff handle them together.
    linked_case_id = Column(Integer, ForeignKey("case.id"), index=True)
    anonymous = Column(Boolean, nullable=False, default=False)
    contact = Column(Text)
    sender = Column(String(64), nullable=False, index=True)
    channel = Column(String(32))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    due_at = Column(DateTime(timezone=True))

    history: List["StatusChange"] = relationship(
        "StatusChange",
        back_populates="case",
        order_by="StatusChange.id",
        cascade="all, delete-orphan",
    )
    attachments: List["Attachment"] = relationship(
        "Attachment", back_populates="case", cascade="all, delete-orphan"
    )
    groups: List["CaseGroup"] = relationship(
        "CaseGroup",
        back_populates="case",
        order_by="CaseGroup.id",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def group_ids(self) -> List[str]:
        """Return the ids of the case's vulnerable groups."""
        return [entry.group for entry in self.groups]


class StatusChange(Base):
    """One entry of a case's status history, written with every change."""

    __tablename__ = "case_status_history"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("case.id"), nullable=False, index=True)
    status = Column(String(16), nullable=False)
    note = Column(Text)
    changed_by = Column(String(64), nullable=False, default="chatcun")
    changed_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)

    case: Optional[Case] = relationship("Case", back_populates="history")


class Attachment(Base):
    """A photo, video, voice note or document the citizen sent with a case."""

    __tablename__ = "case_attachment"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("case.id"), nullable=False, index=True)
    url = Column(Text, nullable=False)
    content_type = Column(String(128))
    path = Column(Text)
    size = Column(Integer)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)

    case: Optional[Case] = relationship("Case", back_populates="attachments")


class HandoffRequest(Base):
    """A citizen's request to talk to a person, for staff to pick up."""

    __tablename__ = "handoff_request"

    id = Column(Integer, primary_key=True)
    sender = Column(String(64), nullable=False, index=True)
    reason = Column(Text)
    last_message = Column(Text)
    # The form answers collected before the handoff, so that staff do not ask
    # for them again.
    answers = Column(Text)
    status = Column(String(16), nullable=False, default="pendiente")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)


class CaseGroup(Base):
    """A vulnerable group (catalog/groups.yml) that a case's citizen belongs to."""

    __tablename__ = "case_group"
    __table_args__ = (UniqueConstraint("case_id", "group", name="uq_case_group"),)

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("case.id"), nullable=False, index=True)
    group = Column(String(32), nullable=False)
    source = Column(String(16), nullable=False)

    case: Optional[Case] = relationship("Case", back_populates="groups")


class OutboxMessage(Base):
    """A case to send to one receiver, written in the case's own transaction.

    The delivery worker (actions.escalation.worker) sends it, retrying until
    the receiver acknowledges it. There is one row per case and receiver, so
    nothing is sent twice to the same receiver for the same case.

    Attributes:
        receiver: `oncall_webhook`, `oncall_whatsapp`, or `email:<department>`
            and `webhook:<department>` for the body that handles the case.
        target: The e-mail address or URL of a department's receiver.
        payload: JSON snapshot of the case, taken when it was created.
        claimed_by, claimed_until: The worker that claimed the row, and until
            when; another worker takes it over once that time has passed.
        sending_since: When the current attempt started, None between
            attempts; a value left by a stopped worker marks an attempt whose
            outcome is unknown.
        uncertain: Whether an earlier attempt may have reached the receiver
            without its acknowledgement reaching us.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("case_id", "receiver", name="uq_outbox_case_receiver"),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("case.id"), nullable=False, index=True)
    folio = Column(String(24), nullable=False)
    kind = Column(String(16), nullable=False)
    receiver = Column(String(64), nullable=False)
    target = Column(Text)
    payload = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    claimed_by = Column(String(64))
    claimed_until = Column(DateTime(timezone=True))
    sending_since = Column(DateTime(timezone=True))
    uncertain = Column(Boolean, nullable=False, default=False)
    last_error = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
    delivered_at = Column(DateTime(timezone=True))
