"""Tables of the case store: cases, their status history and attachments."""

from datetime import datetime, timezone
from typing import List, Optional

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

REQUEST_TYPES = ("reporte", "tramite", "asesoria", "consulta", "denuncia", "violencia")
STATUSES = ("recibido", "en_proceso", "canalizado", "resuelto", "cerrado")
OPEN_STATUSES = ("recibido", "en_proceso", "canalizado")
PRIORITIES = ("urgente", "alta", "normal")


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
    needs_escalation = Column(Boolean, nullable=False, default=False)
    description = Column(Text)
    address = Column(Text)
    reference = Column(Text)
    latitude = Column(Float)
    longitude = Column(Float)
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

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


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
    status = Column(String(16), nullable=False, default="pendiente")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utc_now)
