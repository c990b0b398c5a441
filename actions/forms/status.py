"""Follow-up of a case by its folio, shown only to the number that opened it."""

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.cases import find_case_for_sender, list_open_cases
from actions.catalog import get_catalog
from actions.db.folio import find_folio_candidate, has_valid_check_digit
from actions.db.models import Case
from actions.db.session import session_scope
from actions.forms.base import RequestFormValidation, latest_intent
from actions.text import numbered_list, parse_option

logger = logging.getLogger(__name__)

# Cancún keeps UTC-5 all year (no daylight saving time since 2015).
CANCUN_TIME = timezone(timedelta(hours=-5), "America/Cancun")

STATUS_LABELS = {
    "recibido": "Recibido, en espera de atención",
    "en_proceso": "En proceso",
    "canalizado": "Canalizado a la dependencia responsable",
    "resuelto": "Resuelto",
    "cerrado": "Cerrado",
}


def format_local_time(moment: datetime) -> Text:
    """Format a stored time as Cancún's local date and time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CANCUN_TIME).strftime("%d/%m/%Y %H:%M")


def describe_case(case: Case) -> Text:
    """Format a case's status, department and last update for its owner."""
    department = get_catalog().departments[case.department]
    last = case.history[-1] if case.history else None
    lines = [
        f"📄 Folio *{case.folio}*",
        f"Estado: {STATUS_LABELS.get(case.status, case.status)}",
        f"Lo atiende: {department.name}",
        f"Última actualización: {format_local_time(case.updated_at)}",
    ]
    # Notes of a violence case stay with staff: whoever holds the phone may
    # not be the person who reported it.
    if last is not None and last.note and case.request_type != "violencia":
        lines.append(f"Nota: {last.note}")
    return "\n".join(lines)


def folio_from_reply(text: Optional[Text]) -> Optional[Text]:
    """Return the folio-shaped text in a reply, also when typed without CUN."""
    candidate = find_folio_candidate(text)
    if candidate is None and text and any(char.isdigit() for char in text):
        candidate = find_folio_candidate(f"CUN {text}")
    return candidate


def open_case_folios(sender: Text) -> List[Text]:
    """Return the folios of the sender's open cases, newest first."""
    with session_scope() as session:
        return [case.folio for case in list_open_cases(session, sender)]


def reply_with_case(
    dispatcher: CollectingDispatcher, folio: Text, sender: Text
) -> None:
    """Show a case to its owner, or the same "not found" to anyone else."""
    with session_scope() as session:
        case = find_case_for_sender(session, folio, sender)
        if case is None:
            dispatcher.utter_message(response="utter_case_not_found", folio=folio)
            return
        dispatcher.utter_message(text=describe_case(case))


class ValidateStatusForm(RequestFormValidation):
    """Validates `status_form`: a folio, typed or chosen from a list."""

    trigger_intents = ("check_case_status",)
    interruption_intents = RequestFormValidation.interruption_intents - {
        "check_case_status"
    }
    accepts_attachments = False

    def name(self) -> Text:
        return "validate_status_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        return ["folio"]

    def extract_from_first_message(self, tracker: Tracker) -> Dict[Text, Any]:
        intent, _ = latest_intent(tracker)
        for entity in tracker.latest_message.get("entities") or []:
            if entity.get("entity") == "folio" and intent in self.trigger_intents:
                return {"folio": entity.get("value")}
        return {}

    def validate_folio(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "")
        candidate = folio_from_reply(text)
        if candidate is None:
            option = parse_option(text, 5)
            folios = open_case_folios(tracker.sender_id) if option else []
            if option and option <= len(folios):
                return self.valid({"folio": folios[option - 1]})
            return self.invalid("folio", dispatcher, tracker, "utter_invalid_folio")
        if not has_valid_check_digit(candidate):
            return self.invalid(
                "folio",
                dispatcher,
                tracker,
                "utter_invalid_folio_check_digit",
                folio=candidate,
            )
        return self.valid({"folio": candidate})


class AskFolio(Action):
    """Asks for a folio, offering the sender's open cases as numbers."""

    def name(self) -> Text:
        return "action_ask_folio"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        try:
            folios = open_case_folios(tracker.sender_id)
        except SQLAlchemyError:
            logger.exception("Could not list open cases")
            folios = []
        if folios:
            dispatcher.utter_message(
                text="Estos son tus casos abiertos. Responde con el número o "
                "escribe otro folio:\n" + numbered_list(folios)
            )
        else:
            dispatcher.utter_message(
                text="¿Cuál es tu folio? Se ve así: *CUN-26-000124*."
            )
        return []


class CheckCaseStatus(Action):
    """Answers a follow-up question in the middle of another request.

    With a folio in the message it shows that case; without one it lists the
    sender's open cases. The interrupted form then resumes.
    """

    def name(self) -> Text:
        return "action_check_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        folio = folio_from_reply(tracker.latest_message.get("text"))
        try:
            if folio is not None and has_valid_check_digit(folio):
                reply_with_case(dispatcher, folio, tracker.sender_id)
            elif folio is not None:
                dispatcher.utter_message(
                    response="utter_invalid_folio_check_digit", folio=folio
                )
            else:
                folios = open_case_folios(tracker.sender_id)
                if folios:
                    dispatcher.utter_message(
                        text="Tus casos abiertos:\n" + numbered_list(folios)
                    )
                else:
                    dispatcher.utter_message(response="utter_no_open_cases")
        except SQLAlchemyError:
            logger.exception("Could not look up cases")
            dispatcher.utter_message(response="utter_store_unavailable")
        return [SlotSet("folio", None)]
