"""Reports of failing public services and complaints about wrongdoing."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import get_catalog
from actions.forms.base import RequestFormValidation, latest_intent
from actions.location import find_address
from actions.text import numbered_list, parse_option


def category_from_message(tracker: Tracker, request_type: Text) -> Optional[Text]:
    """Return the category the latest message names, if it names one."""
    catalog = get_catalog()
    allowed = {category.id for category in catalog.categories_for(request_type)}
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "category" and entity.get("value") in allowed:
            return entity["value"]
    text = tracker.latest_message.get("text") or ""
    return catalog.match_category(text, request_type)


class ValidateReportForm(RequestFormValidation):
    """Validates `report_form`: a failure of a public service."""

    request_type = "reporte"
    trigger_intents = ("report_issue",)
    correctable_slots = ("description", "address", "reference", "latitude", "longitude")

    def name(self) -> Text:
        return "validate_report_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        return ["category", "description", "address", "reference", "confirmation"]

    def extract_from_first_message(self, tracker: Tracker) -> Dict[Text, Any]:
        extracted = super().extract_from_first_message(tracker)
        intent, _ = latest_intent(tracker)
        category = category_from_message(tracker, self.request_type)
        if category and intent in (*self.trigger_intents, "nlu_fallback"):
            extracted["category"] = category
        if intent in self.trigger_intents and "address" not in extracted:
            # "hay un bache en la av kabah sm 63" already gives the place.
            text = tracker.latest_message.get("text") or ""
            address = find_address(text, get_catalog().places)
            if address:
                extracted["address"] = address
        return extracted

    def validate_category(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        categories = get_catalog().categories_for(self.request_type)
        ids = [category.id for category in categories]
        if slot_value in ids:
            return self.valid({"category": slot_value})

        option = parse_option(str(slot_value or ""), len(ids))
        if option is not None:
            return self.valid({"category": ids[option - 1]})
        named = category_from_message(tracker, self.request_type)
        if named:
            values = {"category": named}
            text = str(slot_value or "").strip()
            if tracker.get_slot("description") is None and len(text.split()) >= 5:
                # The citizen described the problem instead of picking a
                # number: keep it as the description rather than ask again.
                values["description"] = text
            return self.valid(values)
        return self.invalid("category", dispatcher, tracker, "utter_invalid_option")


class ValidateComplaintForm(ValidateReportForm):
    """Validates `complaint_form`: wrongdoing by someone, maybe anonymous."""

    request_type = "denuncia"
    trigger_intents = ("file_complaint",)

    def name(self) -> Text:
        return "validate_complaint_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        return [
            "category",
            "description",
            "address",
            "reference",
            "anonymous",
            "confirmation",
        ]

    def validate_anonymous(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        return self.validate_yes_no("anonymous", slot_value, dispatcher, tracker)


class AskCategory(Action):
    """Asks which category a report belongs to, as a numbered list."""

    request_type = "reporte"
    question = "¿Qué tipo de falla quieres reportar? Responde con el número:"

    def name(self) -> Text:
        return "action_ask_report_form_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        labels = [
            category.label
            for category in get_catalog().categories_for(self.request_type)
        ]
        dispatcher.utter_message(text=f"{self.question}\n{numbered_list(labels)}")
        return []


class AskComplaintCategory(AskCategory):
    """Asks which category a complaint belongs to, as a numbered list."""

    request_type = "denuncia"
    question = "¿Qué quieres denunciar? Responde con el número:"

    def name(self) -> Text:
        return "action_ask_complaint_form_category"
