"""The short form for violence: safety first, then only what staff need.

It never asks for names or details that would put the person at risk if
someone else reads the phone, and every question can be skipped. When it
starts it says what to do now and that a person will make contact, and that
writing *salir* closes the conversation: the case is then stored with what
the person gave, a neutral goodbye is sent and the conversation starts over
(see `actions.submit`).
"""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import get_catalog
from actions.forms.base import (
    latest_intent,
    INTERRUPTION_INTENTS,
    WAY_OUT_EXIT,
    RequestFormValidation,
)
from actions.location import LOCATION_PREFIX
from actions.text import normalize

SKIP_WORDS = frozenset(
    {"no", "no se", "prefiero no decir", "prefiero no", "no quiero", "nop", "paso"}
)
# Words that close the conversation at once, whatever the form asked.
EXIT_WORDS = frozenset({"salir", "salir ya", "salirme", "sal"})
NOT_GIVEN = "No lo indicó"


class ValidateViolenceForm(RequestFormValidation):
    """Validates `violence_form`."""

    trigger_intents = ("report_violence",)
    correctable_slots = ("description", "address", "safe_contact")
    # What a person tells about violence is their answer here, not an
    # interruption.
    interruption_intents = INTERRUPTION_INTENTS - {"report_violence"}

    def name(self) -> Text:
        return "validate_violence_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        return ["in_danger", "description", "address", "safe_contact", "confirmation"]

    async def get_extraction_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        """Close on *salir*; on the first message, say what to do now."""
        text = normalize(tracker.latest_message.get("text")).strip(" .!")
        requested = tracker.get_slot("requested_slot")
        intent, _ = latest_intent(tracker)
        # Cancelling here would drop the report and the alert to the on-call
        # team, so "cancelar" closes like *salir*: stored, then a neutral
        # goodbye.
        if requested is not None and (text in EXIT_WORDS or intent == "cancel"):
            return [SlotSet("way_out", WAY_OUT_EXIT)]
        if requested is None:
            dispatcher.utter_message(
                response="utter_violence_next_steps",
                dif_phone=get_catalog().service["dif_phone"],
            )
        return await super().get_extraction_events(dispatcher, tracker, domain)

    def validate_in_danger(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        result = self.validate_yes_no("in_danger", slot_value, dispatcher, tracker)
        if result.get("in_danger") is True:
            dispatcher.utter_message(response="utter_in_danger_now")
        return result

    def validate_description(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        if normalize(text) in SKIP_WORDS:
            return self.valid({"description": NOT_GIVEN})
        return super().validate_description(slot_value, dispatcher, tracker, domain)

    def validate_address(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        if text.startswith(LOCATION_PREFIX):
            return super().validate_address(slot_value, dispatcher, tracker, domain)
        if normalize(text) in SKIP_WORDS:
            return self.valid({"address": NOT_GIVEN})
        # Any place the person can give is enough here: no street required.
        return self.valid({"address": text})

    def validate_safe_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        if len(normalize(text)) < 2:
            return self.invalid(
                "safe_contact", dispatcher, tracker, "utter_invalid_safe_contact"
            )
        return self.valid({"safe_contact": text})
