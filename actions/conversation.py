"""Actions outside the forms: starting over, cancelling, help and handoff."""

import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import get_catalog
from actions.forms.base import merge_attachments, message_metadata, received_media
from actions.forms.services import procedure_details
from actions.location import encode_shared_location
from actions.submit import hand_off, hand_off_violence, reset_request_events
from actions.text import keyword_score

logger = logging.getLogger(__name__)

# Words a message must share with a question or procedure of the catalog for an
# off-topic message to get its answer.
CLEAR_MATCH_WORDS = 2

MEDIA_NAMES = {
    "image": "tu foto 📷",
    "video": "tu video 🎥",
    "audio": "tu nota de voz 🎤",
}


def describe_media(content_type: Optional[Text]) -> Text:
    """Name a received file the way the citizen thinks of it."""
    kind = (content_type or "").split("/")[0]
    return MEDIA_NAMES.get(kind, "tu archivo 📎")


class ResetRequest(Action):
    """Starts a new request: leaves any form and empties its slots.

    Files and a location the citizen sent just before stay, so they reach
    the request they were sent for.
    """

    def name(self) -> Text:
        return "action_reset_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events: List[EventType] = []
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return events + reset_request_events(include_attachments=False)


class CancelRequest(Action):
    """Stops the current request without saving anything."""

    def name(self) -> Text:
        return "action_cancel_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if not tracker.active_loop_name:
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return reset_request_events() + [SlotSet("pending_location", None)]
        dispatcher.utter_message(response="utter_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + (
            reset_request_events() + [SlotSet("pending_location", None)]
        )


class Help(Action):
    """Shows the menu, or how to go on when a form is waiting for an answer."""

    def name(self) -> Text:
        return "action_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_help_in_form")
        else:
            dispatcher.utter_message(response="utter_menu")
        return []


class HumanHandoff(Action):
    """Records that the citizen wants a person; an open form stays open.

    Inside a violence report the case is stored at once and goes to its
    department on call, and the form ends.
    """

    def name(self) -> Text:
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        form = tracker.active_loop_name
        if form == "violence_form":
            return hand_off_violence(dispatcher, tracker)
        events = hand_off(
            dispatcher, tracker, reason="pidió hablar con una persona", form=form
        )
        if form:
            dispatcher.utter_message(response="utter_form_continues")
        return events


class OutOfScope(Action):
    """Replies to a message classified off-topic, from the catalog when it can.

    The model may classify "cuanto cuesta el acta de nacimiento" as
    off-topic although the catalog has the procedure. Only a clear match is
    used: a body named, or a question or procedure matched by at least two
    words. Outside a form the refusal lists the numbered menu, so the citizen
    can go on with a number.
    """

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        answer = catalog_answer(text)
        if answer is None and tracker.active_loop_name:
            dispatcher.utter_message(response="utter_out_of_scope")
        elif answer is None:
            dispatcher.utter_message(response="utter_out_of_scope_menu")
        else:
            dispatcher.utter_message(text=answer)
            if not tracker.active_loop_name:
                dispatcher.utter_message(response="utter_anything_else")
        return []


def catalog_answer(text: Text) -> Optional[Text]:
    """Return the catalog's reply to a message when the match is clear, or None."""
    catalog = get_catalog()
    named = [body for body in catalog.departments.values() if body.keywords]
    if any(keyword_score(text, body.keywords) for body in named):
        return catalog.answer_question(text)
    faq = catalog.match_faq(text)
    if faq is not None and keyword_score(text, faq.keywords) >= CLEAR_MATCH_WORDS:
        return faq.answer
    procedure_id = catalog.match_procedure(text)
    if procedure_id is not None:
        procedure = catalog.procedures[procedure_id]
        if keyword_score(text, procedure.keywords) >= CLEAR_MATCH_WORDS:
            return procedure_details(procedure)
    return None


class UnclearMessage(Action):
    """Answers what no rule covers: files, a location, or words not understood.

    A file or a location sent outside a request is kept and offered for a new
    report, so nothing the citizen sent is lost.
    """

    def name(self) -> Text:
        return "action_unclear_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        media = received_media(tracker)
        location = message_metadata(tracker).get("location")
        text = (tracker.latest_message.get("text") or "").strip()

        if media:
            kept = merge_attachments(tracker.get_slot("attachments"), media)
            dispatcher.utter_message(
                text=f"Recibí {describe_media(media[0].get('content_type'))}. "
                "Si quieres reportar una falla con esto, responde *1*; "
                "para una denuncia, *5*."
            )
            return [SlotSet("attachments", kept)]
        if location:
            dispatcher.utter_message(
                text="Recibí tu ubicación 📍. Si quieres reportar algo en ese "
                "lugar, responde *1*; para una denuncia, *5*."
            )
            return [SlotSet("pending_location", encode_shared_location(location))]
        if not text and message_metadata(tracker).get("media"):
            # Every file was rejected, and the channel already told the citizen why.
            return []
        dispatcher.utter_message(response="utter_menu")
        return []
