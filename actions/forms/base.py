"""What every request form shares: reading answers, retries and evidence.

Each form's validation action reads the citizen's reply to the question the
form asked. A reply is taken as the answer unless it is clearly an
interruption (help, cancel, a person, an emergency...), in which case nothing
is extracted, the form is rejected and a rule answers the interruption before
the form resumes. After three invalid answers the form asks whether to talk
to a person, cancel or try again, so it never loops.

Where a vulnerable group would change the service (a priority rule of
``catalog/priority.yml`` could apply), the form asks once per conversation,
just before the confirmation, whether one of those groups applies; it skips
the question when a message already named a group.

Validators here only read and set slots: Rasa may run a validation action
twice for one message, so nothing in this module writes to the case store.
"""

import logging
import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.catalog import Places, get_catalog
from actions.location import (
    LOCATION_PREFIX,
    MISSING_AREA,
    MISSING_STREET,
    MISSING_STREET_AND_AREA,
    check_address,
    decode_shared_location,
    encode_shared_location,
    join_address,
    mentions_outside_place,
    split_landmark,
)
from actions.routing.groups import (
    NO_GROUP,
    NO_GROUP_WORDS,
    groups_in_conversation,
    groups_in_text,
    question_options,
    read_group_answer,
)
from actions.text import normalize, parse_option

logger = logging.getLogger(__name__)

MAX_INVALID_ATTEMPTS = 3
BARE_NUMBER = re.compile(r"^\W*\d+\W*$")
INTERRUPTION_CONFIDENCE = 0.6
# Leaving a request for the violence form takes a surer reading, because a
# short answer such as "por mi casa" can look like violence to the model.
VIOLENCE_SWITCH_CONFIDENCE = 0.8
# The same holds for the 911 warning inside a form ("frente a la farmacia").
EMERGENCY_WARNING_CONFIDENCE = 0.8
# An answer that places something ("frente a la farmacia") is no emergency,
# whatever the model reads in it.
PLACE_REFERENCE = re.compile(
    r"^\W*(frente|enfrente|junto|atras|detras|cerca|por|a un lado|al lado|"
    r"esquina|entre|sobre|en la|en el|afuera|fuera|adentro|dentro|a la vuelta)\b",
    re.IGNORECASE,
)
# Questions answered with a place or a way to make contact, answers the
# model classifies poorly ("enfrente de la primaria", "por aqui").
PLACE_OR_CONTACT_SLOTS = ("address", "reference", "safe_contact")
CONTACT_WORDS = re.compile(
    r"\b(whats|whatsapp|wsp|numero|telefono|cel|celular|aqui|mensaje|llamada|"
    r"llamen|marquen|correo)\b|\d{7,}"
)
# Words that really ask to stop; anything else the model calls "cancel" is
# read as an answer.
CANCEL_WORDS = re.compile(
    r"\b(cancel\w*|olvid\w*|ya no|dejalo|dejemoslo|mejor no|no quiero|"
    r"salir|salte|deten\w*|basta|stop|alto)\b"
)
SEND_WORDS = re.compile(r"\b(envia\w*|enviar|manda\w*|mandar)\b")
# Free-text answers are cut to this length so a summary fits one message.
MAX_ANSWER_CHARS = 1000

# Intents answered by a rule while the form waits, after which it resumes.
# An emergency is not among them: the form shows 911 at once and still keeps
# what the citizen wrote as the answer, so nothing they typed is lost.
INTERRUPTION_INTENTS = frozenset(
    {
        "help",
        "cancel",
        "bot_challenge",
        "out_of_scope",
        "check_case_status",
        "human_handoff",
        "report_violence",
    }
)

YES_WORDS = frozenset(
    {"si", "sip", "sii", "simon", "claro", "ok", "okay", "va", "dale", "sale", "yes"}
)
NO_WORDS = frozenset({"no", "nop", "nel", "nope", "para nada", "no gracias"})
UNKNOWN_PLACE_WORDS = frozenset(
    {"no se", "no lo se", "ni idea", "no me acuerdo", "no recuerdo", "no", "nose"}
)
# Half an address (only the street, or only the area) waits here for the rest.
ADDRESS_DRAFT_SLOT = "address_draft"
# Longest name of a street or area not in the catalog that completes a draft.
MAX_PLACE_NAME_WORDS = 4
NO_REFERENCE_WORDS = frozenset(
    {"no", "no hay", "ninguna", "ninguno", "nada", "no se", "sin referencia", "nop"}
)

CONFIRM_SEND, CONFIRM_CORRECT, CONFIRM_CANCEL = "send", "correct", "cancel"
WAY_OUT_HUMAN, WAY_OUT_CANCEL, WAY_OUT_EXIT = "human", "cancel", "exit"
# Answers that end the form at once, without a question in between.
ENDING_WAY_OUTS = (WAY_OUT_HUMAN, WAY_OUT_CANCEL, WAY_OUT_EXIT)

REQUEST_TYPE_OF_FORM = {
    "report_form": "reporte",
    "complaint_form": "denuncia",
    "procedure_form": "tramite",
    "advice_form": "asesoria",
    "information_form": "consulta",
    "violence_form": "violencia",
}

# The slot that stores the answer to the question about groups, and the slot
# that carries its numbered options into the question's text. Neither is
# emptied between requests, so the question comes once per conversation.
GROUP_ANSWER_SLOT = "group_answer"
GROUP_OPTIONS_SLOT = "group_options"


def message_metadata(tracker: Tracker) -> Dict[Text, Any]:
    """Return the channel metadata of the latest user message."""
    return tracker.latest_message.get("metadata") or {}


def latest_intent(tracker: Tracker) -> Tuple[Optional[Text], float]:
    """Return the latest message's intent and its confidence."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def received_media(tracker: Tracker) -> List[Dict[Text, Any]]:
    """Return the accepted media items of the latest message."""
    media = message_metadata(tracker).get("media") or []
    return [item for item in media if item.get("url") and not item.get("rejected")]


def merge_attachments(
    current: Optional[Sequence[Dict[Text, Any]]], new: Sequence[Dict[Text, Any]]
) -> List[Dict[Text, Any]]:
    """Add new media items to a list of attachments, once per URL."""
    merged = list(current or [])
    known = {item.get("url") for item in merged}
    for item in new:
        if item["url"] not in known:
            merged.append(
                {
                    "url": item["url"],
                    "content_type": item.get("content_type"),
                    "path": item.get("path"),
                    "size": item.get("size"),
                }
            )
            known.add(item["url"])
    return merged


def yes_or_no(text: Optional[Text], tracker: Tracker) -> Optional[bool]:
    """Read a yes/no answer given as 1/2, sí/no or an affirm/deny intent."""
    option = parse_option(text, 2)
    if option is not None:
        return option == 1
    normalized = normalize(text)
    if normalized in YES_WORDS:
        return True
    if normalized in NO_WORDS:
        return False
    intent, confidence = latest_intent(tracker)
    if confidence >= INTERRUPTION_CONFIDENCE and intent in ("affirm", "deny"):
        return intent == "affirm"
    return None


def reads_as_place_or_contact(text: Text, intent: Optional[Text]) -> bool:
    """Tell whether an answer to a place or contact question is just that.

    No intent covers "enfrente de la primaria", "sm 70" or "por este
    whatsapp", so the model may classify them as violence, off-topic or help.
    A short off-topic text without "?" ("hospital general") is taken as the
    reply to the question too.
    """
    if intent in ("cancel", "human_handoff"):
        return False
    normalized = normalize(text)
    if PLACE_REFERENCE.match(normalized) or CONTACT_WORDS.search(normalized):
        return True
    if check_address(text, get_catalog().places) != MISSING_STREET_AND_AREA:
        return True
    return "?" not in text and intent == "out_of_scope"


def completes_address(draft: Text, text: Text, places: Places) -> bool:
    """Tell whether a message is the part a half address lacked.

    The last reply named the missing part ("av tulum", then "sm 22"), so a
    short name the catalog does not know ("Cielo Nuevo") counts too. A
    question, a long sentence or "no sé" does not.
    """
    normalized = normalize(text)
    if normalized in UNKNOWN_PLACE_WORDS or normalized in normalize(draft):
        return False
    if check_address(join_address(draft, text), places) is None:
        return True
    return "?" not in text and len(normalized.split()) <= MAX_PLACE_NAME_WORDS


class RequestFormValidation(FormValidationAction):
    """Validation shared by the forms that build a citizen's request."""

    # Intents that start this form; a detailed first message is kept as the
    # description so the citizen is not asked the same thing twice.
    trigger_intents: Tuple[Text, ...] = ()
    # Slots emptied when the citizen chooses to correct the summary.
    correctable_slots: Tuple[Text, ...] = ()
    interruption_intents: frozenset = INTERRUPTION_INTENTS

    @abstractmethod
    def form_slots(self, tracker: Tracker) -> List[Text]:
        """Return the slots this form still needs, in the order it asks."""

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        # A citizen who chose a person, to cancel or to leave has answered the
        # last question: the form ends with that answer, which stays validated.
        if tracker.get_slot("way_out") in ENDING_WAY_OUTS:
            return ["way_out"]
        if tracker.get_slot("confirmation") == CONFIRM_CANCEL:
            return ["confirmation"]
        slots = self.form_slots(tracker)
        if "confirmation" in slots and self.includes_group_question(tracker):
            position = slots.index("confirmation")
            slots = slots[:position] + [GROUP_ANSWER_SLOT] + slots[position:]
        if (tracker.get_slot("invalid_attempts") or 0) >= MAX_INVALID_ATTEMPTS:
            slots = ["way_out"] + slots
        return slots

    # Vulnerable groups --------------------------------------------------------

    def group_choices(self, tracker: Tracker) -> List[Text]:
        """Return the groups that would change this request's priority.

        Only groups with a question option in ``groups.yml`` count, in the
        file's order. Empty until the request's category is known.
        """
        request_type = REQUEST_TYPE_OF_FORM.get(self.form_name())
        if request_type is None:
            return []
        category = (
            tracker.get_slot("category")
            or tracker.get_slot("procedure")
            or tracker.get_slot("advice_topic")
        )
        if category is None and request_type in ("reporte", "denuncia", "tramite"):
            return []
        catalog = get_catalog()
        askable = [
            group.id for group in catalog.groups.values() if group.question_option
        ]
        return catalog.priority.groups_that_matter(request_type, category, askable)

    def includes_group_question(self, tracker: Tracker) -> bool:
        """Tell whether the group question belongs among the form's slots.

        Once answered it stays in the list, so that its answer is validated;
        it is filled then, so it is never asked again.
        """
        if tracker.get_slot(GROUP_ANSWER_SLOT) is not None:
            return True
        return bool(self.groups_to_ask(tracker))

    def groups_to_ask(self, tracker: Tracker) -> List[Text]:
        """Return the groups to ask about, or nothing when the question is moot.

        The question is skipped when the citizen already answered it in this
        conversation or a message named a group.
        """
        if tracker.get_slot(GROUP_ANSWER_SLOT) is not None:
            return []
        if groups_in_conversation(tracker.events, get_catalog().groups):
            return []
        return self.group_choices(tracker)

    def group_options_events(
        self, tracker: Tracker, events: List[EventType]
    ) -> List[EventType]:
        """Set the numbered options of the group question when it is due.

        `utter_ask_group_answer` shows them through the `group_options` slot.
        """
        tracker.add_slots(events)
        choices = self.groups_to_ask(tracker)
        if not choices:
            return []
        options = question_options(get_catalog().groups, choices)
        if options == tracker.get_slot(GROUP_OPTIONS_SLOT):
            return []
        return [SlotSet(GROUP_OPTIONS_SLOT, options)]

    async def next_requested_slot(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Optional[EventType]:
        """Set the next slot to ask for, or None to end the form.

        rasa-sdk leaves this to Rasa when the required slots equal the
        domain's list; deciding here keeps one rule for every form.
        """
        required = await self.required_slots(
            self.domain_slots(domain), dispatcher, tracker, domain
        )
        missing = (slot for slot in required if tracker.slots.get(slot) is None)
        return SlotSet("requested_slot", next(missing, None))

    # Extraction ------------------------------------------------------------

    def is_interruption(self, tracker: Tracker, requested_slot: Text) -> bool:
        """Tell whether the latest message interrupts the form's question."""
        text = tracker.latest_message.get("text") or ""
        if parse_option(text, 10) is not None or BARE_NUMBER.match(text):
            return False
        intent, confidence = latest_intent(tracker)
        if requested_slot == "way_out" and intent in ("human_handoff", "cancel"):
            return False
        if requested_slot == GROUP_ANSWER_SLOT and (
            normalize(text) in NO_GROUP_WORDS
            or groups_in_text(text, get_catalog().groups)
        ):
            return False
        if intent == "cancel" and not CANCEL_WORDS.search(normalize(text)):
            # "ya" or "ya envialo" reads as cancel to the model; only an
            # explicit word stops a request and throws its answers away.
            return False
        if requested_slot == "address" and not check_address(
            text, get_catalog().places
        ):
            return False
        if requested_slot in PLACE_OR_CONTACT_SLOTS and reads_as_place_or_contact(
            text, intent
        ):
            return False
        threshold = INTERRUPTION_CONFIDENCE
        if intent == "report_violence":
            threshold = VIOLENCE_SWITCH_CONFIDENCE
        return intent in self.interruption_intents and confidence >= threshold

    async def get_extraction_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        """Read the answer to the requested slot, and what the first message says."""
        requested = tracker.get_slot("requested_slot")
        text = (tracker.latest_message.get("text") or "").strip()
        location = message_metadata(tracker).get("location")
        extracted: Dict[Text, Any] = {}

        intent, confidence = latest_intent(tracker)
        if (
            intent == "emergency"
            and confidence >= EMERGENCY_WARNING_CONFIDENCE
            and not (
                requested in ("address", "reference")
                and PLACE_REFERENCE.match(normalize(text))
            )
        ):
            dispatcher.utter_message(response="utter_emergency")

        if requested is None:
            extracted.update(self.extract_from_first_message(tracker))
        elif not self.is_interruption(tracker, requested):
            if location and requested == "address":
                extracted["address"] = encode_shared_location(location)
            elif requested == "way_out":
                extracted["way_out"] = self.read_way_out(text, tracker)
            elif text:
                extracted[requested] = text[:MAX_ANSWER_CHARS]
        return [SlotSet(slot, value) for slot, value in extracted.items()]

    def extract_from_first_message(self, tracker: Tracker) -> Dict[Text, Any]:
        """Prefill slots from the message that started the form."""
        intent, _ = latest_intent(tracker)
        if intent not in self.trigger_intents:
            return {}
        text = tracker.latest_message.get("text") or ""
        form_slots = self.form_slots(tracker)
        extracted: Dict[Text, Any] = {}
        if "description" in form_slots and len(normalize(text).split()) >= 5:
            extracted["description"] = text.strip()[:MAX_ANSWER_CHARS]
        pending_location = tracker.get_slot("pending_location")
        if "address" in form_slots and pending_location:
            extracted["address"] = pending_location
        return extracted

    def read_way_out(self, text: Text, tracker: Tracker) -> Optional[Text]:
        intent, _ = latest_intent(tracker)
        option = parse_option(text, 3)
        if option == 1 or intent == "human_handoff":
            return WAY_OUT_HUMAN
        if option == 2 or intent == "cancel":
            return WAY_OUT_CANCEL
        if option == 3:
            return "retry"
        return text or None

    # Validation --------------------------------------------------------------

    async def get_validation_events(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[EventType]:
        """Validate the answers, then keep any photo or video as evidence."""
        events = await super().get_validation_events(dispatcher, tracker, domain)

        media = received_media(tracker)
        if media and self.accepts_attachments:
            current = tracker.get_slot("attachments") or []
            merged = merge_attachments(current, media)
            if len(merged) > len(current):
                dispatcher.utter_message(response="utter_attachment_saved")
                events.append(SlotSet("attachments", merged))
        return events + self.group_options_events(tracker, events)

    accepts_attachments = True

    def invalid(
        self,
        slot: Text,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        response: Text,
        **kwargs: Any,
    ) -> Dict[Text, Any]:
        """Reject an answer with a reply, counting toward the way out."""
        intent, confidence = latest_intent(tracker)
        if intent == "emergency" and confidence >= EMERGENCY_WARNING_CONFIDENCE:
            # The 911 warning was the reply; an emergency is no wrong answer.
            return {slot: None}
        attempts = int(tracker.get_slot("invalid_attempts") or 0) + 1
        if attempts < MAX_INVALID_ATTEMPTS:
            dispatcher.utter_message(response=response, **kwargs)
        logger.debug("Invalid answer for %s (attempt %d)", slot, attempts)
        return {slot: None, "invalid_attempts": attempts}

    @staticmethod
    def valid(values: Dict[Text, Any]) -> Dict[Text, Any]:
        """Accept an answer and reset the count of invalid answers."""
        return {**values, "invalid_attempts": 0}

    def validate_way_out(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if slot_value in ENDING_WAY_OUTS:
            return {"way_out": slot_value}
        if slot_value == "retry":
            dispatcher.utter_message(response="utter_form_continues")
            return {"way_out": None, "invalid_attempts": 0}
        dispatcher.utter_message(response="utter_invalid_option")
        return {"way_out": None}

    def validate_description(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        words = normalize(text).split()
        if len(words) < 2 or parse_option(text, 10) is not None:
            return self.invalid(
                "description", dispatcher, tracker, "utter_invalid_description"
            )
        return self.valid({"description": text})

    def validate_address(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        places = get_catalog().places
        text = str(slot_value or "")

        if text.startswith(LOCATION_PREFIX):
            shared = decode_shared_location(text)
            if not places.contains(shared.latitude, shared.longitude):
                return self.invalid(
                    "address", dispatcher, tracker, "utter_address_outside"
                )
            dispatcher.utter_message(response="utter_location_saved")
            return self.valid(
                {
                    "address": shared.describe(),
                    "latitude": shared.latitude,
                    "longitude": shared.longitude,
                    "pending_location": None,
                    ADDRESS_DRAFT_SLOT: None,
                }
            )

        if mentions_outside_place(text, places):
            return self.invalid("address", dispatcher, tracker, "utter_address_outside")

        text = text.strip()
        draft = tracker.get_slot(ADDRESS_DRAFT_SLOT)
        if draft and completes_address(draft, text, places):
            return self.address_with_landmark(join_address(draft, text), tracker)
        missing = check_address(text, places)
        if missing:
            result = self.invalid(
                "address", dispatcher, tracker, "utter_invalid_address", missing=missing
            )
            if missing in (MISSING_STREET, MISSING_AREA):
                result[ADDRESS_DRAFT_SLOT] = text
            return result
        return self.address_with_landmark(text, tracker)

    def address_with_landmark(self, text: Text, tracker: Tracker) -> Dict[Text, Any]:
        """Accept a complete address, and a landmark written after it.

        "av kabah sm 63 frente al oxxo" fills the address and the reference,
        so the form does not ask for a landmark the citizen already gave.
        """
        values = {"address": text, ADDRESS_DRAFT_SLOT: None}
        address, landmark = split_landmark(text, get_catalog().places)
        if landmark and tracker.get_slot("reference") is None:
            values.update({"address": address, "reference": landmark})
        return self.valid(values)

    def validate_reference(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        text = str(slot_value or "").strip()
        answer = normalize(text).strip(".,")
        if answer in NO_REFERENCE_WORDS or answer in NO_WORDS:
            return self.valid({"reference": "Sin referencia"})
        if PLACE_REFERENCE.match(answer):
            return self.valid({"reference": text})
        intent, _ = latest_intent(tracker)
        if (
            answer in YES_WORDS
            or intent in ("affirm", "thank")
            or BARE_NUMBER.match(text)
        ):
            # "Sí", "ok gracias" or "3" name no landmark.
            return self.invalid(
                "reference", dispatcher, tracker, "utter_invalid_reference"
            )
        return self.valid({"reference": text})

    def validate_confirmation(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        option = parse_option(str(slot_value or ""), 3)
        normalized = normalize(str(slot_value or ""))
        if option is None and (
            normalized in ("enviar", "confirmar", "correcto")
            or SEND_WORDS.search(normalized)
        ):
            option = 1
        if option is None and normalized in ("corregir", "cambiar", "editar"):
            option = 2
        if option is None:
            answer = yes_or_no(slot_value, tracker)
            option = {True: 1, False: None}.get(answer)

        if option == 1:
            return self.valid({"confirmation": CONFIRM_SEND})
        if option == 2:
            dispatcher.utter_message(response="utter_correct_request")
            cleared = {slot: None for slot in self.correctable_slots}
            return self.valid({**cleared, "confirmation": None})
        if option == 3:
            return self.valid({"confirmation": CONFIRM_CANCEL})
        return self.invalid(
            "confirmation", dispatcher, tracker, "utter_invalid_confirmation"
        )

    def validate_group_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        """Read the groups chosen by number or named in words, or none.

        The question is optional: after one answer that cannot be read, the
        form moves on as if the citizen preferred not to say.
        """
        chosen = read_group_answer(
            str(slot_value or ""), self.group_choices(tracker), get_catalog().groups
        )
        if chosen is not None:
            return self.valid({GROUP_ANSWER_SLOT: ",".join(chosen) or NO_GROUP})
        if int(tracker.get_slot("invalid_attempts") or 0) >= 1:
            return self.valid({GROUP_ANSWER_SLOT: NO_GROUP})
        return self.invalid(
            GROUP_ANSWER_SLOT, dispatcher, tracker, "utter_invalid_group_answer"
        )

    def validate_yes_no(
        self, slot: Text, slot_value: Any, dispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        """Validate a slot whose answer is 1 (sí) or 2 (no)."""
        if isinstance(slot_value, bool):
            return self.valid({slot: slot_value})
        answer = yes_or_no(slot_value, tracker)
        if answer is None:
            return self.invalid(slot, dispatcher, tracker, "utter_invalid_yes_no")
        return self.valid({slot: answer})
