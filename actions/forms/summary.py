"""The summary each form shows before the citizen confirms the request."""

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import get_catalog
from actions.text import numbered_list

TITLES = {
    "report_form": "Tu reporte",
    "complaint_form": "Tu denuncia",
    "procedure_form": "Tu solicitud de contacto",
    "advice_form": "Tu solicitud de asesoría",
    "information_form": "Tu pregunta",
    "violence_form": "Tu caso",
}

CONFIRM_OPTIONS = ("Sí, enviar", "Corregir", "Cancelar")


def summary_lines(form: Optional[Text], tracker: Tracker) -> List[Text]:
    """Return one line per answer the form collected, for the citizen to check."""
    catalog = get_catalog()
    slot = tracker.get_slot
    lines: List[Text] = []

    category = catalog.categories.get(slot("category") or "")
    if category is not None:
        lines.append(f"• Tipo: {category.label}")
    procedure = catalog.procedures.get(slot("procedure") or "")
    if procedure is not None:
        lines.append(f"• Trámite: {procedure.name}")
    topic = catalog.advice_topics.get(slot("advice_topic") or "")
    if topic is not None:
        lines.append(f"• Asesoría: {topic.label}")
    if slot("question"):
        lines.append(f"• Pregunta: {slot('question')}")
    if slot("description"):
        lines.append(f"• Qué pasa: {slot('description')}")
    if slot("address"):
        lines.append(f"• Dónde: {slot('address')}")
    if slot("reference") and form != "violence_form":
        lines.append(f"• Referencia: {slot('reference')}")
    if form == "complaint_form" and slot("anonymous") is not None:
        lines.append(f"• Anónima: {'sí' if slot('anonymous') else 'no'}")
    if slot("safe_contact"):
        lines.append(f"• Contacto: {slot('safe_contact')}")
    attachments = slot("attachments") or []
    if attachments and form in ("report_form", "complaint_form", "violence_form"):
        lines.append(f"• Archivos: {len(attachments)}")
    return lines


class AskConfirmation(Action):
    """Shows the request's summary and asks to send, correct or cancel."""

    def name(self) -> Text:
        return "action_ask_confirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        form = tracker.active_loop_name
        title = TITLES.get(form, "Tu solicitud")
        lines = "\n".join(summary_lines(form, tracker))
        dispatcher.utter_message(
            text=f"{title}:\n{lines}\n\n¿Lo envío? Responde con el número:\n"
            + numbered_list(CONFIRM_OPTIONS)
        )
        return []
