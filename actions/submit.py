"""What happens when a form ends: a case, a person, or nothing at all."""

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.cases import MediaItem, NewCase, create_case, record_handoff
from actions.catalog import Catalog, get_catalog
from actions.db.session import PROJECT_ROOT, session_scope
from actions.forms.base import (
    CONFIRM_CANCEL,
    CONFIRM_SEND,
    WAY_OUT_CANCEL,
    WAY_OUT_HUMAN,
)
from actions.forms.status import reply_with_case

logger = logging.getLogger(__name__)

# Slots that belong to one request and are emptied when it ends.
REQUEST_SLOTS = (
    "category",
    "description",
    "address",
    "reference",
    "latitude",
    "longitude",
    "anonymous",
    "procedure",
    "advice_topic",
    "question",
    "wants_contact",
    "in_danger",
    "safe_contact",
    "confirmation",
    "way_out",
    "folio",
)

REQUEST_TYPE_OF_FORM = {
    "report_form": "reporte",
    "complaint_form": "denuncia",
    "procedure_form": "tramite",
    "advice_form": "asesoria",
    "information_form": "consulta",
    "violence_form": "violencia",
}


def reset_request_events(include_attachments: bool = True) -> List[EventType]:
    """Return the events that empty every slot of the current request."""
    events: List[EventType] = [SlotSet(slot, None) for slot in REQUEST_SLOTS]
    events.append(SlotSet("invalid_attempts", 0))
    if include_attachments:
        events.append(SlotSet("attachments", None))
    return events


def finished_form(tracker: Tracker) -> Optional[Text]:
    """Return the name of the form that was active last."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return event["name"]
    return None


def format_response_time(hours: int) -> Text:
    """Format a response-time target the way people say it."""
    if hours < 24:
        return "1 hora" if hours == 1 else f"{hours} horas"
    days = round(hours / 24)
    return "1 día" if days == 1 else f"{days} días"


def unsaved_requests_path() -> Path:
    return Path(
        os.environ.get("UNSAVED_REQUESTS_PATH")
        or PROJECT_ROOT / "var" / "unsaved_requests.jsonl"
    )


def keep_unsaved_request(request: NewCase) -> None:
    """Append a request the case store rejected to a file staff re-enter.

    The file holds personal data, so it is created readable by its owner only.
    """
    path = unsaved_requests_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = asdict(request)
    record["media"] = [asdict(item) for item in request.media]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as spool:
        spool.write(json.dumps(record, ensure_ascii=False) + "\n")


def build_request(form: Text, tracker: Tracker, catalog: Catalog) -> NewCase:
    """Turn the slots of a confirmed form into a new case."""
    slot = tracker.get_slot
    request_type = REQUEST_TYPE_OF_FORM[form]
    service = catalog.service
    fields: Dict[Text, Any] = {
        "request_type": request_type,
        "sender": tracker.sender_id,
        "channel": (tracker.latest_message.get("metadata") or {}).get("channel")
        or tracker.get_latest_input_channel(),
        "description": slot("description"),
    }

    if form in ("report_form", "complaint_form"):
        category = catalog.categories[slot("category")]
        fields.update(
            category=category.id,
            department=category.department,
            sla_hours=category.sla_hours,
            address=slot("address"),
            reference=slot("reference"),
            latitude=slot("latitude"),
            longitude=slot("longitude"),
            anonymous=bool(slot("anonymous")),
        )
    elif form == "procedure_form":
        procedure = catalog.procedures[slot("procedure")]
        fields.update(
            subject=procedure.id,
            department=procedure.department,
            sla_hours=procedure.sla_hours,
            description=f"Pide que le contacten para: {procedure.name}",
        )
    elif form == "advice_form":
        topic = catalog.advice_topics[slot("advice_topic")]
        fields.update(
            subject=topic.id, department=topic.department, sla_hours=topic.sla_hours
        )
    elif form == "information_form":
        fields.update(
            department=service["information_department"],
            sla_hours=int(service["information_sla_hours"]),
            description=slot("question"),
        )
    elif form == "violence_form":
        in_danger = "sí" if slot("in_danger") else "no"
        fields.update(
            department=service["violence_department"],
            sla_hours=int(service["violence_sla_hours"]),
            address=slot("address"),
            latitude=slot("latitude"),
            longitude=slot("longitude"),
            contact=slot("safe_contact"),
            priority="urgente",
            needs_escalation=True,
            status_note=f"En peligro al escribir: {in_danger}",
        )

    if form in ("report_form", "complaint_form", "violence_form"):
        fields["media"] = tuple(
            MediaItem(
                url=item["url"],
                content_type=item.get("content_type"),
                path=item.get("path"),
                size=item.get("size"),
            )
            for item in slot("attachments") or []
        )
    return NewCase(**fields)


class SubmitRequest(Action):
    """Ends a form: creates the confirmed case, or hands off, or cancels."""

    def name(self) -> Text:
        return "action_submit_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        form = finished_form(tracker)
        way_out = tracker.get_slot("way_out")
        confirmation = tracker.get_slot("confirmation")

        if way_out == WAY_OUT_HUMAN:
            events = hand_off(dispatcher, tracker, reason=f"sin avance en {form}")
            return events + reset_request_events()
        if way_out == WAY_OUT_CANCEL or confirmation == CONFIRM_CANCEL:
            dispatcher.utter_message(response="utter_cancelled")
            return reset_request_events()
        if form == "status_form":
            return self.show_status(dispatcher, tracker)
        if confirmation != CONFIRM_SEND:
            if form == "information_form" and tracker.get_slot("wants_contact") is None:
                dispatcher.utter_message(response="utter_you_are_welcome")
            else:
                dispatcher.utter_message(response="utter_request_not_sent")
            return reset_request_events()

        return self.create(form, dispatcher, tracker)

    @staticmethod
    def show_status(
        dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        try:
            reply_with_case(dispatcher, tracker.get_slot("folio"), tracker.sender_id)
        except SQLAlchemyError:
            logger.exception("Could not look up a case")
            dispatcher.utter_message(response="utter_lookup_unavailable")
        return reset_request_events(include_attachments=False)

    @staticmethod
    def create(
        form: Text, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        catalog = get_catalog()
        request = build_request(form, tracker, catalog)
        try:
            with session_scope() as session:
                case = create_case(session, request)
                folio = case.folio
        except SQLAlchemyError:
            logger.exception("Could not store a %s request", request.request_type)
            keep_unsaved_request(request)
            dispatcher.utter_message(response="utter_store_unavailable")
            return reset_request_events()

        department = catalog.departments[request.department]
        response = (
            "utter_violence_case_created"
            if form == "violence_form"
            else "utter_case_created"
        )
        dispatcher.utter_message(
            response=response,
            folio=folio,
            department=department.name,
            response_time=format_response_time(request.sla_hours),
        )
        category = catalog.categories.get(request.category or "")
        if category is not None and category.citizen_note:
            dispatcher.utter_message(text=category.citizen_note)
        return reset_request_events()


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: Optional[Text]
) -> List[EventType]:
    """Record a request for a person and tell the citizen when staff reply."""
    try:
        with session_scope() as session:
            record_handoff(
                session,
                sender=tracker.sender_id,
                reason=reason,
                last_message=tracker.latest_message.get("text"),
            )
    except SQLAlchemyError:
        logger.exception("Could not record a handoff request")
        dispatcher.utter_message(response="utter_lookup_unavailable")
        return []
    reply_time = get_catalog().service["handoff"]["reply_text"]
    dispatcher.utter_message(response="utter_handoff_recorded", reply_time=reply_time)
    return []
