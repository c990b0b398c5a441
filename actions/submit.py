"""What happens when a form ends: a case, a person, or nothing at all."""

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.cases import MediaItem, NewCase, create_case, record_handoff
from actions.catalog import Catalog, get_catalog
from actions.db.models import utc_now
from actions.db.session import PROJECT_ROOT, session_scope
from actions.forms.base import (
    ADDRESS_DRAFT_SLOT,
    CONFIRM_CANCEL,
    CONFIRM_SEND,
    GROUP_ANSWER_SLOT,
    REQUEST_TYPE_OF_FORM,
    WAY_OUT_CANCEL,
    WAY_OUT_EXIT,
    WAY_OUT_HUMAN,
)
from actions.forms.status import reply_with_case
from actions.forms.summary import summary_lines
from actions.routing.decide import RoutingDecision, decide_routing
from actions.routing.groups import NO_GROUP, groups_in_conversation, services_for
from actions.routing.linking import find_nearby_open_case, window_start

logger = logging.getLogger(__name__)

# Slots that belong to one request and are emptied when it ends.
REQUEST_SLOTS = (
    "category",
    "description",
    "address",
    "address_draft",
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

# At most this many services of the directory follow a new case.
MAX_SERVICES_OFFERED = 3


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


def case_groups(tracker: Tracker, catalog: Catalog) -> Tuple[List[Text], List[Text]]:
    """Return the citizen's groups and, among them, those chosen in the form.

    Groups come from every message of the conversation and from the answer
    to the form's question about groups, in the order of ``groups.yml``.
    """
    answer = tracker.get_slot(GROUP_ANSWER_SLOT) or NO_GROUP
    answered = [group for group in answer.split(",") if group in catalog.groups]
    mentioned = groups_in_conversation(tracker.events, catalog.groups)
    groups = [
        group for group in catalog.groups if group in answered or group in mentioned
    ]
    return groups, answered


def build_request(form: Text, tracker: Tracker, catalog: Catalog) -> NewCase:
    """Turn the slots of a confirmed form into a routed, prioritized new case."""
    return plan_request(form, tracker, catalog)[0]


def plan_request(
    form: Text, tracker: Tracker, catalog: Catalog
) -> Tuple[NewCase, RoutingDecision]:
    """Build the new case of a confirmed form, with the routing behind it."""
    slot = tracker.get_slot
    request_type = REQUEST_TYPE_OF_FORM[form]
    groups, answered = case_groups(tracker, catalog)
    fields: Dict[Text, Any] = {
        "request_type": request_type,
        "sender": tracker.sender_id,
        "channel": (tracker.latest_message.get("metadata") or {}).get("channel")
        or tracker.get_latest_input_channel(),
        "description": slot("description"),
        "groups": tuple(groups),
        "answered_groups": tuple(answered),
    }

    category: Optional[Text] = None
    address: Optional[Text] = None
    notes: List[Text] = []
    if form in ("report_form", "complaint_form"):
        category = catalog.categories[slot("category")].id
        address = slot("address")
        fields.update(
            category=category,
            address=address,
            reference=slot("reference"),
            latitude=slot("latitude"),
            longitude=slot("longitude"),
            anonymous=bool(slot("anonymous")),
        )
    elif form == "procedure_form":
        procedure = catalog.procedures[slot("procedure")]
        category = procedure.id
        fields.update(
            subject=procedure.id,
            description=f"Pide que le contacten para: {procedure.name}",
        )
    elif form == "advice_form":
        category = catalog.advice_topics[slot("advice_topic")].id
        fields.update(subject=category)
    elif form == "information_form":
        fields.update(description=slot("question"))
    elif form == "violence_form":
        address = slot("address")
        in_danger = slot("in_danger")
        fields.update(
            address=address,
            latitude=slot("latitude"),
            longitude=slot("longitude"),
            contact=slot("safe_contact"),
            in_danger=in_danger,
        )
        danger_text = {True: "sí", False: "no"}.get(in_danger, "no respondió")
        notes.append(f"En peligro al escribir: {danger_text}")

    decision = decide_routing(catalog, request_type, category, address, groups)
    fields.update(decision.case_fields())
    if decision.route.is_referral:
        notes.append(f"Canalizado a {decision.route.department.name}")
    fields["status_note"] = ". ".join(notes) or None

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
    return NewCase(**fields), decision


def linked_case_id(
    session: Session, request: NewCase, catalog: Catalog
) -> Optional[int]:
    """Return the id of the open case this report should join, if any."""
    linking = catalog.routing.linking
    if request.request_type not in linking.request_types or not request.category:
        return None
    match = find_nearby_open_case(
        session,
        category=request.category,
        since=window_start(utc_now(), linking.days),
        max_distance_meters=linking.distance_meters,
        street=request.street,
        area=request.area,
        latitude=request.latitude,
        longitude=request.longitude,
    )
    return match.id if match else None


def store_request(request: NewCase, catalog: Catalog) -> Text:
    """Link, insert and queue a new case in one transaction; return its folio.

    Raises:
        SQLAlchemyError: If the case store rejects it; nothing is stored.
    """
    with session_scope() as session:
        request.linked_case_id = linked_case_id(session, request, catalog)
        case = create_case(session, request)
        return case.folio


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

        if way_out == WAY_OUT_EXIT:
            return self.close_quietly(form, dispatcher, tracker)
        if way_out == WAY_OUT_HUMAN and form == "violence_form":
            return hand_off_violence(dispatcher, tracker)
        if way_out == WAY_OUT_HUMAN:
            request_type = REQUEST_TYPE_OF_FORM.get(form or "", "solicitud")
            events = hand_off(
                dispatcher, tracker, reason=f"sin avance en {request_type}", form=form
            )
            return events + reset_request_events()
        if way_out == WAY_OUT_CANCEL or confirmation == CONFIRM_CANCEL:
            dispatcher.utter_message(response="utter_cancelled")
            return reset_request_events()
        if form == "status_form":
            return self.show_status(dispatcher, tracker)
        if confirmation != CONFIRM_SEND:
            if form == "information_form" and tracker.get_slot("wants_contact") is None:
                dispatcher.utter_message(response="utter_anything_else")
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
        request, decision = plan_request(form, tracker, catalog)
        try:
            folio = store_request(request, catalog)
        except SQLAlchemyError:
            logger.exception("Could not store a %s request", request.request_type)
            keep_unsaved_request(request)
            dispatcher.utter_message(response="utter_store_unavailable")
            return reset_request_events()

        reply_to_new_case(dispatcher, form, request, decision, folio, catalog)
        return reset_request_events()

    @staticmethod
    def close_quietly(
        form: Optional[Text], dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        """End a violence report at once with a neutral goodbye, and start over.

        The case is stored with what the person gave, so that it still
        reaches the on-call channel; the reply says nothing about violence in
        case someone else reads the phone.
        """
        if form == "violence_form":
            store_violence_so_far(
                tracker, "Cerró la conversación con «salir»: contactar con cuidado"
            )
        dispatcher.utter_message(response="utter_neutral_closing")
        return [AllSlotsReset()]


def store_violence_so_far(
    tracker: Tracker, note: Text
) -> Tuple[NewCase, Optional[Text]]:
    """Store a violence case with the answers given so far, and a note for staff.

    The case is urgent and escalated like a confirmed one, so it reaches the
    on-call channel however the conversation ends. Returns the request and
    its folio, or None as the folio when the store failed and the request
    went to the unsaved-requests file instead.
    """
    catalog = get_catalog()
    request = build_request("violence_form", tracker, catalog)
    request.status_note = ". ".join(part for part in (request.status_note, note) if part)
    if not request.contact:
        request.contact = "No lo indicó"
    try:
        return request, store_request(request, catalog)
    except SQLAlchemyError:
        logger.exception("Failed to store a violence case ended before confirmation")
        keep_unsaved_request(request)
        return request, None


def hand_off_violence(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> List[EventType]:
    """Pass a violence report to a person of its department at once.

    The general queue replies in office hours, but a person living violence
    needs the department on call. So the case is stored as it is, and the
    form ends.
    """
    request, folio = store_violence_so_far(
        tracker, "Pidió hablar con una persona: contactar cuanto antes"
    )
    if folio is None:
        dispatcher.utter_message(response="utter_store_unavailable")
    else:
        department = get_catalog().departments[request.department]
        dispatcher.utter_message(
            response="utter_violence_handoff", folio=folio, department=department.name
        )
    events: List[EventType] = reset_request_events()
    if tracker.active_loop_name:
        events = [ActiveLoop(None), SlotSet("requested_slot", None)] + events
    return events


def reply_to_new_case(
    dispatcher: CollectingDispatcher,
    form: Text,
    request: NewCase,
    decision: RoutingDecision,
    folio: Text,
    catalog: Catalog,
) -> None:
    """Tell the citizen their folio, who handles the case and what else helps."""
    department = catalog.departments[request.department]
    response_time = format_response_time(request.sla_hours)
    if form == "violence_form":
        dispatcher.utter_message(
            response="utter_violence_case_created",
            folio=folio,
            department=department.name,
            response_time=response_time,
        )
    elif department.is_external:
        delivery = catalog.routing.delivery_for(department.id)
        sent = delivery.method != "internal"
        dispatcher.utter_message(
            response="utter_case_referred" if sent else "utter_case_referred_call",
            folio=folio,
            agency=department.name,
            phone=department.phone,
            hours=department.hours,
            have_at_hand=delivery.have_at_hand,
        )
    else:
        dispatcher.utter_message(
            response="utter_case_created",
            folio=folio,
            department=department.name,
            response_time=response_time,
        )

    if request.linked_case_id is not None:
        dispatcher.utter_message(response="utter_already_reported")
    if decision.route.citizen_note and form != "violence_form":
        dispatcher.utter_message(text=decision.route.citizen_note)
    offer_services(dispatcher, decision, list(request.groups), catalog)


def offer_services(
    dispatcher: CollectingDispatcher,
    decision: RoutingDecision,
    groups: List[Text],
    catalog: Catalog,
) -> None:
    """Say that a group got the case priority, and offer services for it."""
    if decision.raised_by_group:
        dispatcher.utter_message(response="utter_priority_for_group")
    services = services_for(catalog.directory, groups, MAX_SERVICES_OFFERED)
    if services:
        dispatcher.utter_message(
            response="utter_services_for_groups",
            services="\n".join(entry.describe() for entry in services),
        )


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: Optional[Text],
    form: Optional[Text] = None,
) -> List[EventType]:
    """Record a request for a person and tell the citizen when staff reply.

    With `form`, the answers given so far in it go with the request, so that
    the person who picks it up does not ask them again.
    """
    answers = None
    if form:
        lines = summary_lines(form, tracker)
        draft = tracker.get_slot(ADDRESS_DRAFT_SLOT)
        if draft and not tracker.get_slot("address"):
            lines.append(f"• Dónde (incompleto): {draft}")
        answers = "\n".join(lines) or None
    try:
        with session_scope() as session:
            record_handoff(
                session,
                sender=tracker.sender_id,
                reason=reason,
                last_message=tracker.latest_message.get("text"),
                answers=answers,
            )
    except SQLAlchemyError:
        logger.exception("Could not record a handoff request")
        dispatcher.utter_message(response="utter_lookup_unavailable")
        return []
    reply_time = get_catalog().service["handoff"]["reply_text"]
    dispatcher.utter_message(response="utter_handoff_recorded", reply_time=reply_time)
    return []
