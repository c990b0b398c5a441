"""Ending a form: cases created, handoffs recorded, nothing saved on cancel."""

import json

import pytest

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.cases import NewCase, create_case
from actions.conversation import CancelRequest, HumanHandoff, OutOfScope, UnclearMessage
from actions.db.folio import format_folio
from actions.db.models import Case, HandoffRequest
from actions.db import session as db_session
from actions.db.session import session_scope
from actions.forms.status import CheckCaseStatus
from actions.catalog import get_catalog
from actions.submit import SubmitRequest, format_response_time
from tests.support import CITIZEN, make_tracker, run_action, joined_replies

STRANGER = "+529980000000"


def finished(form: str, slots: dict, sender: str = CITIZEN, metadata=None):
    """Tracker right after `form` ended with these slots."""
    events = [
        {"event": "active_loop", "name": form},
        {"event": "active_loop", "name": None},
    ]
    return make_tracker(
        text="1", slots=slots, events=events, sender=sender, metadata=metadata
    )


REPORT_SLOTS = {
    "category": "bache",
    "description": "Bache enorme en el carril de baja",
    "address": "Av. Kabah, SM 64",
    "reference": "frente al Oxxo",
    "confirmation": "send",
    "attachments": [{"url": "https://api.test/Media/ME1", "content_type": "image/jpeg"}],
}


def stored_cases():
    with session_scope() as session:
        return [
            {
                "folio": case.folio,
                "sender": case.sender,
                "department": case.department,
                "priority": case.priority,
                "needs_escalation": case.needs_escalation,
                "attachments": len(case.attachments),
                "request_type": case.request_type,
                "contact": case.contact,
            }
            for case in session.execute(select(Case)).scalars()
        ]


async def test_confirmed_report_creates_case(database):
    slots, replies = await run_action(SubmitRequest(), finished("report_form", REPORT_SLOTS))

    [case] = stored_cases()
    assert case["sender"] == CITIZEN
    assert case["department"] == "obras_publicas"
    assert case["attachments"] == 1
    assert replies[0] == "utter_case_created"
    assert slots["category"] is None
    assert slots["attachments"] is None


async def test_reply_carries_folio_and_department(database):
    tracker = finished("report_form", REPORT_SLOTS)
    dispatcher = CollectingDispatcher()
    await SubmitRequest().run(dispatcher, tracker, {})
    [message] = [m for m in dispatcher.messages if m["response"] == "utter_case_created"]
    [case] = stored_cases()
    assert message["folio"] == case["folio"]
    assert message["department"] == "Obras Públicas"
    sla_hours = get_catalog().categories["bache"].sla_hours
    assert message["response_time"] == format_response_time(sla_hours)


def test_response_time_wording():
    assert format_response_time(1) == "1 hora"
    assert format_response_time(4) == "4 horas"
    assert format_response_time(24) == "1 día"
    assert format_response_time(120) == "5 días"


async def test_cancelled_confirmation_creates_nothing(database):
    slots, replies = await run_action(
        SubmitRequest(),
        finished("report_form", {**REPORT_SLOTS, "confirmation": "cancel"}),
    )
    assert stored_cases() == []
    assert replies == ["utter_cancelled"]


def stored_handoffs():
    with session_scope() as session:
        return [
            {"reason": handoff.reason, "answers": handoff.answers}
            for handoff in session.execute(select(HandoffRequest)).scalars()
        ]


async def test_way_out_to_person_records_handoff(database):
    slots, replies = await run_action(
        SubmitRequest(), finished("report_form", {"way_out": "human"})
    )
    assert len(stored_handoffs()) == 1
    assert stored_cases() == []
    assert replies == ["utter_handoff_recorded"]


async def test_way_out_keeps_answers(database):
    slots = {
        "way_out": "human",
        "category": "bache",
        "description": "hay un hoyo enorme que ya tumbó a dos motos",
        "address_draft": "av tulum",
    }
    await run_action(SubmitRequest(), finished("report_form", slots))
    [handoff] = stored_handoffs()
    assert handoff["reason"] == "sin avance en reporte"
    assert "• Tipo: Bache o calle dañada" in handoff["answers"]
    assert "hay un hoyo enorme" in handoff["answers"]
    assert "• Dónde (incompleto): av tulum" in handoff["answers"]


async def test_violence_case_is_urgent_and_escalated(database):
    slots = {
        "in_danger": False,
        "description": "mi pareja me amenaza",
        "address": "No lo indicó",
        "safe_contact": "por este WhatsApp, en las mañanas",
        "confirmation": "send",
    }
    _, replies = await run_action(SubmitRequest(), finished("violence_form", slots))
    [case] = stored_cases()
    assert case["priority"] == "urgente"
    assert case["needs_escalation"] is True
    assert case["request_type"] == "violencia"
    assert case["contact"] == "por este WhatsApp, en las mañanas"
    assert replies[0] == "utter_violence_case_created"


async def submit_violence_report(description: str) -> dict:
    """Submit a violence form whose description is the only message; return the case."""
    slots = {
        "in_danger": False,
        "description": description,
        "address": "No lo indicó",
        "safe_contact": "por este WhatsApp",
        "confirmation": "send",
    }
    tracker = finished("violence_form", slots)
    tracker.events.insert(0, {"event": "user", "text": description})
    await run_action(SubmitRequest(), tracker)
    [case] = stored_cases()
    return case


@pytest.mark.parametrize(
    "description, department",
    [
        ("mi padrastro abusa de mi hermanita, tiene 9 años", "dif"),
        ("mi esposo me golpea", "instituto_mujer"),
    ],
)
async def test_violence_routed_by_victim(database, description, department):
    case = await submit_violence_report(description)
    assert case["department"] == department
    assert case["priority"] == "urgente"


async def test_procedure_without_contact_creates_nothing(database):
    _, replies = await run_action(
        SubmitRequest(),
        finished("procedure_form", {"procedure": "predial", "wants_contact": False}),
    )
    assert stored_cases() == []
    assert replies == ["utter_request_not_sent"]


async def test_store_failure_keeps_request(database, tmp_path, monkeypatch):
    spool = tmp_path / "unsaved.jsonl"
    monkeypatch.setenv("UNSAVED_REQUESTS_PATH", str(spool))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    db_session.reset_engine()
    _, replies = await run_action(SubmitRequest(), finished("report_form", REPORT_SLOTS))

    assert replies == ["utter_store_unavailable"]
    [line] = spool.read_text("utf-8").splitlines()
    record = json.loads(line)
    assert record["description"] == REPORT_SLOTS["description"]
    assert record["media"][0]["url"] == "https://api.test/Media/ME1"
    assert spool.stat().st_mode & 0o077 == 0


def create_for(sender: str) -> str:
    with session_scope() as session:
        return create_case(
            session,
            NewCase(
                request_type="reporte",
                category="basura",
                department="siresol",
                sender=sender,
                sla_hours=48,
                description="No ha pasado el camión",
            ),
        ).folio


async def test_status_shown_only_to_owner(database):
    folio = create_for(CITIZEN)

    _, replies = await run_action(
        SubmitRequest(), finished("status_form", {"folio": folio})
    )
    assert folio in joined_replies(replies)
    assert "Estado" in joined_replies(replies)

    _, replies = await run_action(
        SubmitRequest(), finished("status_form", {"folio": folio}, sender=STRANGER)
    )
    assert replies == ["utter_case_not_found"]


async def test_status_of_unknown_folio_reads_like_strangers(database):
    create_for(CITIZEN)
    unknown = format_folio(2026, 99999)
    _, replies = await run_action(
        SubmitRequest(), finished("status_form", {"folio": unknown})
    )
    assert replies == ["utter_case_not_found"]


async def test_followup_mid_form_lists_open_cases(database):
    first, second = create_for(CITIZEN), create_for(CITIZEN)
    create_for(STRANGER)
    tracker = make_tracker(text="como van mis reportes", intent="check_case_status")
    _, replies = await run_action(CheckCaseStatus(), tracker)
    text = joined_replies(replies)
    assert text.index(second) < text.index(first)
    assert text.count("CUN-") == 2


async def test_cancel_without_form():
    _, replies = await run_action(CancelRequest(), make_tracker(text="cancelar"))
    assert replies == ["utter_nothing_to_cancel"]


async def test_handoff_mid_form_keeps_form(database):
    tracker = make_tracker(
        text="quiero hablar con alguien", intent="human_handoff", active_loop="report_form"
    )
    slots, replies = await run_action(HumanHandoff(), tracker)
    assert replies == ["utter_handoff_recorded", "utter_form_continues"]
    assert slots == {}


async def test_violence_handoff_stores_case(database):
    slots = {"requested_slot": "address", "in_danger": False, "description": "mi pareja me amenaza"}
    tracker = make_tracker(
        text="quiero hablar con alguien ya",
        intent="human_handoff",
        active_loop="violence_form",
        slots=slots,
    )
    events_slots, replies = await run_action(HumanHandoff(), tracker)
    [case] = stored_cases()
    assert case["request_type"] == "violencia"
    assert case["department"] == "instituto_mujer"
    assert case["priority"] == "urgente"
    assert case["needs_escalation"] is True
    assert replies == ["utter_violence_handoff"]
    assert events_slots["requested_slot"] is None
    assert stored_handoffs() == []


async def test_violence_way_out_stores_case(database):
    slots = {"way_out": "human", "in_danger": True, "description": "me quiere pegar"}
    _, replies = await run_action(SubmitRequest(), finished("violence_form", slots))
    [case] = stored_cases()
    assert case["request_type"] == "violencia"
    assert replies == ["utter_violence_handoff"]


async def test_off_topic_answered_from_catalog():
    tracker = make_tracker(
        text="cuanto cuesta el acta de nacimiento", intent="out_of_scope"
    )
    _, replies = await run_action(OutOfScope(), tracker)
    assert "Actas del Registro Civil" in replies[0]
    assert replies[1] == "utter_anything_else"


async def test_off_topic_in_form_keeps_form():
    tracker = make_tracker(
        text="oye y el telefono de la cfe?", intent="out_of_scope", active_loop="report_form"
    )
    _, replies = await run_action(OutOfScope(), tracker)
    assert replies == [get_catalog().departments["cfe"].contact_card()]


async def test_off_topic_loose_word_declined():
    tracker = make_tracker(text="cual es tu numero favorito", intent="out_of_scope")
    _, replies = await run_action(OutOfScope(), tracker)
    assert replies == ["utter_out_of_scope_menu"]


async def test_off_topic_in_form_declined_without_menu():
    tracker = make_tracker(
        text="quien gano el partido", intent="out_of_scope", active_loop="report_form"
    )
    _, replies = await run_action(OutOfScope(), tracker)
    assert replies == ["utter_out_of_scope"]


async def test_photo_outside_form_is_kept_and_offered():
    media = [{"url": "https://api.test/Media/ME9", "content_type": "image/jpeg"}]
    tracker = make_tracker(text="", intent="nlu_fallback", metadata={"media": media})
    slots, replies = await run_action(UnclearMessage(), tracker)
    assert slots["attachments"][0]["url"] == "https://api.test/Media/ME9"
    assert "foto" in joined_replies(replies)
    assert "*1*" in joined_replies(replies)


async def test_words_not_understood_get_menu():
    tracker = make_tracker(text="asdfgh", intent="nlu_fallback")
    _, replies = await run_action(UnclearMessage(), tracker)
    assert replies == ["utter_menu"]


async def test_violence_case_hidden_from_listing_and_notes(database):
    slots = {
        "in_danger": True,
        "description": "mi pareja me amenaza",
        "address": "No lo indicó",
        "safe_contact": "por este WhatsApp",
        "confirmation": "send",
    }
    await run_action(SubmitRequest(), finished("violence_form", slots))
    [case] = stored_cases()

    tracker = make_tracker(text="como van mis casos", intent="check_case_status")
    _, replies = await run_action(CheckCaseStatus(), tracker)
    assert replies == ["utter_no_open_cases"]

    _, replies = await run_action(
        SubmitRequest(), finished("status_form", {"folio": case["folio"]})
    )
    assert "Estado" in joined_replies(replies)
    assert "Nota" not in joined_replies(replies)
    assert "peligro" not in joined_replies(replies)
