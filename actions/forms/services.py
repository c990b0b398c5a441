"""Procedures (trámites), advice (asesorías) and information (consultas)."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import Procedure, get_catalog
from actions.forms.base import RequestFormValidation, latest_intent
from actions.text import normalize, numbered_list, parse_option


def procedure_details(procedure: Procedure) -> Text:
    """Format a procedure's requirements, cost and office for WhatsApp."""
    requirements = "\n".join(f"• {item}" for item in procedure.requirements)
    return (
        f"📋 *{procedure.name}*\n"
        f"Requisitos:\n{requirements}\n"
        f"Costo: {procedure.cost}\n"
        f"Dónde: {procedure.where}"
    )


def choose(
    slot_value: Any, ids: List[Text], match: Optional[Text]
) -> Optional[Text]:
    """Return the id a reply chooses: the id itself, its number, or a match."""
    if slot_value in ids:
        return slot_value
    option = parse_option(str(slot_value or ""), len(ids))
    if option is not None:
        return ids[option - 1]
    return match


class ValidateProcedureForm(RequestFormValidation):
    """Validates `procedure_form`: explains a trámite and offers a contact."""

    trigger_intents = ("request_procedure",)
    correctable_slots = ("procedure", "wants_contact")
    accepts_attachments = False

    def name(self) -> Text:
        return "validate_procedure_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        if tracker.get_slot("wants_contact") is False:
            return ["procedure", "wants_contact"]
        return ["procedure", "wants_contact", "confirmation"]

    def extract_from_first_message(self, tracker: Tracker) -> Dict[Text, Any]:
        intent, _ = latest_intent(tracker)
        if intent not in self.trigger_intents:
            return {}
        text = tracker.latest_message.get("text") or ""
        procedure = get_catalog().match_procedure(text)
        return {"procedure": procedure} if procedure else {}

    def validate_procedure(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        catalog = get_catalog()
        chosen = choose(
            slot_value,
            list(catalog.procedures),
            catalog.match_procedure(str(slot_value or "")),
        )
        if chosen is None:
            return self.invalid("procedure", dispatcher, tracker, "utter_invalid_option")
        dispatcher.utter_message(text=procedure_details(catalog.procedures[chosen]))
        return self.valid({"procedure": chosen})

    def validate_wants_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        return self.validate_yes_no("wants_contact", slot_value, dispatcher, tracker)


class ValidateAdviceForm(RequestFormValidation):
    """Validates `advice_form`: legal, psychological or social guidance."""

    trigger_intents = ("request_advice",)
    correctable_slots = ("advice_topic", "description")
    accepts_attachments = False

    def name(self) -> Text:
        return "validate_advice_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        return ["advice_topic", "description", "confirmation"]

    def extract_from_first_message(self, tracker: Tracker) -> Dict[Text, Any]:
        extracted = super().extract_from_first_message(tracker)
        intent, _ = latest_intent(tracker)
        text = tracker.latest_message.get("text") or ""
        topic = get_catalog().match_advice_topic(text)
        if topic and intent in self.trigger_intents:
            extracted["advice_topic"] = topic
        return extracted

    def validate_advice_topic(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        catalog = get_catalog()
        chosen = choose(
            slot_value,
            list(catalog.advice_topics),
            catalog.match_advice_topic(str(slot_value or "")),
        )
        if chosen is None:
            return self.invalid(
                "advice_topic", dispatcher, tracker, "utter_invalid_option"
            )
        return self.valid({"advice_topic": chosen})


class ValidateInformationForm(RequestFormValidation):
    """Validates `information_form`: answers from the catalog, else a folio."""

    trigger_intents = ("ask_information",)
    correctable_slots = ("question", "wants_contact")
    accepts_attachments = False

    def name(self) -> Text:
        return "validate_information_form"

    def form_slots(self, tracker: Tracker) -> List[Text]:
        question = tracker.get_slot("question")
        answered = question and get_catalog().answer_question(question) is not None
        if answered:
            return ["question"]
        if tracker.get_slot("wants_contact") is False:
            return ["question", "wants_contact"]
        return ["question", "wants_contact", "confirmation"]

    def extract_from_first_message(self, tracker: Tracker) -> Dict[Text, Any]:
        intent, _ = latest_intent(tracker)
        if intent not in self.trigger_intents:
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        if get_catalog().answer_question(text) or len(normalize(text).split()) >= 4:
            return {"question": text}
        return {}

    def validate_question(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        answer = get_catalog().answer_question(text)
        if answer is not None:
            dispatcher.utter_message(text=answer)
            return self.valid({"question": text})
        if len(normalize(text).split()) < 2:
            return self.invalid("question", dispatcher, tracker, "utter_invalid_question")
        dispatcher.utter_message(
            text="No tengo esa respuesta a la mano, pero alguien del equipo sí. 🙌"
        )
        return self.valid({"question": text})

    def validate_wants_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        return self.validate_yes_no("wants_contact", slot_value, dispatcher, tracker)


class AskProcedure(Action):
    """Asks which procedure, listing the catalog's as numbered options."""

    def name(self) -> Text:
        return "action_ask_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        names = [procedure.name for procedure in get_catalog().procedures.values()]
        dispatcher.utter_message(
            text="¿Qué trámite quieres hacer? Responde con el número:\n"
            + numbered_list(names)
        )
        return []


class AskAdviceTopic(Action):
    """Asks what kind of advice, listing the catalog's topics."""

    def name(self) -> Text:
        return "action_ask_advice_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        labels = [topic.label for topic in get_catalog().advice_topics.values()]
        dispatcher.utter_message(
            text="¿Qué tipo de asesoría necesitas? Responde con el número:\n"
            + numbered_list(labels)
        )
        return []
