"""The questions the forms ask with numbered options, and the menu actions."""

from actions.cases import NewCase, create_case
from actions.conversation import CancelRequest, Help, ResetRequest
from actions.db.session import session_scope
from actions.forms.reports import AskCategory, AskComplaintCategory
from actions.forms.services import AskAdviceTopic, AskProcedure
from actions.forms.status import AskFolio
from actions.forms.summary import AskConfirmation
from tests.support import CITIZEN, make_tracker, run_action


async def test_report_categories_numbered():
    _, replies = await run_action(AskCategory(), make_tracker())
    lines = replies[0].splitlines()
    assert lines[0].startswith("¿Qué tipo de falla")
    assert lines[1].startswith("1. ")
    assert lines[-1].startswith("10. ")


async def test_complaint_categories_numbered():
    _, replies = await run_action(AskComplaintCategory(), make_tracker())
    assert replies[0].splitlines()[-1].startswith("7. ")


async def test_procedures_and_topics_numbered():
    _, procedures = await run_action(AskProcedure(), make_tracker())
    _, topics = await run_action(AskAdviceTopic(), make_tracker())
    assert "1. " in procedures[0]
    assert "6. " in topics[0]


async def test_confirmation_summary_lists_answers():
    tracker = make_tracker(
        slots={
            "category": "bache",
            "description": "bache enorme",
            "address": "Av. Kabah, SM 64",
            "reference": "frente al Oxxo",
            "attachments": [{"url": "https://api.test/Media/ME1"}],
        },
        active_loop="report_form",
    )
    _, replies = await run_action(AskConfirmation(), tracker)
    summary = replies[0]
    assert summary.startswith("Tu reporte:")
    assert "• Qué pasa: bache enorme" in summary
    assert "• Dónde: Av. Kabah, SM 64" in summary
    assert "• Archivos: 1" in summary
    assert summary.endswith("1. Sí, enviar\n2. Corregir\n3. Cancelar")


async def test_ask_folio_offers_open_cases(database):
    with session_scope() as session:
        folio = create_case(
            session,
            NewCase(
                request_type="reporte",
                category="agua",
                department="aguakan",
                sender=CITIZEN,
                sla_hours=24,
            ),
        ).folio
    _, replies = await run_action(AskFolio(), make_tracker())
    assert f"1. {folio}" in replies[0]

    _, replies = await run_action(AskFolio(), make_tracker(sender="+529980000001"))
    assert "CUN-26-000124" in replies[0]
    assert folio not in replies[0]


async def test_help_depends_on_open_form():
    _, outside = await run_action(Help(), make_tracker(text="ayuda"))
    _, inside = await run_action(Help(), make_tracker(text="ayuda", active_loop="report_form"))
    assert outside == ["utter_menu"]
    assert inside == ["utter_help_in_form"]


async def test_reset_keeps_files_sent_before():
    tracker = make_tracker(
        slots={"category": "bache", "attachments": [{"url": "u"}]},
        active_loop="complaint_form",
    )
    slots, _ = await run_action(ResetRequest(), tracker)
    assert slots["category"] is None
    assert "attachments" not in slots


async def test_cancel_open_form_clears_everything():
    tracker = make_tracker(
        text="cancelar",
        intent="cancel",
        slots={"category": "bache", "attachments": [{"url": "u"}]},
        active_loop="report_form",
    )
    slots, replies = await run_action(CancelRequest(), tracker)
    assert replies == ["utter_cancelled"]
    assert slots["category"] is None
    assert slots["attachments"] is None
    assert slots["requested_slot"] is None
